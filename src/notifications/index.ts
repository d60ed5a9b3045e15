import type { WebhooksConfig } from '../config.js'
import type { Database } from '../db/database.js'
import { DeliveryWorker, type WorkerLog } from './delivery-worker.js'
import { NotificationService } from './notification-service.js'
import { Notifier } from './notifier.js'
import { SecretBox } from './secret-box.js'
import { WebhookUrlGuard, type Resolver } from './url-guard.js'
import type { AuditLog } from '../audit/audit-log.js'
import { WebhookService } from './webhook-service.js'

export { NOTICE_EVENTS, type Notice, type NoticeData, type NoticeEvent } from './events.js'
export { DeliveryWorker } from './delivery-worker.js'
export { NotificationService } from './notification-service.js'
export { Notifier, type NotifyResult } from './notifier.js'
export { WebhookService } from './webhook-service.js'

/** Relying-party notices, wired: the API's services, the notifier capabilities call, and the delivery worker. */
export interface Notifications {
  webhooks: WebhookService
  notices: NotificationService
  notifier: Notifier
  worker: DeliveryWorker
}

/**
 * Builds the notifications capability. The webhook secrets are encrypted under a key derived from
 * `kmsSecretKey`; the worker is returned stopped (the composition root starts it once the service is up).
 */
export function createNotifications(deps: {
  db: Database
  kmsSecretKey: string
  config: WebhooksConfig
  log: WorkerLog
  resolve?: Resolver
  audit: AuditLog
}): Notifications {
  const guard = new WebhookUrlGuard({ allowLoopback: deps.config.allowLoopback, resolve: deps.resolve })
  const box = new SecretBox(deps.kmsSecretKey, 'webhook-secret')
  return {
    webhooks: new WebhookService({ db: deps.db, guard, box, audit: deps.audit }),
    notices: new NotificationService({ db: deps.db }),
    notifier: new Notifier(),
    worker: new DeliveryWorker({ db: deps.db, guard, box, config: deps.config, log: deps.log }),
  }
}
