import type { EntityManager } from 'typeorm'
import type { Database } from '../db/database.js'
import type { AuditEventRow } from './audit-event.entity.js'
import { AUDIT_HEAD_ID } from './audit-head.entity.js'
import { eventHash } from './event-hash.js'
import { checkNewEvent, toAuditEvent, toRow } from './new-event.js'
import type { ChainedAuditEvent, NewAuditEvent } from './types.js'

/**
 * The only way events enter the audit trail. Call it with the `manager` of the transaction that makes
 * the change the events record (`db.transaction(async (m) => { …change…; await appendAuditEvents(db, m, [e]) })`):
 * the change and its events then commit together or not at all.
 *
 * Sequence numbers come from the head row, locked here (`FOR UPDATE` on PostgreSQL; SQLite's write
 * queue already runs one transaction at a time) until the caller's transaction ends. So numbers are
 * gap-free across replicas, and a transaction that rolls back hands its numbers back. Every audited write
 * waits for that lock: call this as the transaction's last statement, which keeps the lock short and
 * always taken last (no lock-order deadlocks with other row locks the transaction holds). Several events
 * (a group commit) read and move the head once.
 *
 * Throws (rolling the caller back) when called outside a transaction or with a malformed event.
 */
export async function appendAuditEvents(db: Database, manager: EntityManager, inputs: NewAuditEvent[]): Promise<ChainedAuditEvent[]> {
  if (!manager.queryRunner?.isTransactionActive) {
    throw new Error('appendAuditEvent needs the manager of an open transaction (db.transaction), not db.manager')
  }
  const events = inputs.map(checkNewEvent)
  const heads = await db.run<{ lastSeq: number | string; lastHash: string }>(manager, db.isPostgres ? SELECT_HEAD_LOCKED : SELECT_HEAD, [AUDIT_HEAD_ID])
  if (heads.length !== 1) throw new Error('the audit head row is missing: the audit migration has not run')
  let seq = Number(heads[0].lastSeq)
  let prevHash = heads[0].lastHash
  const time = new Date().toISOString()
  const appended: ChainedAuditEvent[] = []
  for (const event of events) {
    seq += 1
    const chained = toAuditEvent(event, seq, time)
    const hash = eventHash(chained, prevHash)
    const row = toRow(chained, prevHash, hash)
    await db.run(manager, INSERT_EVENT, EVENT_COLUMNS.map((c) => row[c]))
    appended.push({ ...chained, prevHash, hash })
    prevHash = hash
  }
  await db.run(manager, UPDATE_HEAD, [seq, prevHash, AUDIT_HEAD_ID])
  return appended
}

/** One event: see {@link appendAuditEvents}. */
export async function appendAuditEvent(db: Database, manager: EntityManager, input: NewAuditEvent): Promise<ChainedAuditEvent> {
  return (await appendAuditEvents(db, manager, [input]))[0]
}

/*
 * Plain SQL, prepared once on SQLite: every audited write pays for these statements, and going through
 * TypeORM's repository API (or even its query building) costs more than the writes themselves.
 */
const EVENT_COLUMNS = [
  'seq', 'time', 'actorType', 'actorId', 'actorDid', 'action', 'subjectType', 'subjectId',
  'subjectIssuerInstitutionId', 'outcome', 'requestId', 'detail', 'prevHash', 'hash',
] as const satisfies ReadonlyArray<keyof AuditEventRow>
const INSERT_EVENT =
  `INSERT INTO "medcred_audit_event" (${EVENT_COLUMNS.map((c) => `"${c}"`).join(', ')}) ` +
  `VALUES (${EVENT_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})`
const SELECT_HEAD = `SELECT "lastSeq", "lastHash" FROM "medcred_audit_head" WHERE "id" = $1`
const SELECT_HEAD_LOCKED = `${SELECT_HEAD} FOR UPDATE`
const UPDATE_HEAD = `UPDATE "medcred_audit_head" SET "lastSeq" = $1, "lastHash" = $2 WHERE "id" = $3`
