import { createHash } from 'node:crypto'

/** One step from a node up to the root: the sibling's hash and which side of the pair it sits on. */
export interface ProofStep {
  sibling: string
  position: 'left' | 'right'
}

/*
 * The tree (pure functions, no I/O):
 * - leaf  = sha256(0x00 ‖ eventHash), node = sha256(0x01 ‖ left ‖ right), as in RFC 6962, so that a leaf
 *   can never be passed off as an inner node (second-preimage);
 * - on a level with an odd number of nodes the last one is carried up unchanged. Duplicating it instead
 *   (Bitcoin's rule) lets two different leaf lists share a root (CVE-2012-2459).
 * All hashes are 64-character lower-case hex.
 */

const HEX32 = /^[0-9a-f]{64}$/

function sha256(...parts: Buffer[]): string {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return h.digest('hex')
}

function leafHash(eventHash: string): string {
  return sha256(Buffer.from([0]), Buffer.from(eventHash, 'hex'))
}

function nodeHash(left: string, right: string): string {
  return sha256(Buffer.from([1]), Buffer.from(left, 'hex'), Buffer.from(right, 'hex'))
}

function checkHex(hashes: readonly string[]): void {
  for (const h of hashes) if (!HEX32.test(h)) throw new Error(`not a 64-character lower-case hex hash: ${h}`)
}

function nextLevel(level: string[]): string[] {
  const up: string[] = []
  for (let i = 0; i < level.length; i += 2) up.push(i + 1 < level.length ? nodeHash(level[i], level[i + 1]) : level[i])
  return up
}

/** The Merkle root over `eventHashes`, in order. A batch is never empty. */
export function merkleRoot(eventHashes: readonly string[]): string {
  if (eventHashes.length === 0) throw new Error('a Merkle tree needs at least one leaf')
  checkHex(eventHashes)
  let level = eventHashes.map(leafHash)
  while (level.length > 1) level = nextLevel(level)
  return level[0]
}

/** The inclusion proof of the leaf at `index` (0-based within the batch). */
export function merkleProof(eventHashes: readonly string[], index: number): ProofStep[] {
  if (!Number.isInteger(index) || index < 0 || index >= eventHashes.length) {
    throw new Error(`leaf index ${index} is outside a batch of ${eventHashes.length}`)
  }
  checkHex(eventHashes)
  const proof: ProofStep[] = []
  let level = eventHashes.map(leafHash)
  let i = index
  while (level.length > 1) {
    const sibling = i % 2 === 0 ? i + 1 : i - 1
    // a carried-up last node has no sibling on this level: nothing to record
    if (sibling < level.length) proof.push({ sibling: level[sibling], position: i % 2 === 0 ? 'right' : 'left' })
    level = nextLevel(level)
    i = Math.floor(i / 2)
  }
  return proof
}

/**
 * True when `proof` leads from `eventHash` to `root`. Needs nothing but its arguments, so anyone holding an
 * event, its proof and the root read from the chain can check the event was in the anchored batch.
 */
export function verifyInclusion(eventHash: string, proof: readonly ProofStep[], root: string): boolean {
  if (!HEX32.test(eventHash) || !HEX32.test(root) || !Array.isArray(proof)) return false
  let node = leafHash(eventHash)
  for (const step of proof) {
    if (!step || !HEX32.test(step.sibling) || (step.position !== 'left' && step.position !== 'right')) return false
    node = step.position === 'left' ? nodeHash(step.sibling, node) : nodeHash(node, step.sibling)
  }
  return node === root
}
