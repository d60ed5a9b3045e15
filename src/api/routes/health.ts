import Router from '@koa/router'
import type { Context } from 'koa'
import type { AppDeps } from '../app.js'
import { json } from '../reply.js'

export interface HealthReport {
  status: 'ok' | 'degraded'
  db: 'ok' | 'unreachable'
  /** Whether every migration this build has has run on the database. */
  migrations: 'ok' | 'pending' | 'unknown'
  chain: { chainId: number; registry: string; blockNumber: number | null; status: 'ok' | 'unreachable' }
  /** Which HTTP worker answered, when several serve (WEB_CONCURRENCY > 1). */
  worker?: number
}

/**
 * `/health/live`: the process answers (restart it if not). `/health/ready`: database, chain and migrations
 * are OK (send it traffic), else 503. `/health` is the ready report under its older name.
 */
export function healthRoutes(deps: AppDeps): Router {
  const router = new Router()
  const ready = async (ctx: Context) => {
    const report = await deps.health()
    ctx.set('Cache-Control', 'no-store')
    json(ctx, report.status === 'ok' ? 200 : 503, report)
  }
  router.get('/health', ready)
  router.get('/health/ready', ready)
  router.get('/health/live', (ctx) => {
    ctx.set('Cache-Control', 'no-store')
    json(ctx, 200, { status: 'ok', ...(deps.worker !== undefined ? { worker: deps.worker } : {}) })
  })
  return router
}
