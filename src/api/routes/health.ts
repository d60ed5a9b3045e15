import Router from '@koa/router'
import type { Context } from 'koa'
import type { AppDeps } from '../app.js'
import { json } from '../reply.js'
import { doc } from '../openapi/route-doc.js'
import { HealthReply, LiveReply } from '../openapi/replies.js'

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
  const router = new Router({ sensitive: true })
  const ready = async (ctx: Context) => {
    const report = await deps.health()
    ctx.set('Cache-Control', 'no-store')
    json(ctx, report.status === 'ok' ? 200 : 503, report)
  }
  doc(router, { method: 'get', path: '/health', tag: 'operations', summary: 'Readiness report under its older name', replies: { 200: { description: 'Ready', schema: HealthReply }, 503: { description: 'Not ready', schema: HealthReply } } })
  router.get('/health', ready)
  doc(router, { method: 'get', path: '/health/ready', tag: 'operations', summary: 'Ready: database, chain and migrations OK', replies: { 200: { description: 'Ready', schema: HealthReply }, 503: { description: 'Not ready', schema: HealthReply } } })
  router.get('/health/ready', ready)
  doc(router, { method: 'get', path: '/health/live', tag: 'operations', summary: 'Live: the process answers', replies: { 200: { description: 'Alive', schema: LiveReply } } })
  router.get('/health/live', (ctx) => {
    ctx.set('Cache-Control', 'no-store')
    json(ctx, 200, { status: 'ok', ...(deps.worker !== undefined ? { worker: deps.worker } : {}) })
  })
  return router
}
