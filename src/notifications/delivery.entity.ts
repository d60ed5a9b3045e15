import { EntitySchema } from 'typeorm'

/**
 * `pending` until a 2xx (`delivered`), the attempts run out (`failed`) or the webhook is deleted (`cancelled`).
 */
export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'cancelled'

/**
 * One notification to one webhook: the outbox row the delivery worker drains. Everything a retry needs lives
 * here, so a restart (or another replica) picks up where the last attempt left off.
 */
export interface DeliveryRow {
  /** Sent as `Medcred-Delivery`: the same on every retry, so receivers can drop duplicates. */
  id: string
  notificationId: string
  webhookId: string
  status: DeliveryStatus
  /** Attempts started; counted when an attempt is claimed, so a crash mid-send still uses one up. */
  attempts: number
  nextAttemptAt: string
  /** A worker's claim on the row; another worker may take the row only once this has passed. */
  lockedUntil: string | null
  /** Identifies the claim, so a worker whose claim lapsed cannot overwrite the row's newer state. */
  lockToken: string | null
  lastError: string | null
  lastAttemptAt: string | null
  deliveredAt: string | null
  createdAt: string
}

export const DeliveryEntity = new EntitySchema<DeliveryRow>({
  name: 'WebhookDelivery',
  tableName: 'medcred_webhook_delivery',
  columns: {
    id: { type: 'varchar', length: 36, primary: true },
    notificationId: { type: 'varchar', length: 36 },
    webhookId: { type: 'varchar', length: 36 },
    status: { type: 'varchar', length: 16 },
    attempts: { type: 'integer' },
    nextAttemptAt: { type: 'varchar', length: 30 },
    lockedUntil: { type: 'varchar', length: 30, nullable: true },
    lockToken: { type: 'varchar', length: 36, nullable: true },
    lastError: { type: 'varchar', length: 500, nullable: true },
    lastAttemptAt: { type: 'varchar', length: 30, nullable: true },
    deliveredAt: { type: 'varchar', length: 30, nullable: true },
    createdAt: { type: 'varchar', length: 30 },
  },
  indices: [
    { name: 'IDX_webhook_delivery_due', columns: ['status', 'nextAttemptAt'] },
    { name: 'IDX_webhook_delivery_notification', columns: ['notificationId'] },
    { name: 'IDX_webhook_delivery_webhook', columns: ['webhookId'] },
  ],
})
