import type { EntityManager } from 'typeorm'
import type { Database } from '../db/database.js'
import { AuditAnchorEntity, type AuditAnchorRow } from './audit-anchor.entity.js'
import { AuditEventEntity } from './audit-event.entity.js'
import { AUDIT_HEAD_ID, AuditHeadEntity } from './audit-head.entity.js'
import { GENESIS_HASH, hashMatches } from './event-hash.js'
import { merkleRoot } from './merkle.js'
import { fromRow } from './new-event.js'

export interface BatchRule {
  /** Cut a batch once this many events wait (and never cut a larger one). */
  every: number
  /** Cut a batch once the oldest waiting event is this old. */
  seconds: number
}

/** Thrown instead of anchoring a range whose events do not verify: a broken chain is never anchored. */
export class AuditChainBroken extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'AuditChainBroken'
  }
}

async function lastBatchedSeq(m: EntityManager): Promise<number> {
  const [row] = await m.query(`SELECT MAX("toSeq") AS "max" FROM "medcred_audit_anchor"`)
  return Number(row?.max ?? 0)
}

/**
 * Cuts the next batch when the rule says so: the events right after the last batch, at most `every` of them,
 * verified link by link, their Merkle root recorded as a pending anchor. Batches only ever start right
 * after the previous one (the primary key `fromSeq` stops two replicas cutting the same start), so no event
 * is ever left out. Returns the new batch, or undefined when none is due.
 */
export async function cutNextBatch(db: Database, rule: BatchRule, now: Date): Promise<AuditAnchorRow | undefined> {
  return db.transaction(async (m) => {
    const after = await lastBatchedSeq(m)
    const head = await m.getRepository(AuditHeadEntity).findOneByOrFail({ id: AUDIT_HEAD_ID })
    const waiting = head.lastSeq - after
    if (waiting <= 0) return undefined
    const events = m.getRepository(AuditEventEntity)
    if (waiting < rule.every) {
      const oldest = await events.findOneBy({ seq: after + 1 })
      if (oldest && now.getTime() - Date.parse(oldest.time) < rule.seconds * 1000) return undefined
    }
    const toSeq = Math.min(head.lastSeq, after + rule.every)
    const rows = await events
      .createQueryBuilder('e')
      .where('e.seq >= :from AND e.seq <= :to', { from: Math.max(after, 1), to: toSeq })
      .orderBy('e.seq', 'ASC')
      .getMany()
    const hashes = verifiedHashes(rows.map(fromRow), after, toSeq)
    const batch: AuditAnchorRow = {
      fromSeq: after + 1,
      toSeq,
      root: merkleRoot(hashes),
      status: 'pending',
      did: null,
      txHash: null,
      blockNumber: null,
      createdAt: now.toISOString(),
      anchoredAt: null,
      attempts: 0,
      lastError: null,
      leaseOwner: null,
      leaseUntil: null,
    }
    await m.getRepository(AuditAnchorEntity).insert(batch)
    return batch
  })
}

/** The hashes of events after..toSeq, after checking each one's hash and its link to the one before. */
function verifiedHashes(events: ReturnType<typeof fromRow>[], after: number, toSeq: number): string[] {
  let prevHash = GENESIS_HASH
  let i = 0
  if (after > 0) {
    if (events[0]?.seq !== after) throw new AuditChainBroken(`audit event ${after} is missing`)
    prevHash = events[0].hash
    i = 1
  }
  const hashes: string[] = []
  for (let seq = after + 1; seq <= toSeq; seq++, i++) {
    const e = events[i]
    if (e?.seq !== seq) throw new AuditChainBroken(`audit event ${seq} is missing`)
    if (e.prevHash !== prevHash) throw new AuditChainBroken(`audit event ${seq} does not link to event ${seq - 1}`)
    if (!hashMatches(e)) throw new AuditChainBroken(`audit event ${seq} does not match its hash`)
    hashes.push(e.hash)
    prevHash = e.hash
  }
  return hashes
}
