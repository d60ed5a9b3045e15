import type { EntityManager } from 'typeorm'
import type { AuditEventRow } from './audit-event.entity.js'
import { AUDIT_HEAD_ID } from './audit-head.entity.js'
import { eventHash } from './event-hash.js'
import { checkNewEvent, toAuditEvent, toRow } from './new-event.js'
import type { ChainedAuditEvent, NewAuditEvent } from './types.js'

/**
 * The only way an event enters the audit trail. Call it with the `manager` of the transaction that makes
 * the change the event records (`db.transaction(async (m) => { …change…; await appendAuditEvent(m, e) })`):
 * the change and its event then commit together or not at all.
 *
 * The sequence number comes from the head row, locked here (`FOR UPDATE` on PostgreSQL; SQLite's write
 * queue already runs one transaction at a time) until the caller's transaction ends. So numbers are
 * gap-free across replicas, and a transaction that rolls back hands its number back. Every audited write
 * waits for that lock: call this as the transaction's last statement, which keeps the lock short and
 * always taken last (no lock-order deadlocks with other row locks the transaction holds).
 *
 * Throws (rolling the caller back) when called outside a transaction or with a malformed event.
 */
export async function appendAuditEvent(manager: EntityManager, input: NewAuditEvent): Promise<ChainedAuditEvent> {
  if (!manager.queryRunner?.isTransactionActive) {
    throw new Error('appendAuditEvent needs the manager of an open transaction (db.transaction), not db.manager')
  }
  const event = checkNewEvent(input)
  const lock = manager.connection.options.type === 'postgres' ? ' FOR UPDATE' : ''
  const heads: Array<{ lastSeq: number | string; lastHash: string }> = await manager.query(
    `SELECT "lastSeq", "lastHash" FROM "medcred_audit_head" WHERE "id" = '${AUDIT_HEAD_ID}'${lock}`,
  )
  if (heads.length !== 1) throw new Error('the audit head row is missing: the audit migration has not run')
  const seq = Number(heads[0].lastSeq) + 1
  const prevHash = heads[0].lastHash
  const chained = toAuditEvent(event, seq, new Date().toISOString())
  const hash = eventHash(chained, prevHash)
  await run(manager, INSERT_EVENT, { ...toRow(chained, prevHash, hash) })
  await run(manager, UPDATE_HEAD, { seq, hash, id: AUDIT_HEAD_ID })
  return { ...chained, prevHash, hash }
}

/*
 * Plain SQL with named parameters, turned into each driver's placeholders by TypeORM: every audited write
 * pays for these two statements, and going through the repository API made an append about 60% slower
 * on SQLite (0.27 against 0.17 ms, measured like scripts/bench/audit.ts).
 */
const EVENT_COLUMNS = [
  'seq', 'time', 'actorType', 'actorId', 'actorDid', 'action', 'subjectType', 'subjectId',
  'subjectIssuerInstitutionId', 'outcome', 'requestId', 'detail', 'prevHash', 'hash',
] as const satisfies ReadonlyArray<keyof AuditEventRow>
const INSERT_EVENT =
  `INSERT INTO "medcred_audit_event" (${EVENT_COLUMNS.map((c) => `"${c}"`).join(', ')}) ` +
  `VALUES (${EVENT_COLUMNS.map((c) => `:${c}`).join(', ')})`
const UPDATE_HEAD = `UPDATE "medcred_audit_head" SET "lastSeq" = :seq, "lastHash" = :hash WHERE "id" = :id`

async function run(manager: EntityManager, sql: string, params: Record<string, unknown>): Promise<void> {
  const [query, values] = manager.connection.driver.escapeQueryWithParameters(sql, params, {})
  await manager.query(query, values)
}
