import { randomUUID } from 'node:crypto'
import { IsNull } from 'typeorm'
import type { Database } from '../db/database.js'
import { AppError } from '../errors.js'
import { cancelPending } from './delivery-store.js'
import type { NoticeEvent } from './events.js'
import type { SecretBox } from './secret-box.js'
import { generateWebhookSecret } from './signature.js'
import type { WebhookUrlGuard } from './url-guard.js'
import { appendChange, type Acting } from '../audit/acting.js'
import type { AuditLog } from '../audit/audit-log.js'
import { WebhookEntity, type WebhookRow } from './webhook.entity.js'

/** What the API shows of a webhook; never its secret, except once at registration. */
export interface WebhookView {
  id: string
  url: string
  events: NoticeEvent[]
  createdAt: string
}

/** Bounds the fan-out one institution can cause per notice. */
export const MAX_WEBHOOKS_PER_INSTITUTION = 10

function toView(row: WebhookRow): WebhookView {
  return { id: row.id, url: row.url, events: row.events, createdAt: row.createdAt }
}

/**
 * Institutions' webhook subscriptions. Every lookup is scoped to the owner: another institution's webhook is
 * reported as not found (404), the same as a missing one, so ids reveal nothing across institutions.
 */
export class WebhookService {
  constructor(private readonly deps: { db: Database; guard: WebhookUrlGuard; box: SecretBox; audit: AuditLog }) {}

  /** Checks the URL (SSRF rules, DNS included), stores the subscription; the secret is returned this once. */
  async register(
    institutionId: string,
    input: { url: string; events: NoticeEvent[] },
    by: Acting,
  ): Promise<WebhookView & { secret: string }> {
    const { db, guard, box } = this.deps
    const url = await guard.check(input.url)
    const id = randomUUID()
    const secret = generateWebhookSecret()
    const row: WebhookRow = {
      id,
      institutionId,
      url,
      events: [...new Set(input.events)],
      secretCiphertext: box.seal(secret, id),
      createdAt: new Date().toISOString(),
      deletedAt: null,
    }
    await db.transaction(async (m) => {
      const repo = m.getRepository(WebhookEntity)
      const count = await repo.countBy({ institutionId, deletedAt: IsNull() })
      if (count >= MAX_WEBHOOKS_PER_INSTITUTION) {
        throw new AppError('conflict', `an institution may have at most ${MAX_WEBHOOKS_PER_INSTITUTION} webhooks; delete one first`)
      }
      await repo.insert(row)
      await appendChange(this.deps.audit, m, by, 'webhook.registered', { type: 'webhook', id }, { events: row.events })
    })
    return { ...toView(row), secret }
  }

  /** The institution's live webhooks, oldest first. */
  async list(institutionId: string): Promise<WebhookView[]> {
    const rows = await this.deps.db.manager
      .getRepository(WebhookEntity)
      .find({ where: { institutionId, deletedAt: IsNull() }, order: { createdAt: 'ASC', id: 'ASC' } })
    return rows.map(toView)
  }

  /** Deletes the webhook and cancels its pending deliveries; its past deliveries stay visible. */
  async remove(institutionId: string, id: string, by: Acting): Promise<void> {
    const now = new Date()
    await this.deps.db.transaction(async (m) => {
      const repo = m.getRepository(WebhookEntity)
      const found = await repo.findOneBy({ id, institutionId, deletedAt: IsNull() })
      if (!found) throw new AppError('not-found', `no webhook ${id}`)
      await repo.update({ id }, { deletedAt: now.toISOString() })
      await cancelPending(m, [id], now)
      await appendChange(this.deps.audit, m, by, 'webhook.deleted', { type: 'webhook', id })
    })
  }
}
