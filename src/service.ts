import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { DataSource } from 'typeorm'
import { createAgent, type MedcredAgent } from './agent/agent.js'
import { createApp } from './api/app.js'
import { RateLimits, rateCounterFor, rateLimitPruneRule } from './api/rate-limit.js'
import { answerClientErrorsAsProblems } from './api/client-error.js'
import type { Logger } from './api/problem.js'
import type { HealthReport } from './api/routes/health.js'
import { connectChain, type Chain } from './chain/chain.js'
import { RegistryWriter } from './chain/registry-writer.js'
import { Database } from './db/database.js'
import type { Config } from './config.js'
import { openDatabase } from './db/data-source.js'
import { createDidResolver } from './did/resolver.js'
import { didWebPolicy } from './did/did-web.js'
import { KeyRotationService } from './institutions/key-rotation.js'
import { InstitutionService } from './institutions/service.js'
import { supersededKeyCheck } from './institutions/superseded-keys.js'
import { TYPES_REQUIRING_STATUS } from './credentials/subject-schemas.js'
import { StatusListSource } from './status/list-source.js'
import { StatusService } from './status/service.js'
import { TokenStatusLists } from './status/token-status-list.js'
import { TrustRegistry } from './trust/service.js'
import { trustCheck } from './trust/trust-check.js'
import { ChallengeService, challengePruneRule } from './acceptance/challenges.js'
import { VerificationService } from './acceptance/verifications.js'
import { AcceptanceService } from './acceptance/acceptances.js'
import { CredentialingFileService } from './acceptance/credentialing-file.js'
import { auditAcceptance, auditVerification } from './acceptance/audit-events.js'
import { IssuanceService } from './issuance/service.js'
import { ConsentService } from './consent/service.js'
import { Oid4vciIssuer } from './oid4vc/issuer.js'
import { Oid4vpVerifier } from './oid4vc/verifier.js'
import { WebSessionService, webSessionPruneRules } from './web/sessions.js'
import { Pruner } from './db/pruner.js'
import { oid4vcPruneRules } from './oid4vc/pruning.js'
import { createHmac } from 'node:crypto'
import { jsonLogger } from './log.js'
import { Metrics } from './metrics.js'
import { createNotifications, type Notifier, type WebhookService } from './notifications/index.js'
import { createAudit, type AuditAnchorer, type AuditLog } from './audit/index.js'
import { ensureSecrets, type Secrets } from './secrets.js'
import { systemActing } from './audit/acting.js'
import type { VerifyContext } from './verification/verify-credential.js'

export interface Medcred {
  url: string
  port: number
  config: Config
  secrets: Secrets
  chain: Chain
  db: DataSource
  agent: MedcredAgent
  /** The capabilities, for tools, benchmarks and tests that call them without HTTP. */
  services: {
    institutions: InstitutionService
    webhooks: WebhookService
    issuance: IssuanceService
    acceptances: AcceptanceService
    verifications: VerificationService
    trust: TrustRegistry
    status: StatusService
    keyRotation: KeyRotationService
  }
  /** How credentials are verified here (resolver, status lists, key policy): for tools and benchmarks. */
  verifyContext: VerifyContext
  /** The write gate over `db` (see db/database.ts): scripts and tests write through it, as capabilities do. */
  store: Database
  /** Tells relying institutions about a change; call inside the change's transaction. */
  notifier: Notifier
  /** The audit trail: `audit.append(manager, event)` inside a change's transaction (src/audit). */
  audit: AuditLog
  /** Cuts and anchors audit batches in the background; `runOnce()` runs it now (tests, scripts). */
  auditAnchorer: AuditAnchorer
  /** Deletes expired single-use rows in the background; `pruneOnce()` runs it now (tests, scripts). */
  pruner: Pruner
  /** The Koa app serving HTTP (for tests that walk its routers, see routersOf). */
  app: import('koa')
  /** This process's Prometheus metrics (served at /metrics). */
  metrics: Metrics
  /**
   * Graceful stop: no new connections, requests in flight finish (bounded by SHUTDOWN_GRACE_MS), the
   * webhook and anchoring workers finish the run they are in and record it, the database closes, and the
   * local chain (if this process started it) stops last.
   */
  stop(): Promise<void>
}

/**
 * The composition root: secrets, chain, database, agent, capabilities, HTTP server, in that order.
 * `main.ts` and the tests both start medcred through here.
 */
