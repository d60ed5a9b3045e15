import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { DataSource } from 'typeorm'
import type { ChainedAuditEvent } from './audit/types.js'
import type { Chain } from './chain/chain.js'

/** What one request looked like, for the HTTP metrics. `route` is the router's pattern, never the raw path. */
export interface RequestSample {
  method: string
  route: string
  status: number
  seconds: number
}

/**
 * Prometheus metrics of one process (prom-client, its own registry). With several HTTP workers
 * (WEB_CONCURRENCY > 1) each worker keeps its own and `/metrics` answers for the worker that serves the
 * scrape, labelled `worker`; the database and chain gauges read shared state, so any worker gives them.
 *
 * Domain counters (verifications, issuance, status changes) come from the audit trail: every state change
 * and verification appends an event, so counting events counts every path (HTTP, wallet protocols, CLI).
 */
export class Metrics {
  readonly registry = new Registry()
  private readonly requests: Counter<'method' | 'route' | 'status'>
  private readonly latency: Histogram<'method' | 'route'>
  private readonly events: Counter<'action' | 'outcome'>
  private readonly verifications: Counter<'kind' | 'outcome'>
  private readonly failedChecks: Counter<'kind' | 'check'>
  private readonly issued: Counter<'via'>
  private readonly statusChanges: Counter<'status'>
  private readonly rpcErrors: Counter
  private readonly txResends: Counter<'reason'>

