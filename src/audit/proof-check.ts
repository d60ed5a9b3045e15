import type { Provider } from 'ethers'
import { checkAnchorOnChain } from './anchor-record.js'
import { eventHash } from './event-hash.js'
import { verifyInclusion } from './merkle.js'
import type { EventProof } from './read.js'

export type ProofVerdict =
  | { ok: true; txHash: string; blockNumber: number }
  | { ok: false; check: 'not-anchored' | 'event-hash' | 'inclusion' | 'chain' | 'anchor'; detail: string }

/**
 * Checks one event against the chain with nothing but the proof document (GET /audit/events/{seq}/proof)
 * and a provider: the event hashes to its `hash`, the proof leads from that hash to the batch root, and the
 * anchoring transaction sets that root for that range on the audit DID in the registry.
 *
 * The document names the registry and DID; a verifier that knows them independently passes them in
 * `trusted`, so a forged document cannot point at a look-alike anchored by someone else.
 */
export async function verifyEventProof(
  doc: EventProof,
  provider: Provider,
  trusted: { registry?: string; did?: string } = {},
): Promise<ProofVerdict> {
  const { event, proof, anchor } = doc
  if (!anchor || anchor.status !== 'anchored' || !proof || !anchor.txHash || anchor.blockNumber === null || !anchor.did) {
    return { ok: false, check: 'not-anchored', detail: `event ${event.seq} is not in an anchored batch yet` }
  }
  if (eventHash(event, event.prevHash) !== event.hash) {
    return { ok: false, check: 'event-hash', detail: `event ${event.seq}'s content does not hash to ${event.hash}` }
  }
  if (event.seq < anchor.fromSeq || event.seq > anchor.toSeq || !verifyInclusion(event.hash, proof, anchor.root)) {
    return { ok: false, check: 'inclusion', detail: `the proof does not lead from event ${event.seq} to root ${anchor.root}` }
  }
  const { chainId } = await provider.getNetwork()
  if (Number(chainId) !== anchor.chainId) {
    return { ok: false, check: 'chain', detail: `the provider is on chain ${chainId}, the anchor on chain ${anchor.chainId}` }
  }
  const onChain = await checkAnchorOnChain(provider, {
    registry: trusted.registry ?? anchor.registry,
    did: trusted.did ?? anchor.did,
    txHash: anchor.txHash,
    blockNumber: anchor.blockNumber,
    fromSeq: anchor.fromSeq,
    toSeq: anchor.toSeq,
    root: anchor.root,
  })
  if (!onChain.ok) return { ok: false, check: 'anchor', detail: onChain.detail }
  return { ok: true, txHash: anchor.txHash, blockNumber: anchor.blockNumber }
}