export async function startMedcred(
  config: Config,
  log: Logger = jsonLogger(),
  /**
   * `background: false` for all but one of several workers: they serve HTTP while one worker runs the
   * webhook deliveries, audit anchoring, pruning of expired single-use rows and unfinished key rotations (each is replica-safe anyway; this
   * only spares the database the extra polling).
   */
  opts: { background?: boolean; worker?: number } = {},
): Promise<Medcred> {
  const background = opts.background ?? true
  const secrets = ensureSecrets(config.dataDir, config)
  const chain = await connectChain(config.chain, config.dataDir)
  let db: DataSource | undefined
  try {
    db = await openDatabase(config)
    const resolver = createDidResolver(chain, { watchPollMs: config.didCachePollMs, web: didWebPolicy(config.didWeb) })
    const agent = await createAgent({ db, kmsSecretKey: secrets.kmsSecretKey, chain, resolver })
    const database = new Database(db)
    const registry = new RegistryWriter({ agent, chain, db: database, log })
    const audit = createAudit({ db: database, agent, chain, registry, config: config.audit, log })
    const webSessions = new WebSessionService({ db: database, adminToken: secrets.adminToken, csrfKey: createHmac('sha256', secrets.kmsSecretKey).update('medcred/web/csrf-key').digest(), config: config.web })
    const institutions = new InstitutionService({ db: database, agent, chain, registry, publicUrl: config.publicUrl, audit: audit.log, sessions: webSessions })
    const notifications = createNotifications({ db: database, kmsSecretKey: secrets.kmsSecretKey, config: config.webhooks, log, audit: audit.log })
    const tokenLists = new TokenStatusLists({ db: database, agent, resolver, publicUrl: config.publicUrl })
    const status = new StatusService({ db: database, agent, resolver, publicUrl: config.publicUrl, notifier: notifications.notifier, tokenLists, bitstringTtlMs: config.statusLists.bitstringTtlMs, audit: audit.log })
    const trust = new TrustRegistry({ db: database, notifier: notifications.notifier, audit: audit.log })
    const issuance = new IssuanceService({ db: database, agent, status, resolver, tokenLists, publicUrl: config.publicUrl, audit: audit.log })
    const keyRotation = new KeyRotationService({ db: database, agent, chain, registry, resolver, status, audit: audit.log })
    const statusLists = new StatusListSource({
      status,
      tokenLists,
      resolver,
      policy: { ...config.statusLists, timeoutMs: 5000, maxBytes: 2 * 1024 * 1024 },
    })
    const verifyContext: VerifyContext = {
      resolver,
      skewSeconds: config.clockSkewSeconds,
      status: { lists: statusLists, typesRequiringStatus: TYPES_REQUIRING_STATUS },
      supersededKeys: supersededKeyCheck({ db: database, resolver }),
      trustedIssuer: trustCheck(trust),
      sdJwt: { publicUrl: config.publicUrl, kbMaxAgeSeconds: config.kbJwtMaxAgeSeconds },
    }
    const challenges = new ChallengeService({ db: database, ttlSeconds: config.challengeTtlSeconds })
    const consents = new ConsentService({
      db: database,
      resolver,
      audit: audit.log,
      publicUrl: config.publicUrl,
      skewSeconds: config.clockSkewSeconds,
      tokenMaxSeconds: config.patientTokenMaxSeconds,
    })
    const verifications = new VerificationService({ db: database, agent, challenges, verifyContext, publicUrl: config.publicUrl, audit: auditVerification(audit.log), consent: consents })
    const acceptances = new AcceptanceService({ db: database, trust, verifyContext, audit: auditAcceptance(audit.log) })
    const credentialingFiles = new CredentialingFileService({ db: database, verifications, acceptances })
    const oid4vci = new Oid4vciIssuer({
      db: database,
      issuance,
      institutions,
      receiptJwt: (id) => verifications.receiptJwt(id),
      resolver,
      audit: audit.log,
      publicUrl: config.publicUrl,
      offerKey: createHmac('sha256', secrets.kmsSecretKey).update('medcred/oid4vci/offer-key').digest(),
      config: config.oid4vc,
      skewSeconds: config.clockSkewSeconds,
    })
    const oid4vp = new Oid4vpVerifier({ db: database, agent, resolver, institutions, verifications, acceptances, issuer: oid4vci, verifyContext, publicUrl: config.publicUrl, config: config.oid4vc })
    const health = healthCheck(db, chain, opts.worker)
    const metrics = new Metrics({ db, chain, worker: opts.worker })
    audit.log.onEvent((e) => metrics.auditEvent(e))
    registry.onResend((r) => metrics.txResent(r.reason))
    const pruner = new Pruner({
      db: database,
      rules: [...oid4vcPruneRules, ...webSessionPruneRules, challengePruneRule, rateLimitPruneRule],
      log,
      intervalMs: config.pruning.intervalSeconds * 1000,
      graceMs: config.pruning.graceSeconds * 1000,
    })

    const app = createApp({
      limits: config.limits,
      rateLimits: new RateLimits(config.limits, rateCounterFor(db, log)),
      adminToken: secrets.adminToken,
      institutions,
      issuance,
      status,
      tokenLists,
      publicUrl: config.publicUrl,
      keyRotation,
      trust,
      challenges,
      verifications,
      acceptances,
      credentialingFiles,
      consents,
      webhooks: notifications.webhooks,
      notices: notifications.notices,
      audit: audit.log,
      resolver,
      verifyContext,
      oid4vci,
      oid4vp,
      health,
      web: { sessions: webSessions, chainProvider: chain.provider, publicUrl: config.publicUrl },
      log,
      metrics,
      metricsToken: config.http.metricsToken,
      http: config.http,
      worker: opts.worker,
    })
    const server = await listen(app.callback(), config.port)
    const port = (server.address() as AddressInfo).port
    const openDb = db
    if (background) {
      notifications.worker.start()
      audit.anchorer.start()
      pruner.start()
    }
    const resuming = background ? resumeKeyRotations(keyRotation, log) : Promise.resolve()
    return {
      url: `http://127.0.0.1:${port}`,
      port,
      config,
      secrets,
      chain,
      db: openDb,
      agent,
      verifyContext,
      services: { institutions, webhooks: notifications.webhooks, issuance, acceptances, verifications, trust, status, keyRotation },
      store: database,
      notifier: notifications.notifier,
      audit: audit.log,
      auditAnchorer: audit.anchorer,
      pruner,
      metrics,
      app,
      async stop() {
        // Stop accepting; idle keep-alive connections close now, requests in flight get the grace period.
        const closed = new Promise<void>((resolve) => server.close(() => resolve()))
        server.closeIdleConnections()
        const grace = setTimeout(() => server.closeAllConnections(), config.http.shutdownGraceMs)
        await closed
        clearTimeout(grace)
        // Attempts in flight finish and are recorded before the database goes away.
        await notifications.worker.stop()
        await audit.anchorer.stop()
        await pruner.stop()
        await resuming
        await openDb.destroy()
        await resolver.close()
        await chain.stop()
      },
    }
  } catch (e) {
    await db?.destroy().catch(() => undefined)
    await chain.stop()
    throw e
  }
}

