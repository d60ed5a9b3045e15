import type { Provider } from 'ethers'
import type { EntityManager } from 'typeorm'
import { AuditAnchorEntity, type AuditAnchorRow } from './audit-anchor.entity.js'
import { AuditEventEntity } from './audit-event.entity.js'
import { AUDIT_HEAD_ID, AuditHeadEntity } from './audit-head.entity.js'
import { anchorValue, checkAnchorOnChain } from './anchor-record.js'
import { anchorsOnChain } from './chain-history.js'
import { GENESIS_HASH, eventHash } from './event-hash.js'
import { merkleRoot } from './merkle.js'
import { fromRow } from './new-event.js'

/** Which check a problem comes from; the first problem found is the first break in the trail. */
export type TrailCheck =
  | 'sequence-gap' // events missing (deleted) from the sequence
  | 'event-hash' // an event's content no longer matches its stored hash (edited)
  | 'chain-link' // an event's prevHash is not the previous event's hash (edited and re-hashed, or reordered)
  | 'head' // the chain's end disagrees with the head row (events removed from the end)
  | 'batch-range' // batches do not tile the sequence from 1 without gaps or overlaps
  | 'batch-root' // a batch's root is not the root of its events
  | 'anchor' // an anchored root is not on chain as recorded
  | 'anchor-did' // a batch was anchored by another DID than the audit DID
  | 'anchor-history' // the chain holds an anchor the database lacks, or its history cannot be read

export interface TrailProblem {
  check: TrailCheck
  /** The event where the break is, when it is one event. */
  seq?: number
  batch?: { fromSeq: number; toSeq: number }
  detail: string
}

export interface TrailReport {
  ok: boolean
  /** Events read and checked. */
  events: number
  /** The last sequence number according to the head row. */
  lastSeq: number
  batches: { anchored: number; pending: number }
  /** Events after the last batch, not yet cut into one (normal: they wait for the next anchoring). */
  unbatched: number
  /** The DID whose registry attributes carry the roots. */
  did: string | null
  /** Every problem found, in the order found (sequence order for the hash chain); at most MAX_PROBLEMS. */
  problems: TrailProblem[]
  firstBreak?: TrailProblem
}

const MAX_PROBLEMS = 100

export interface VerifyTrailOptions {
  manager: EntityManager
  provider: Provider
  registry: string
  /** The audit DID to insist on; default: the DID of the first anchored batch. */
  expectedDid?: string
  pageSize?: number
}

/**
 * Re-walks the whole audit trail: every event's hash and its link to the one before, the sequence without
 * gaps up to the head, every batch's root recomputed, every anchored root found on chain as recorded, and
 * every anchor the audit DID ever set on chain known to the database. Reads the database and the chain
 * only (safe while the service runs: it stops at the head it read first). Throws when the chain does not
 * answer: "cannot check" is not "intact".
 */
export async function verifyAuditTrail(opts: VerifyTrailOptions): Promise<TrailReport> {
  const problems: TrailProblem[] = []
  const report = (p: TrailProblem) => {
    if (problems.length < MAX_PROBLEMS) problems.push(p)
  }
  const head = await opts.manager.getRepository(AuditHeadEntity).findOneByOrFail({ id: AUDIT_HEAD_ID })
  const batches = (await opts.manager.getRepository(AuditAnchorEntity).find({ order: { fromSeq: 'ASC' } })).filter(
    (b) => b.fromSeq <= head.lastSeq, // cut after the head was read
  )
  checkBatchRanges(batches, head.lastSeq, report)

  const walked = await walkEvents(opts, head.lastSeq, batches, report)
  if (walked.lastSeq < head.lastSeq) {
    report({
      check: 'sequence-gap',
      seq: walked.lastSeq + 1,
      detail: `events ${range(walked.lastSeq + 1, head.lastSeq)} are missing: the head says the trail ends at ${head.lastSeq}`,
    })
  } else if (walked.lastHash !== head.lastHash) {
    report({ check: 'head', seq: head.lastSeq, detail: `the head row's hash ${head.lastHash} is not event ${head.lastSeq}'s hash ${walked.lastHash}` })
  }

  const anchored = batches.filter((b) => b.status === 'anchored')
  const did = opts.expectedDid ?? anchored[0]?.did ?? null
  for (const b of anchored) await checkAnchor(opts, b, did!, report)
  if (did) await checkHistory(opts, did, batches, report)

  return {
    ok: problems.length === 0,
    events: walked.count,
    lastSeq: head.lastSeq,
    batches: { anchored: anchored.length, pending: batches.length - anchored.length },
    unbatched: head.lastSeq - (batches.at(-1)?.toSeq ?? 0),
    did,
    problems,
    firstBreak: problems[0],
  }
}

function range(from: number, to: number): string {
  return from === to ? `${from}` : `${from}–${to}`
}

function checkBatchRanges(batches: AuditAnchorRow[], lastSeq: number, report: (p: TrailProblem) => void): void {
  let next = 1
  let pendingSeen = false
  for (const b of batches) {
    const batch = { fromSeq: b.fromSeq, toSeq: b.toSeq }
    if (b.fromSeq !== next || b.toSeq < b.fromSeq || b.toSeq > lastSeq) {
      report({ check: 'batch-range', batch, detail: `batch ${range(b.fromSeq, b.toSeq)} should start at ${next} and end by ${lastSeq}` })
    }
    if (b.status === 'anchored' && pendingSeen) {
      report({ check: 'batch-range', batch, detail: `batch ${range(b.fromSeq, b.toSeq)} is anchored while an earlier batch is not` })
    }
    pendingSeen ||= b.status !== 'anchored'
    next = b.toSeq + 1
  }
}

