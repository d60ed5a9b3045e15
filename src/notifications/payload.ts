import type { NoticeData, NoticeEvent } from './events.js'
import type { NotificationRow } from './notification.entity.js'
import { SIGNATURE_HEADER, signPayload } from './signature.js'

/** The JSON body a webhook receives. `id` is the notification's, the same in `GET /notifications`. */
export interface WebhookPayload {
  id: string
  event: NoticeEvent
  createdAt: string
  data: NoticeData
}

/** The body, byte-for-byte the same on every retry (fixed key order), so a receiver may hash or dedupe it. */
export function payloadBody(n: NotificationRow): string {
  const payload: WebhookPayload = { id: n.id, event: n.event, createdAt: n.createdAt, data: n.data }
  return JSON.stringify(payload)
}

/** Headers of one attempt: the event, the delivery id (the receiver's idempotency key) and a fresh signature. */
export function payloadHeaders(opts: { event: NoticeEvent; deliveryId: string; attempt: number; secret: string; body: string }): Record<string, string> {
  return {
    'user-agent': 'medcred-webhooks/1',
    'medcred-event': opts.event,
    'medcred-delivery': opts.deliveryId,
    'medcred-attempt': String(opts.attempt),
    [SIGNATURE_HEADER.toLowerCase()]: signPayload(opts.secret, opts.body),
  }
}