/**
 * Finishes key rotations a crash left pending (each blocks its institution's signing until finished), in
 * the background: a chain that does not answer now must not keep medcred from starting. What fails stays
 * pending for the next request or start.
 */
function resumeKeyRotations(keyRotation: KeyRotationService, log: Logger): Promise<void> {
  return keyRotation
    .resumePending({ ...systemActing('key-rotation'), detail: { resumed: true } })
    .then(({ finished, failed }) => {
      for (const r of finished) log.info('pending key rotation finished', { rotationId: r.id, institutionId: r.institutionId, blockNumber: r.blockNumber })
      for (const { rotation, error } of failed) {
        log.error('pending key rotation not finished; left for the next start or rotation request', { rotationId: rotation.id, institutionId: rotation.institutionId, error: String((error as Error)?.message ?? error) })
      }
    })
    .catch((e: unknown) => log.error('pending key rotations could not be read', { error: String((e as Error)?.message ?? e) }))
}

async function listen(handler: Parameters<typeof import('node:http').createServer>[1], port: number): Promise<Server> {
  const { createServer } = await import('node:http')
  const server = createServer(handler)
  answerClientErrorsAsProblems(server)
  server.keepAliveTimeout = 5000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, () => resolve())
  })
  return server
}

function healthCheck(db: DataSource, chain: Chain, worker?: number): () => Promise<HealthReport> {
  return async () => {
    const dbOk = await db.query('SELECT 1').then(() => true, () => false)
    const blockNumber = await chain.provider.getBlockNumber().catch(() => null)
    const pending = dbOk ? await db.showMigrations().catch(() => undefined) : undefined
    const migrations = pending === undefined ? 'unknown' : pending ? 'pending' : 'ok'
    return {
      status: dbOk && blockNumber !== null && migrations === 'ok' ? 'ok' : 'degraded',
      db: dbOk ? 'ok' : 'unreachable',
      migrations,
      chain: { chainId: chain.chainId, registry: chain.registry, blockNumber, status: blockNumber !== null ? 'ok' : 'unreachable' },
      ...(worker !== undefined ? { worker } : {}),
    }
  }
}
