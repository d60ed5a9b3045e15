import { randomUUID } from 'node:crypto'
import Koa from 'koa'
import type { IssuanceService } from '../issuance/service.js'
import type { AuditLog } from '../audit/audit-log.js'
import type { KeyRotationService } from '../institutions/key-rotation.js'
import type { StatusService } from '../status/service.js'
import type { TokenStatusLists } from '../status/token-status-list.js'
import type { TrustRegistry } from '../trust/service.js'
import type { ChallengeService } from '../acceptance/challenges.js'
import type { VerificationService } from '../acceptance/verifications.js'
import type { AcceptanceService } from '../acceptance/acceptances.js'
import type { CredentialingFileService } from '../acceptance/credentialing-file.js'
import type { ConsentService } from '../consent/service.js'
import type { NotificationService, WebhookService } from '../notifications/index.js'
import type { InstitutionService } from '../institutions/service.js'
import type { DidResolver } from '../did/resolver.js'
import type { LimitsConfig } from '../config.js'
import type { VerifyContext } from '../verification/verify-credential.js'
import type { Oid4vciIssuer } from '../oid4vc/issuer.js'
import type { Oid4vpVerifier } from '../oid4vc/verifier.js'
import type { HttpConfig } from '../config.js'
import type { Metrics } from '../metrics.js'
import { oauthErrors, WALLET_PROTOCOL_PATH } from './oauth-errors.js'
import { accessLog, cachePolicy, corsPolicy, securityHeaders, wellFormedUrl } from './edge.js'
import { metricsRoutes } from './routes/metrics.js'
import { docsRoutes } from './routes/docs.js'
import { openApiDocument } from './openapi/document.js'
import { docsOf } from './openapi/route-doc.js'
import type Router from '@koa/router'
import { authenticate } from './auth.js'
import { enforceAccess } from './authorization.js'
import { jsonBody } from './body.js'
import { problems, type Logger } from './problem.js'
import { rateLimit, type RateLimits } from './rate-limit.js'
import { auditRoutes } from './routes/audit.js'
import { credentialRoutes } from './routes/credentials.js'
import { healthRoutes, type HealthReport } from './routes/health.js'
import { identifierRoutes } from './routes/identifiers.js'
import { institutionRoutes } from './routes/institutions.js'
import { presentationRoutes } from './routes/presentations.js'
import { statusRoutes } from './routes/status.js'
import { trustRoutes } from './routes/trust.js'
import { verificationRoutes } from './routes/verifications.js'
import { acceptanceRoutes } from './routes/acceptances.js'
import { notificationRoutes } from './routes/notifications.js'
import { webhookRoutes } from './routes/webhooks.js'
import { consentRoutes } from './routes/consents.js'
import { typeMetadataRoutes } from './routes/type-metadata.js'
import { oid4vciRoutes } from './routes/oid4vci.js'
import { oid4vpRoutes } from './routes/oid4vp.js'
import { signInLinkRoutes } from './routes/sign-in-links.js'
import { fhirRoutes } from './routes/fhir.js'
import type { WebDeps } from '../web/context.js'
import { WEB_PATH, webErrors, webRoutes, webSession } from '../web/routes.js'

/** Everything the HTTP layer calls; built by the composition root (src/service.ts), in tests too. */
export interface AppDeps {
  limits: LimitsConfig
  rateLimits: RateLimits
  adminToken: string
  institutions: InstitutionService
  issuance: IssuanceService
  status: StatusService
  tokenLists: TokenStatusLists
  /** Base URL of this deployment (PUBLIC_URL): `vct` URLs, the audience of patients' tokens. */
  publicUrl: string
  keyRotation: KeyRotationService
  trust: TrustRegistry
  challenges: ChallengeService
  verifications: VerificationService
  acceptances: AcceptanceService
  credentialingFiles: CredentialingFileService
  consents: ConsentService
  webhooks: WebhookService
  notices: NotificationService
  audit: AuditLog
  resolver: DidResolver
  verifyContext: VerifyContext
  oid4vci: Oid4vciIssuer
  oid4vp: Oid4vpVerifier
  health: () => Promise<HealthReport>
  /** The office and board pages (src/web): sessions, and the chain for the audit page's verify button. */
  web: WebDeps
  log: Logger
  metrics: Metrics
  /** Reads `/metrics` besides the admin token (METRICS_TOKEN). */
  metricsToken?: string
  http: Pick<HttpConfig, 'corsOrigins'>
  /** This process's index among several HTTP workers (answered as `X-Medcred-Worker`), if it is one. */
  worker?: number
}

/**
 * Paths whose bearer token is not an API key: the wallet protocols' access tokens and the metrics token
 * (their handlers check them), and the pages, where only the session cookie is the caller.
 */
const OWN_BEARER_PATH = new RegExp(`${WALLET_PROTOCOL_PATH.source}|^/metrics$|${WEB_PATH.source}`)

const REQUEST_ID = /^[A-Za-z0-9._-]{1,100}$/

export function createApp(deps: AppDeps): Koa {
  const app = new Koa({ proxy: false })
  app.silent = true

  app.use(async (ctx, next) => {
    const given = ctx.get('x-request-id')
    ctx.state.requestId = REQUEST_ID.test(given) ? given : randomUUID()
    ctx.set('X-Request-Id', ctx.state.requestId)
    if (deps.worker !== undefined) ctx.set('X-Medcred-Worker', String(deps.worker))
    await next()
  })
  app.use(accessLog(deps.log, deps.metrics))
  app.use(securityHeaders())
  app.use(corsPolicy(deps.http.corsOrigins))
  app.use(cachePolicy())
  app.use(problems(deps.log))
  app.use(oauthErrors(deps.log))
  app.use(webErrors(deps.log))
  app.use(wellFormedUrl())
  app.use(authenticate(deps, { foreignBearer: OWN_BEARER_PATH }))
  app.use(rateLimit(deps.rateLimits))
  app.use(jsonBody(deps.limits.bodyBytes, { formPaths: new RegExp(`${WALLET_PROTOCOL_PATH.source}|${WEB_PATH.source}`) }))
  app.use(webSession(deps))

  const routers = [webRoutes, signInLinkRoutes, fhirRoutes, healthRoutes, institutionRoutes, credentialRoutes, statusRoutes, typeMetadataRoutes, presentationRoutes, identifierRoutes, trustRoutes, verificationRoutes, acceptanceRoutes, consentRoutes, webhookRoutes, notificationRoutes, auditRoutes, oid4vciRoutes, oid4vpRoutes, metricsRoutes].map((routes) => routes(deps))
  let document: Record<string, unknown> | undefined
  routers.push(docsRoutes(deps, () => (document ??= openApiDocument(routers.flatMap(docsOf), deps.publicUrl))))
  enforceAccess(routers)
  for (const router of routers) app.use(router.routes()).use(router.allowedMethods())
  ROUTERS.set(app, routers)
  return app
}

const ROUTERS = new WeakMap<Koa, Router[]>()

/** The routers `createApp` mounted, for the test that holds them against the OpenAPI document. */
export function routersOf(app: Koa): Router[] {
  return ROUTERS.get(app) ?? []
}
