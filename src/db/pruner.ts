import type { Database } from './database.js'

/**
 * Rows of one table that are of no more use to anyone: single-use values past their expiry. The module that
 * owns the table writes its rule (it alone knows what a row still means); the pruner only runs them.
 */
export interface PruneRule {
  /** Names the rule in logs and in a run's summary. */
  name: string
  table: string
  /** The table's one-column primary key. */
  key: string
  /**
   * SQL condition of a prunable row, with `$1…` placeholders (used once each, in order, as in
   * `Database.rows`); it must hold only for rows no request can use any more.
   */
  where: string
  /** The placeholders' values, given the cutoff: `now` less the grace period. */
  params(cutoff: Date): unknown[]
}

/** The part of the service logger the pruner uses (structurally the API's Logger). */
export interface PrunerLog {
  error(message: string, fields?: Record<string, unknown>): void
  info(message: string, fields?: Record<string, unknown>): void
}

export interface PrunerDeps {
  db: Database
  rules: readonly PruneRule[]
  log: PrunerLog
  /** Time between runs. */
  intervalMs: number
  /** How long past its expiry a row is kept (so that a late request still hears "expired", not "unknown"). */
  graceMs: number
  /** Rows deleted per statement (each in its own short transaction). */
  batchSize?: number
  /** Statements per rule per run: bounds one run after a long pause; the next run goes on. */
  maxBatchesPerRun?: number
  now?: () => Date
}

export interface PruneSummary {
  /** Rows deleted per rule. */
  deleted: Record<string, number>
  /** Rules whose statements failed this run (logged; tried again next run). */
  failed: string[]
}

/**
 * Deletes expired single-use rows (offers, nonces, sessions, challenges, …) on a timer, in bounded batches,
 * with plain SQL that SQLite and PostgreSQL both run. Only one worker runs it (the `background` option of
 * startMedcred); two at once would only delete the same rows twice. A failing rule (the database away, say)
 * is logged and retried on the next run; it never stops the other rules, the timer or the process. Audit
 * events, and whatever they or a record of a decision refer to, have no rule: they are never pruned.
 */
export class Pruner {
  private timer: NodeJS.Timeout | undefined
  private current: Promise<PruneSummary> | undefined
  private stopped = true
  private readonly batchSize: number
  private readonly maxBatches: number
  private readonly now: () => Date

  constructor(private readonly deps: PrunerDeps) {
    this.batchSize = deps.batchSize ?? 500
    this.maxBatches = deps.maxBatchesPerRun ?? 20
    this.now = deps.now ?? (() => new Date())
  }

  get rules(): readonly PruneRule[] {
    return this.deps.rules
  }

  start(): void {
    if (!this.stopped) return
    this.stopped = false
    this.schedule()
  }

  /** Stops the timer and waits for a run in progress (each of its statements is short). */
  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    this.timer = undefined
    await this.current
  }

  /** One run now: every rule, in batches. Never rejects; a call while a run is going waits for it first. */
  pruneOnce(): Promise<PruneSummary> {
    const next = (this.current ?? Promise.resolve()).then(() => this.run())
    this.current = next
    void next.finally(() => {
      if (this.current === next) this.current = undefined
    })
    return next
  }

  private schedule(): void {
    if (this.stopped) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      void this.pruneOnce().then(() => this.schedule())
    }, this.deps.intervalMs)
    // A pending prune is no reason to keep a process alive.
    this.timer.unref()
  }

  private async run(): Promise<PruneSummary> {
    const cutoff = new Date(this.now().getTime() - this.deps.graceMs)
    const summary: PruneSummary = { deleted: {}, failed: [] }
    for (const rule of this.deps.rules) {
      summary.deleted[rule.name] = 0
      try {
        for (let i = 0; i < this.maxBatches; i++) {
          const n = await this.deleteBatch(rule, cutoff)
          summary.deleted[rule.name] += n
          if (n < this.batchSize) break
        }
      } catch (e) {
        summary.failed.push(rule.name)
        this.deps.log.error('pruning expired rows failed; tried again next run', { rule: rule.name, error: String((e as Error)?.message ?? e) })
      }
    }
    const total = Object.values(summary.deleted).reduce((a, b) => a + b, 0)
    if (total > 0) this.deps.log.info('pruned expired rows', { deleted: summary.deleted })
    return summary
  }

  /** Deletes up to one batch of the rule's rows; returns how many went. */
  private deleteBatch(rule: PruneRule, cutoff: Date): Promise<number> {
    const params = rule.params(cutoff)
    const sql = `DELETE FROM "${rule.table}" WHERE "${rule.key}" IN (SELECT "${rule.key}" FROM "${rule.table}" WHERE ${rule.where} LIMIT $${params.length + 1})`
    return this.deps.db.transaction((m) => this.deps.db.change(m, sql, [...params, this.batchSize]))
  }
}
