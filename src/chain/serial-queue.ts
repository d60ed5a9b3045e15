/**
 * Runs tasks one at a time, in order. Used per transaction sender so that each transaction reads
 * its nonce only after the previous one is mined.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve()

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task)
    this.tail = result.catch(() => undefined)
    return result
  }
}
