import { In, LessThan, type FindOptionsWhere } from 'typeorm'
import type { Database } from '../db/database.js'
import { AppError } from '../errors.js'
import { DeliveryEntity, type DeliveryStatus } from './delivery.entity.js'
import type { NoticeData, NoticeEvent } from './events.js'
import { NotificationEntity, type NotificationRow } from './notification.entity.js'

/** How one webhook delivery of a notification stands. */
export interface DeliveryView {
  id: string
  webhookId: string
  status: DeliveryStatus
  attempts: number
  lastAttemptAt: string | null
  nextAttemptAt: string | null
  deliveredAt: string | null
  lastError: string | null
}

export interface NotificationView {
  id: string
  event: NoticeEvent
  createdAt: string
  data: NoticeData
  /** One per webhook that was subscribed to the event when the notice was made; empty when none was. */
  deliveries: DeliveryView[]
}

export interface NotificationPage {
  items: NotificationView[]
  /** Pass as `after` for the next (older) page; null on the last page. */
  next: string | null
}

/** An institution's notices, newest first, with where each delivery stands. */
export class NotificationService {
  constructor(private readonly deps: { db: Database }) {}

  /** `after` is the id of the last notification of the previous page (the `next` it returned). */
  async list(institutionId: string, opts: { after?: string; limit: number }): Promise<NotificationPage> {
    const manager = this.deps.db.manager
    const repo = manager.getRepository(NotificationEntity)
    let where: FindOptionsWhere<NotificationRow>[] = [{ institutionId }]
    if (opts.after) {
      const cursor = await repo.findOneBy({ id: opts.after, institutionId })
      if (!cursor) throw new AppError('invalid-request', `after: no notification ${opts.after} to continue from`)
      // Keyset paging on (createdAt, id): stable while new notices arrive, unlike an offset.
      where = [
        { institutionId, createdAt: LessThan(cursor.createdAt) },
        { institutionId, createdAt: cursor.createdAt, id: LessThan(cursor.id) },
      ]
    }
    const rows = await repo.find({ where, order: { createdAt: 'DESC', id: 'DESC' }, take: opts.limit + 1 })
    const page = rows.slice(0, opts.limit)
    const deliveries = page.length
      ? await manager.getRepository(DeliveryEntity).find({
          where: { notificationId: In(page.map((n) => n.id)) },
          order: { createdAt: 'ASC', id: 'ASC' },
        })
      : []
    const items = page.map((n) => ({
      id: n.id,
      event: n.event,
      createdAt: n.createdAt,
      data: n.data,
      deliveries: deliveries
        .filter((d) => d.notificationId === n.id)
        .map((d) => ({
          id: d.id,
          webhookId: d.webhookId,
          status: d.status,
          attempts: d.attempts,
          lastAttemptAt: d.lastAttemptAt,
          nextAttemptAt: d.status === 'pending' ? d.nextAttemptAt : null,
          deliveredAt: d.deliveredAt,
          lastError: d.lastError,
        })),
    }))
    return { items, next: rows.length > opts.limit ? page[page.length - 1].id : null }
  }
}