  constructor(deps: { db: DataSource; chain: Pick<Chain, 'provider'>; worker?: number }) {
    const r = this.registry
    if (deps.worker !== undefined) r.setDefaultLabels({ worker: String(deps.worker) })
    collectDefaultMetrics({ register: r, prefix: 'medcred_process_' })
    this.requests = new Counter({ name: 'medcred_http_requests_total', help: 'HTTP requests by method, route pattern and status', labelNames: ['method', 'route', 'status'], registers: [r] })
    this.latency = new Histogram({ name: 'medcred_http_request_duration_seconds', help: 'HTTP request latency by route pattern', labelNames: ['method', 'route'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [r] })
    this.events = new Counter({ name: 'medcred_audit_events_total', help: 'Audit events appended by action and outcome', labelNames: ['action', 'outcome'], registers: [r] })
    this.verifications = new Counter({ name: 'medcred_verifications_total', help: 'Verifications by kind (credential, presentation, …) and outcome', labelNames: ['kind', 'outcome'], registers: [r] })
    this.failedChecks = new Counter({ name: 'medcred_verification_failed_checks_total', help: 'Failed verification checks by kind and check', labelNames: ['kind', 'check'], registers: [r] })
    this.issued = new Counter({ name: 'medcred_credentials_issued_total', help: 'Credentials issued, by path (api, oid4vci)', labelNames: ['via'], registers: [r] })
    this.statusChanges = new Counter({ name: 'medcred_status_changes_total', help: 'Revocations, suspensions and reinstatements', labelNames: ['status'], registers: [r] })
    this.rpcErrors = new Counter({ name: 'medcred_chain_rpc_errors_total', help: 'Chain JSON-RPC calls that failed (transport or RPC error)', registers: [r] })
    this.txResends = new Counter({ name: 'medcred_chain_tx_resends_total', help: 'Operator transactions sent again, by reason (stuck and underpriced: higher fees; dropped: the same transaction)', labelNames: ['reason'], registers: [r] })
    void deps.chain.provider.on('debug', (e: { action?: string; result?: unknown }) => {
      if (e.action === 'receiveRpcError') this.rpcErrors.inc()
      else if (e.action === 'receiveRpcResult' && Array.isArray(e.result)) {
        const failed = e.result.filter((x: { error?: unknown }) => x?.error).length
        if (failed) this.rpcErrors.inc(failed)
      }
    })
    this.stateGauges(deps.db, deps.chain)
  }

  /** Counts one finished HTTP request. */
  request(s: RequestSample): void {
    this.requests.inc({ method: s.method, route: s.route, status: String(s.status) })
    this.latency.observe({ method: s.method, route: s.route }, s.seconds)
  }

  /** Counts one audit event (see AuditLog.onEvent). */
  auditEvent(e: ChainedAuditEvent): void {
    this.events.inc({ action: e.action, outcome: e.outcome })
    if (e.action.endsWith('.verified') || e.action === 'credential.accepted') {
      const kind = e.action === 'credential.accepted' ? 'acceptance' : e.action.split('.')[0]
      this.verifications.inc({ kind, outcome: e.outcome })
      const failed = e.detail?.failedChecks
      if (Array.isArray(failed)) for (const check of failed) if (typeof check === 'string') this.failedChecks.inc({ kind, check })
    } else if (e.action === 'credential.issued') {
      this.issued.inc({ via: e.detail?.via === 'oid4vci' ? 'oid4vci' : 'api' })
    } else if (e.action === 'credential.status-changed' && typeof e.detail?.status === 'string') {
      this.statusChanges.inc({ status: e.detail.status })
    }
  }

  /** Counts one operator transaction sent again (see RegistryWriter.onResend). */
  txResent(reason: string): void {
    this.txResends.inc({ reason })
  }

  /** The Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics()
  }

  get contentType(): string {
    return this.registry.contentType
  }

  /** Gauges read at scrape time from the database and the chain (shared by every worker). */
  private stateGauges(db: DataSource, chain: Pick<Chain, 'provider'>): void {
    const r = this.registry
    const q = (sql: string) => db.query(sql).then((rows: Record<string, unknown>[]) => rows[0] ?? {}, () => undefined)
    new Gauge({
      name: 'medcred_audit_unanchored_events',
      help: 'Audit events not yet in an anchored batch',
      registers: [r],
      async collect() {
        const row = await q(`SELECT COUNT(*) AS n FROM "medcred_audit_event" WHERE "seq" > COALESCE((SELECT MAX("toSeq") FROM "medcred_audit_anchor" WHERE "status" = 'anchored'), 0)`)
        if (row) this.set(Number(row.n))
      },
    })
    new Gauge({
      name: 'medcred_audit_oldest_unanchored_seconds',
      help: 'Age of the oldest audit event not yet anchored (0 when all are)',
      registers: [r],
      async collect() {
        const row = await q(`SELECT MIN("time") AS t FROM "medcred_audit_event" WHERE "seq" > COALESCE((SELECT MAX("toSeq") FROM "medcred_audit_anchor" WHERE "status" = 'anchored'), 0)`)
        if (row) this.set(row.t ? Math.max(0, (Date.now() - Date.parse(String(row.t))) / 1000) : 0)
      },
    })
    new Gauge({
      name: 'medcred_webhook_deliveries',
      help: 'Webhook deliveries by status (pending = backlog, failed = gave up)',
      labelNames: ['status'],
      registers: [r],
      async collect() {
        const rows: { status: string; n: unknown }[] = await db.query(`SELECT "status", COUNT(*) AS n FROM "medcred_webhook_delivery" GROUP BY "status"`).catch(() => [])
        this.reset()
        for (const s of ['pending', 'delivered', 'failed', 'cancelled']) this.set({ status: s }, Number(rows.find((x) => x.status === s)?.n ?? 0))
      },
    })
    new Gauge({
      name: 'medcred_webhook_oldest_pending_seconds',
      help: 'Age of the oldest pending webhook delivery (0 when none)',
      registers: [r],
      async collect() {
        const row = await q(`SELECT MIN("createdAt") AS t FROM "medcred_webhook_delivery" WHERE "status" = 'pending'`)
        if (row) this.set(row.t ? Math.max(0, (Date.now() - Date.parse(String(row.t))) / 1000) : 0)
      },
    })
    new Gauge({
      name: 'medcred_chain_block_age_seconds',
      help: "Block lag: seconds since the chain's latest block was produced (-1 when the chain does not answer)",
      registers: [r],
      async collect() {
        const block = await chain.provider.getBlock('latest').catch(() => null)
        this.set(block ? Math.max(0, Date.now() / 1000 - block.timestamp) : -1)
      },
    })
    new Gauge({
      name: 'medcred_chain_block_number',
      help: 'Latest block number seen (-1 when the chain does not answer)',
      registers: [r],
      async collect() {
        this.set(await chain.provider.getBlockNumber().catch(() => -1))
      },
    })
    new Gauge({
      name: 'medcred_db_pool_connections',
      help: 'Database connections of this process by state (PostgreSQL pool: total, idle, waiting clients; SQLite: one connection)',
      labelNames: ['state'],
      registers: [r],
      collect() {
        const pool = (db.driver as unknown as { master?: { totalCount: number; idleCount: number; waitingCount: number } }).master
        if (db.options.type === 'postgres' && pool) {
          this.set({ state: 'total' }, pool.totalCount)
          this.set({ state: 'idle' }, pool.idleCount)
          this.set({ state: 'waiting' }, pool.waitingCount)
        } else {
          this.set({ state: 'total' }, db.isInitialized ? 1 : 0)
        }
      },
    })
  }
}
