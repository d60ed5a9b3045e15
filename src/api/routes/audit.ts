import Router from '@koa/router'
import type { Context } from 'koa'
import { z } from 'zod'
import type { AuditScope } from '../../audit/types.js'
import { parseOrThrow } from '../../validation.js'
import { callerOf } from '../auth.js'
import { institutionOf } from '../authorization.js'
import type { AppDeps } from '../app.js'
import { json } from '../reply.js'
import { doc } from '../openapi/route-doc.js'
import { AuditPage, JsonObject } from '../openapi/replies.js'

const seqNumber = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER)

const ListQuery = z.strictObject({
  after: seqNumber.default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
})

const ProofParams = z.strictObject({ seq: seqNumber.min(1) })

/** The admin reads everything; an institution its own acts and acts on what it issued; nobody else anything. */
function scopeOf(ctx: Context): AuditScope {
  const caller = callerOf(ctx)
  if (caller.kind === 'admin') return { kind: 'admin' }
  return { kind: 'institution', institutionId: institutionOf(ctx).id }
}

export function auditRoutes(deps: AppDeps): Router {
  const router = new Router({ sensitive: true })

  /** A page of events, oldest first; `next` is the `after` of the following page (null at the end). */
  doc(router, { method: 'get', path: '/audit/events', tag: 'audit', summary: 'A page of audit events (admin: all; institution: its own and on what it issued)', query: ListQuery, replies: { 200: { description: 'A page of events', schema: AuditPage } } })
  router.get('/audit/events', async (ctx) => {
    const scope = scopeOf(ctx)
    const { after, limit } = parseOrThrow(ListQuery, ctx.query)
    const events = await deps.audit.list(scope, { after, limit })
    ctx.set('Cache-Control', 'no-store')
    json(ctx, 200, { events, next: events.length === limit ? events[events.length - 1].seq : null })
  })

  /** The event, its Merkle inclusion proof, and the on-chain anchor of its batch. */
  doc(router, { method: 'get', path: '/audit/events/:seq/proof', tag: 'audit', summary: 'An event’s Merkle inclusion proof and on-chain anchor', replies: { 200: { description: 'The proof', schema: JsonObject } } })
  router.get('/audit/events/:seq/proof', async (ctx) => {
    const scope = scopeOf(ctx)
    const { seq } = parseOrThrow(ProofParams, ctx.params)
    ctx.set('Cache-Control', 'no-store')
    json(ctx, 200, await deps.audit.proof(scope, seq))
  })

  return router
}
