import Router from '@koa/router'
import type { AppDeps } from '../app.js'
import { json } from '../reply.js'

export interface HealthReport {
  status: 'ok' | 'degraded'
  db: 'ok' | 'unreachable'
  chain: { chainId: number; registry: string; blockNumber: number | null; status: 'ok' | 'unreachable' }
  /** Which HTTP worker answered, when several serve (WEB_CONCURRENCY > 1). */
  worker?: number
}

export function healthRoutes(deps: AppDeps): Router {
  const router = new Router()
  router.get('/health', async (ctx) => {
    const report = await deps.health()
    ctx.set('Cache-Control', 'no-store')
    json(ctx, report.status === 'ok' ? 200 : 503, report)
  })
  return router
}