/** Streams events in pages, checking each hash and link, and recomputing each batch's root on the way. */
async function walkEvents(
  opts: VerifyTrailOptions,
  lastSeq: number,
  batches: AuditAnchorRow[],
  report: (p: TrailProblem) => void,
): Promise<{ count: number; lastSeq: number; lastHash: string }> {
  const pageSize = opts.pageSize ?? 1000
  let expected = 1
  let prevHash = GENESIS_HASH
  let count = 0
  let b = 0
  let leaves: string[] = []
  const closeBatch = () => {
    const batch = batches[b]
    const size = batch.toSeq - batch.fromSeq + 1
    const where = { fromSeq: batch.fromSeq, toSeq: batch.toSeq }
    if (leaves.length !== size) {
      report({ check: 'batch-root', batch: where, detail: `batch ${range(batch.fromSeq, batch.toSeq)} has ${leaves.length} of its ${size} events` })
    } else if (merkleRoot(leaves) !== batch.root) {
      report({ check: 'batch-root', batch: where, detail: `batch ${range(batch.fromSeq, batch.toSeq)}'s events have root ${merkleRoot(leaves)}, not the recorded ${batch.root}` })
    }
    leaves = []
    b++
  }
  for (let after = 0; ; ) {
    const rows = await opts.manager
      .getRepository(AuditEventEntity)
      .createQueryBuilder('e')
      .where('e.seq > :after AND e.seq <= :last', { after, last: lastSeq })
      .orderBy('e.seq', 'ASC')
      .limit(pageSize)
      .getMany()
    for (const e of rows.map(fromRow)) {
      count++
      if (e.seq > expected) {
        report({ check: 'sequence-gap', seq: expected, detail: `events ${range(expected, e.seq - 1)} are missing: event ${e.seq} follows event ${expected - 1}` })
      } else if (e.prevHash !== prevHash) {
        report({ check: 'chain-link', seq: e.seq, detail: `event ${e.seq}'s prevHash ${e.prevHash} is not event ${e.seq - 1}'s hash ${prevHash}` })
      }
      const recomputed = /^[0-9a-f]{64}$/.test(e.prevHash) ? eventHash(e, e.prevHash) : 'unreadable prevHash'
      if (recomputed !== e.hash) {
        report({ check: 'event-hash', seq: e.seq, detail: `event ${e.seq} was changed: its content hashes to ${recomputed}, its stored hash is ${e.hash}` })
      }
      while (b < batches.length && e.seq > batches[b].toSeq) closeBatch()
      if (b < batches.length && e.seq >= batches[b].fromSeq) leaves.push(e.hash)
      // go on from the stored hash: one edited event is one problem, not a cascade to the end
      prevHash = e.hash
      expected = e.seq + 1
    }
    if (rows.length < pageSize) break
    after = rows[rows.length - 1].seq
  }
  while (b < batches.length) closeBatch()
  return { count, lastSeq: expected - 1, lastHash: prevHash }
}

async function checkAnchor(opts: VerifyTrailOptions, b: AuditAnchorRow, did: string, report: (p: TrailProblem) => void): Promise<void> {
  const batch = { fromSeq: b.fromSeq, toSeq: b.toSeq }
  if (b.did !== did) {
    report({ check: 'anchor-did', batch, detail: `batch ${range(b.fromSeq, b.toSeq)} was anchored by ${b.did}, not the audit DID ${did}` })
    return
  }
  if (!b.txHash || b.blockNumber === null) {
    report({ check: 'anchor', batch, detail: `batch ${range(b.fromSeq, b.toSeq)} is marked anchored but has no transaction` })
    return
  }
  const result = await checkAnchorOnChain(opts.provider, {
    registry: opts.registry,
    did,
    txHash: b.txHash,
    blockNumber: b.blockNumber,
    fromSeq: b.fromSeq,
    toSeq: b.toSeq,
    root: b.root,
  })
  if (!result.ok) report({ check: 'anchor', batch, detail: `batch ${range(b.fromSeq, b.toSeq)}: ${result.detail}` })
}

async function checkHistory(opts: VerifyTrailOptions, did: string, batches: AuditAnchorRow[], report: (p: TrailProblem) => void) {
  const known = new Set(batches.map((b) => anchorValue(b)))
  const history = await anchorsOnChain(opts.provider, opts.registry, did)
  for (const a of history.anchors) {
    if (!known.has(anchorValue(a))) {
      report({
        check: 'anchor-history',
        batch: { fromSeq: a.fromSeq, toSeq: a.toSeq },
        detail: `the chain holds an anchor the database lacks: ${anchorValue(a)} (tx ${a.txHash}, block ${a.blockNumber})`,
      })
    }
  }
  if (!history.complete) {
    report({ check: 'anchor-history', detail: `the node could not return all of ${did}'s registry history (pruned?); anchors may be missing` })
  }
}
