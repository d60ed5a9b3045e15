/**
 * Tees everything this process writes to stdout and stderr into `lines` (the service's logs included)
 * until `restore()`: for tests that search a whole run's output for what must never be logged.
 */
export function captureOutput(): { lines: string[]; restore(): void } {
  const lines: string[] = []
  const originals = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) }
  process.stdout.write = ((chunk: unknown, ...rest: never[]) => (lines.push(String(chunk)), originals.out(chunk as string, ...rest))) as typeof process.stdout.write
  process.stderr.write = ((chunk: unknown, ...rest: never[]) => (lines.push(String(chunk)), originals.err(chunk as string, ...rest))) as typeof process.stderr.write
  return {
    lines,
    restore() {
      process.stdout.write = originals.out
      process.stderr.write = originals.err
    },
  }
}
