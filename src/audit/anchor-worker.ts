import { randomUUID } from 'node:crypto'
import type { MedcredAgent } from '../agent/agent.js'
import type { Chain } from '../chain/chain.js'
import type { RegistryWriter } from '../chain/registry-writer.js'
import type { Database } from '../db/database.js'
import { anchorLowestPending, type AnchorOutcome } from './anchor-batch.js'
import { ensureAuditIdentity, type AuditIdentity } from './anchor-identity.js'
import { cutNextBatch, type BatchRule } from './cut-batch.js'

/** After a failure, wait up to this long before trying again. */
const MAX_BACKOFF_MS = 5000
/** Most batches cut in one run: bounds one run's work after a long outage; the next run goes on. */
const MAX_CUTS_PER_RUN = 100

/** The part of the service logger the worker uses (structurally the API's Logger; capabilities do not import api/). */
export interface AnchorLogger {
  error(message: string, fields?: Record<string, unknown>): void
}

export interface AnchorWorkerDeps {
  db: Database
  agent: MedcredAgent
  chain: Chain
  registry: RegistryWriter
  rule: BatchRule
  log: AnchorLogger
  /** How often to look for work; defaults to a quarter of `rule.seconds`, between 50 ms and 1 s. */
  pollMs?: number
}

export interface RunSummary {
  cut: number
  anchored: number
  /** Set when the run stopped on a failure (it will be retried). */
  error?: string
}

/**
 * Cuts batches and anchors them, on a timer, in the background. One run at a time per process (a run that is
 * still going when the timer fires is not doubled), batches in order across processes (see
 * anchorLowestPending). An outage makes runs fail and back off; nothing is dropped, because the pending
 * batch rows are the queue.
 */
export class AuditAnchorer {
  private readonly replicaId = randomUUID()
  private readonly pollMs: number
  private timer: NodeJS.Timeout | undefined
  private current: Promise<RunSummary> | undefined
  private stopped = true
  private failures = 0
  private identity: AuditIdentity | undefined

  constructor(private readonly deps: AnchorWorkerDeps) {
    this.pollMs = deps.pollMs ?? Math.min(1000, Math.max(50, (deps.rule.seconds * 1000) / 4))
  }

  start(): void {
    if (!this.stopped) return
    this.stopped = false
    this.schedule(this.pollMs)
  }

  /** Stops the timer and waits for a run in progress (it may be waiting for a transaction). */
  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    await this.current?.catch(() => undefined)
  }

  /**
   * Cuts what is due, then anchors pending batches in order. Runs never overlap: a call while one is going
   * runs after it (that one may have started before the caller's latest events).
   */
  runOnce(): Promise<RunSummary> {
    const next = (this.current ?? Promise.resolve()).then(() => this.run())
    this.current = next
    void next.finally(() => {
      if (this.current === next) this.current = undefined
    })
    return next
  }

  private schedule(ms: number): void {
    if (this.stopped) return
    this.timer = setTimeout(async () => {
      const summary = await this.runOnce()
      this.failures = summary.error ? this.failures + 1 : 0
      this.schedule(this.failures ? Math.min(MAX_BACKOFF_MS, this.pollMs * 2 ** this.failures) : this.pollMs)
    }, ms)
    this.timer.unref?.()
  }

  private async run(): Promise<RunSummary> {
    const summary: RunSummary = { cut: 0, anchored: 0 }
    try {
      while (summary.cut < MAX_CUTS_PER_RUN && (await cutNextBatch(this.deps.db, this.deps.rule, new Date()))) summary.cut++
      for (;;) {
        const outcome = await anchorLowestPending(
          {
            db: this.deps.db,
            registry: this.deps.registry,
            identity: () => this.auditIdentity(),
            replicaId: this.replicaId,
            leaseMs: this.deps.chain.txTimeoutMs * 2 + 10_000,
          },
          new Date(),
        )
        if (outcome.kind !== 'anchored') return this.finish(summary, outcome)
        summary.anchored++
      }
    } catch (e) {
      // a cut refused a broken chain, or the database is down: report, keep going on the next run
      summary.error = String((e as Error)?.message ?? e)
      this.deps.log.error('audit anchoring failed', { error: summary.error })
      return summary
    }
  }

  private finish(summary: RunSummary, outcome: AnchorOutcome): RunSummary {
    if (outcome.kind === 'failed') {
      summary.error = String((outcome.error as Error)?.message ?? outcome.error)
      this.deps.log.error('audit anchor not sent; will retry', { fromSeq: outcome.fromSeq, error: summary.error })
    }
    return summary
  }

  private async auditIdentity(): Promise<AuditIdentity> {
    this.identity ??= await ensureAuditIdentity(this.deps.agent, this.deps.db, this.deps.chain.network)
    return this.identity
  }
}
