import Router from '@koa/router'
import { z } from 'zod'
import { parseOrThrow } from '../../validation.js'
import { institutionOf } from '../authorization.js'
import type { AppDeps } from '../app.js'
import { json } from '../reply.js'
import { doc } from '../openapi/route-doc.js'
import { JsonObject } from '../openapi/replies.js'

const ListQuery = z.strictObject({
  after: z.uuid('must be the `next` of the previous page').optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
})

/** The calling institution's notices, newest first: `?limit=` (1–200, default 50) and `?after=<next>`. */
export function notificationRoutes(deps: AppDeps): Router {
  const router = new Router({ sensitive: true })

  doc(router, { method: 'get', path: '/notifications', tag: 'notifications', summary: 'The institution’s notices, newest first', query: ListQuery, replies: { 200: { description: 'A page of notices', schema: JsonObject } } })
  router.get('/notifications', async (ctx) => {
    const institution = institutionOf(ctx)
    const query = parseOrThrow(ListQuery, ctx.query, { prefix: 'query' })
    ctx.set('Cache-Control', 'no-store')
    json(ctx, 200, await deps.notices.list(institution.id, query))
  })

  return router
}
