import type { Database } from '../db/database.js'
import type { WebhooksConfig } from '../config.js'
import { AppError } from '../errors.js'
import { retryDelayMs } from './backoff.js'
import { claimDelivery, dueDeliveryIds, loadDelivery, recordAttempt, type AttemptResult, type Claim } from './delivery-store.js'
import { payloadBody, payloadHeaders } from './payload.js'
import type { SecretBox } from './secret-box.js'
import { postJson, type PostOutcome } from './sender.js'
import type { WebhookUrlGuard } from './url-guard.js'

/** The part of the service logger the worker uses (structurally the API's Logger). */
export interface WorkerLog {
  error(message: string, fields?: Record<string, unknown>): void
  info(message: string, fields?: Record<string, unknown>): void
}

export interface DeliveryWorkerDeps {
  db: Database
  guard: WebhookUrlGuard
  box: SecretBox
  config: WebhooksConfig
  log: WorkerLog
  now?: () => Date
}

/** Deliveries attempted per poll; a full batch polls again at once to drain a backlog. */
const BATCH = 20

/**
 * Drains the delivery outbox: every poll it claims due deliveries (see claimDelivery: safe with several
 * replicas), POSTs each signed payload, and writes the result back — delivered, retry later with backoff,
 * or failed after `maxAttempts`. All state is in the database, so stopping, crashing or restarting loses
 * nothing: a claim left by a crashed process lapses after the lease and the row is taken again.
 * Polls never overlap: the next is scheduled when the last has finished.
 */
export class DeliveryWorker {
  private timer: NodeJS.Timeout | undefined
  private current: Promise<void> | undefined
  private stopped = true
  private readonly now: () => Date

  constructor(private readonly deps: DeliveryWorkerDeps) {
    this.now = deps.now ?? (() => new Date())
  }

  /** A claim outlasts the longest possible attempt, so no one else picks up a delivery still in flight. */
  private get leaseMs(): number {
    return this.deps.config.timeoutMs + 15_000
  }

  start(): void {
    if (!this.stopped) return
    this.stopped = false
    this.schedule(0)
  }

  /**
   * Stops polling and waits for attempts in flight to be recorded, but no longer than one attempt's timeout
   * plus a margin: a database that never answers must not hold up shutdown. What is cut short stays claimed
   * until the lease lapses, and is then retried.
   */
  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    this.timer = undefined
    if (!this.current) return
    let bound: NodeJS.Timeout | undefined
    const gaveUp = new Promise<void>((resolve) => {
      bound = setTimeout(resolve, this.deps.config.timeoutMs + 2_000)
    })
    await Promise.race([this.current, gaveUp])
    clearTimeout(bound)
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.current = this.poll().then((full) => {
        this.current = undefined
        this.schedule(full ? 0 : this.deps.config.pollMs)
      })
    }, delayMs)
  }

  private async poll(): Promise<boolean> {
    try {
      return (await this.runOnce()) >= BATCH
    } catch (e) {
      this.deps.log.error('webhook delivery poll failed', { error: (e as Error).message })
      return false
    }
  }

  /** One poll: claims and attempts what is due now. Returns how many deliveries it claimed. */
  async runOnce(): Promise<number> {
    const { db } = this.deps
    const now = this.now()
    const ids = await dueDeliveryIds(db.manager, now, BATCH)
    const claims: Claim[] = []
    for (const id of ids) {
      const claim = await claimDelivery(db, id, now, this.leaseMs)
      if (claim) claims.push(claim)
    }
    await Promise.all(claims.map((c) => this.attempt(c)))
    return claims.length
  }

  private async attempt(claim: Claim): Promise<void> {
    let result: AttemptResult
    try {
      result = await this.send(claim)
    } catch (e) {
      result = this.afterFailure(claim, e instanceof AppError ? e.detail : (e as Error).message)
    }
    const recorded = await recordAttempt(this.deps.db, claim, result)
    if (recorded && result.status === 'failed') {
      this.deps.log.error('webhook delivery failed for good', { deliveryId: claim.id, attempts: claim.attempts, error: result.error })
    }
  }

  private async send(claim: Claim): Promise<AttemptResult> {
    const { db, guard, box, config } = this.deps
    const { webhook, notification } = await loadDelivery(db.manager, claim.id)
    if (webhook.deletedAt) return { status: 'cancelled', at: this.now(), error: 'the webhook was deleted' }
    const secret = box.open(webhook.secretCiphertext, webhook.id)
    // Checked again now, not trusted from registration: the host may resolve elsewhere today.
    const url = guard.parse(webhook.url)
    const addresses = await guard.addresses(url)
    const body = payloadBody(notification)
    const headers = payloadHeaders({ event: notification.event, deliveryId: claim.id, attempt: claim.attempts, secret, body })
    const outcome: PostOutcome = await postJson(url, addresses, body, headers, config.timeoutMs)
    if (outcome.ok) return { status: 'delivered', at: this.now() }
    return this.afterFailure(claim, outcome.error)
  }

  private afterFailure(claim: Claim, error: string): AttemptResult {
    const { maxAttempts, retryBaseMs, retryMaxMs } = this.deps.config
    const at = this.now()
    if (claim.attempts >= maxAttempts) return { status: 'failed', at, error: `${error} (gave up after ${claim.attempts} attempts)` }
    const delay = retryDelayMs(claim.attempts, { baseMs: retryBaseMs, maxMs: retryMaxMs })
    return { status: 'pending', at, error, nextAttemptAt: new Date(at.getTime() + delay) }
  }
}
