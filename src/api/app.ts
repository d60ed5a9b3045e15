import { randomUUID } from 'node:crypto'
import Koa from 'koa'
import type { IssuanceService } from '../issuance/service.js'
import type { InstitutionService } from '../institutions/service.js'
import type { DidResolver } from '../did/resolver.js'
import type { LimitsConfig } from '../config.js'
import type { VerifyContext } from '../verification/verify-credential.js'
import { authenticate } from './auth.js'
import { jsonBody } from './body.js'
import { problems, type Logger } from './problem.js'
import { rateLimit } from './rate-limit.js'
import { credentialRoutes } from './routes/credentials.js'
import { healthRoutes, type HealthReport } from './routes/health.js'
import { identifierRoutes } from './routes/identifiers.js'
import { institutionRoutes } from './routes/institutions.js'
import { presentationRoutes } from './routes/presentations.js'

/** Everything the HTTP layer calls; built by the composition root (src/service.ts), in tests too. */
export interface AppDeps {
  limits: LimitsConfig
  adminToken: string
  institutions: InstitutionService
  issuance: IssuanceService
  resolver: DidResolver
  verifyContext: VerifyContext
  health: () => Promise<HealthReport>
  log: Logger
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,100}$/

export function createApp(deps: AppDeps): Koa {
  const app = new Koa({ proxy: false })
  app.silent = true

  app.use(async (ctx, next) => {
    const given = ctx.get('x-request-id')
    ctx.state.requestId = REQUEST_ID.test(given) ? given : randomUUID()
    ctx.set('X-Request-Id', ctx.state.requestId)
    ctx.set('X-Content-Type-Options', 'nosniff')
    await next()
  })
  app.use(problems(deps.log))
  app.use(rateLimit(deps.limits.ratePerMinute))
  app.use(authenticate(deps))
  app.use(jsonBody(deps.limits.bodyBytes))

  for (const routes of [healthRoutes, institutionRoutes, credentialRoutes, presentationRoutes, identifierRoutes]) {
    const router = routes(deps)
    app.use(router.routes()).use(router.allowedMethods())
  }
  return app
}
