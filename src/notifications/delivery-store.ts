import { randomUUID } from 'node:crypto'
import { In, IsNull, LessThanOrEqual, type EntityManager } from 'typeorm'
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js'
import type { Database } from '../db/database.js'
import { DeliveryEntity, type DeliveryRow, type DeliveryStatus } from './delivery.entity.js'
import { NotificationEntity, type NotificationRow } from './notification.entity.js'
import { WebhookEntity, type WebhookRow } from './webhook.entity.js'

/** A delivery this worker holds: nobody else sends it until `lockedUntil`, and only `token` may record it. */
export interface Claim {
  id: string
  token: string
  /** Including this one. */
  attempts: number
}

/** What an attempt came to; written back only while the claim is still ours. */
export interface AttemptResult {
  status: DeliveryStatus
  at: Date
  nextAttemptAt?: Date
  error?: string
}

/** Ids of pending deliveries due at `now` and not held by a live claim, oldest first. */
export async function dueDeliveryIds(manager: EntityManager, now: Date, limit: number): Promise<string[]> {
  const at = now.toISOString()
  const rows = await manager.getRepository(DeliveryEntity).find({
    select: { id: true },
    where: [
      { status: 'pending', nextAttemptAt: LessThanOrEqual(at), lockedUntil: IsNull() },
      { status: 'pending', nextAttemptAt: LessThanOrEqual(at), lockedUntil: LessThanOrEqual(at) },
    ],
    order: { nextAttemptAt: 'ASC' },
    take: limit,
  })
  return rows.map((r) => r.id)
}

/**
 * Takes a delivery for one attempt. The conditional UPDATE is the lock: of several replicas that saw the row
 * due, exactly one changes it (the others see 0 rows affected), on SQLite and PostgreSQL alike. The attempt is
 * counted here, so one that crashes mid-send is not repeated forever.
 */
export async function claimDelivery(db: Database, id: string, now: Date, leaseMs: number): Promise<Claim | undefined> {
  const at = now.toISOString()
  const token = randomUUID()
  const patch: QueryDeepPartialEntity<DeliveryRow> = {
    lockedUntil: new Date(now.getTime() + leaseMs).toISOString(),
    lockToken: token,
    attempts: () => '"attempts" + 1',
  }
  const affected = await db.transaction(async (m) => {
    // Query builder, not manager.update: the latter reads an array of conditions as a list of ids.
    const result = await m
      .createQueryBuilder()
      .update(DeliveryEntity)
      .set(patch)
      .where([
        { id, status: 'pending', nextAttemptAt: LessThanOrEqual(at), lockedUntil: IsNull() },
        { id, status: 'pending', nextAttemptAt: LessThanOrEqual(at), lockedUntil: LessThanOrEqual(at) },
      ])
      .execute()
    return result.affected ?? 0
  })
  if (affected !== 1) return undefined
  const row = await db.manager.getRepository(DeliveryEntity).findOneByOrFail({ id })
  return row.lockToken === token ? { id, token, attempts: row.attempts } : undefined
}

/** The delivery with its webhook and notification, as the attempt needs them. */
export async function loadDelivery(
  manager: EntityManager,
  id: string,
): Promise<{ delivery: DeliveryRow; webhook: WebhookRow; notification: NotificationRow }> {
  const delivery = await manager.getRepository(DeliveryEntity).findOneByOrFail({ id })
  const [webhook, notification] = await Promise.all([
    manager.getRepository(WebhookEntity).findOneByOrFail({ id: delivery.webhookId }),
    manager.getRepository(NotificationEntity).findOneByOrFail({ id: delivery.notificationId }),
  ])
  return { delivery, webhook, notification }
}

/** Writes an attempt's result and releases the claim; false when the claim had lapsed and another took it. */
export async function recordAttempt(db: Database, claim: Claim, result: AttemptResult): Promise<boolean> {
  const at = result.at.toISOString()
  const patch: Partial<DeliveryRow> = {
    status: result.status,
    lastAttemptAt: at,
    lockedUntil: null,
    lockToken: null,
    lastError: result.error ? result.error.slice(0, 500) : null,
    ...(result.nextAttemptAt ? { nextAttemptAt: result.nextAttemptAt.toISOString() } : {}),
    ...(result.status === 'delivered' ? { deliveredAt: at } : {}),
  }
  const updated = await db.transaction((m) => m.update(DeliveryEntity, { id: claim.id, lockToken: claim.token }, patch))
  return (updated.affected ?? 0) === 1
}

/** Cancels what is still pending for webhooks that are being deleted (inside the caller's transaction). */
export async function cancelPending(manager: EntityManager, webhookIds: string[], now: Date): Promise<void> {
  if (webhookIds.length === 0) return
  await manager.update(
    DeliveryEntity,
    { webhookId: In(webhookIds), status: 'pending' },
    { status: 'cancelled', lastError: `the webhook was deleted at ${now.toISOString()}`, lockedUntil: null, lockToken: null },
  )
}
