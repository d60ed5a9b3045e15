import { randomUUID } from 'node:crypto'
import { In, IsNull, type EntityManager, type EntitySchema, type ObjectLiteral } from 'typeorm'
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js'
import { DeliveryEntity, type DeliveryRow } from './delivery.entity.js'
import { isNoticeEvent, type Notice, type NoticeData } from './events.js'
import { NotificationEntity, type NotificationRow } from './notification.entity.js'
import { WebhookEntity } from './webhook.entity.js'

/** What `notify` wrote: one notification per recipient, and how many webhook deliveries were queued. */
export interface NotifyResult {
  notifications: { id: string; institutionId: string }[]
  deliveries: number
}

const MAX_DATA_BYTES = 4096
/** Rows per INSERT, well inside SQLite's and PostgreSQL's bound-parameter limits. */
const CHUNK = 100

function checkNotice(notice: Notice): void {
  // Programmer errors, not client input: the capabilities that call notify build these.
  if (!isNoticeEvent(notice.event)) throw new TypeError(`unknown notice event ${String(notice.event)}`)
  if (!Array.isArray(notice.recipients) || notice.recipients.some((r) => typeof r !== 'string' || !r)) {
    throw new TypeError('notice recipients must be institution ids')
  }
  const data: NoticeData = notice.data
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw new TypeError('notice data must be an object')
  for (const [k, v] of Object.entries(data)) {
    if (v !== null && !['string', 'number', 'boolean'].includes(typeof v)) throw new TypeError(`notice data.${k} must be a scalar identifier`)
  }
  if (Buffer.byteLength(JSON.stringify(data)) > MAX_DATA_BYTES) throw new TypeError(`notice data exceeds ${MAX_DATA_BYTES} bytes`)
}

async function insertChunked<T extends ObjectLiteral>(manager: EntityManager, entity: EntitySchema<T>, rows: T[]): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) await manager.getRepository(entity).insert(rows.slice(i, i + CHUNK) as QueryDeepPartialEntity<T>[])
}

/**
 * Tells relying institutions about a change (outbox pattern). Call it inside the transaction that makes the
 * change, with that transaction's manager: the notifications and their pending deliveries then commit with the
 * change or not at all, and the delivery worker sends them after the commit.
 */
export class Notifier {
  constructor(private readonly now: () => Date = () => new Date()) {}

  /**
   * Writes one notification per recipient (shown by `GET /notifications`) and one pending delivery per live
   * webhook of that recipient subscribed to `notice.event`. Throws a TypeError for a malformed notice.
   */
  async notify(manager: EntityManager, notice: Notice): Promise<NotifyResult> {
    checkNotice(notice)
    const recipients = [...new Set(notice.recipients)]
    if (recipients.length === 0) return { notifications: [], deliveries: 0 }
    const createdAt = this.now().toISOString()
    const webhooks = await manager.getRepository(WebhookEntity).find({
      where: { institutionId: In(recipients), deletedAt: IsNull() },
      order: { createdAt: 'ASC' },
    })
    const notifications: NotificationRow[] = recipients.map((institutionId) => ({
      id: randomUUID(),
      institutionId,
      event: notice.event,
      data: { ...notice.data },
      createdAt,
    }))
    const deliveries: DeliveryRow[] = notifications.flatMap((n) =>
      webhooks
        .filter((w) => w.institutionId === n.institutionId && w.events.includes(notice.event))
        .map((w) => ({
          id: randomUUID(),
          notificationId: n.id,
          webhookId: w.id,
          status: 'pending' as const,
          attempts: 0,
          nextAttemptAt: createdAt,
          lockedUntil: null,
          lockToken: null,
          lastError: null,
          lastAttemptAt: null,
          deliveredAt: null,
          createdAt,
        })),
    )
    await insertChunked(manager, NotificationEntity, notifications)
    await insertChunked(manager, DeliveryEntity, deliveries)
    return { notifications: notifications.map(({ id, institutionId }) => ({ id, institutionId })), deliveries: deliveries.length }
  }
}
