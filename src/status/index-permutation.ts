import { createHmac } from 'node:crypto'

/**
 * Maps the n-th allocation of a status list to its index through a keyed permutation of [0, 2^bits):
 * every index is used exactly once, but without the list's secret key the order reveals neither
 * issuance order nor volume. A balanced Feistel network over the next even bit width, cycle-walking
 * back into range.
 */
export function permutedIndex(counter: number, bits: number, key: Buffer): number {
  const size = 2 ** bits
  if (!Number.isInteger(counter) || counter < 0 || counter >= size) throw new RangeError(`counter ${counter} out of range`)
  const half = Math.ceil(bits / 2)
  let x = counter
  do {
    x = feistel(x, half, key)
  } while (x >= size)
  return x
}

function feistel(x: number, half: number, key: Buffer): number {
  const mask = 2 ** half - 1
  let left = Math.floor(x / 2 ** half) & mask
  let right = x & mask
  for (let round = 0; round < 4; round++) {
    const f = createHmac('sha256', key).update(`${round}:${right}`).digest().readUInt32BE(0) & mask
    ;[left, right] = [right, (left ^ f) & mask]
  }
  return left * 2 ** half + right
}
