import Router from '@koa/router'
import { AppError } from '../../errors.js'
import { secretsEqual } from '../../institutions/api-keys.js'
import type { AppDeps } from '../app.js'
import { doc } from '../openapi/route-doc.js'

const BEARER = /^Bearer\s+(\S{1,2048})$/i

/**
 * Prometheus metrics (src/metrics.ts), for the admin token or METRICS_TOKEN (a scraper's own token, which
 * reads nothing else), both compared in constant time.
 */
export function metricsRoutes(deps: AppDeps): Router {
  const router = new Router({ sensitive: true })
  doc(router, { method: 'get', path: '/metrics', tag: 'operations', summary: 'Prometheus metrics of the worker that answers', replies: { 200: { description: 'Prometheus text exposition', type: 'text/plain' } } })
  router.get('/metrics', async (ctx) => {
    // authenticate() leaves this path's bearer to this handler: METRICS_TOKEN is no API key.
    const token = BEARER.exec(ctx.get('authorization'))?.[1]
    if (!token) throw new AppError('unauthorized', 'metrics need Authorization: Bearer <admin token or METRICS_TOKEN>')
    deps.rateLimits.refuseIfLockedOut(ctx.ip)
    const admin = secretsEqual(token, deps.adminToken)
    const scraper = deps.metricsToken !== undefined && secretsEqual(token, deps.metricsToken)
    if (!admin && !scraper) {
      await deps.rateLimits.authenticationFailed(ctx.ip)
      throw new AppError('unauthorized', 'the bearer token is neither the admin token nor METRICS_TOKEN')
    }
    ctx.set('Cache-Control', 'no-store')
    ctx.body = await deps.metrics.text()
    ctx.type = deps.metrics.contentType
  })
  return router
}
