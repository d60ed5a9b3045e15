import { EntitySchema } from 'typeorm'
import type { NoticeEvent } from './events.js'

/** An institution's subscription: where to POST which events. */
export interface WebhookRow {
  id: string
  institutionId: string
  /** https (or loopback http in development); checked at registration and again before every delivery. */
  url: string
  events: NoticeEvent[]
  /** The signing secret, AES-256-GCM encrypted (see secret-box.ts): the service must sign with it, so no hash. */
  secretCiphertext: string
  createdAt: string
  /** Set on delete; the row stays so past deliveries still name their webhook. */
  deletedAt: string | null
}

export const WebhookEntity = new EntitySchema<WebhookRow>({
  name: 'Webhook',
  tableName: 'medcred_webhook',
  columns: {
    id: { type: 'varchar', length: 36, primary: true },
    institutionId: { type: 'varchar', length: 36 },
    url: { type: 'varchar', length: 2048 },
    events: { type: 'simple-json' },
    secretCiphertext: { type: 'varchar', length: 200 },
    createdAt: { type: 'varchar', length: 30 },
    deletedAt: { type: 'varchar', length: 30, nullable: true },
  },
  indices: [{ name: 'IDX_webhook_institution', columns: ['institutionId'] }],
})
