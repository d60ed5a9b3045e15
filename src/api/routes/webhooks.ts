import Router from '@koa/router'
import { z } from 'zod'
import { NOTICE_EVENTS } from '../../notifications/events.js'
import { parseOrThrow } from '../../validation.js'
import { institutionOf } from '../authorization.js'
import type { AppDeps } from '../app.js'
import { json } from '../reply.js'
import { doc } from '../openapi/route-doc.js'
import { auditContext } from '../audit-context.js'
import { JsonObject } from '../openapi/replies.js'

const NewWebhook = z.strictObject({
  url: z.string().min(1).max(2048),
  events: z.array(z.enum(NOTICE_EVENTS)).min(1, 'name at least one event').max(NOTICE_EVENTS.length * 2),
})

/** Webhook subscriptions: each institution manages its own; another's are invisible (404). */
export function webhookRoutes(deps: AppDeps): Router {
  const router = new Router({ sensitive: true })

  doc(router, { method: 'post', path: '/webhooks', tag: 'notifications', summary: 'Register a webhook (the signing secret is shown once)', body: NewWebhook, replies: { 201: { description: 'The webhook', schema: JsonObject } }, problems: ['invalid-webhook-url'] })
  router.post('/webhooks', async (ctx) => {
    const institution = institutionOf(ctx)
    const input = parseOrThrow(NewWebhook, ctx.state.body)
    const webhook = await deps.webhooks.register(institution.id, input, auditContext(ctx))
    ctx.set('Location', `/webhooks/${webhook.id}`)
    // The reply holds the signing secret, shown this once.
    ctx.set('Cache-Control', 'no-store')
    json(ctx, 201, webhook)
  })

  doc(router, { method: 'get', path: '/webhooks', tag: 'notifications', summary: 'The institution’s webhooks', replies: { 200: { description: 'The webhooks', schema: JsonObject } } })
  router.get('/webhooks', async (ctx) => {
    const institution = institutionOf(ctx)
    json(ctx, 200, { items: await deps.webhooks.list(institution.id) })
  })

  doc(router, { method: 'delete', path: '/webhooks/:id', tag: 'notifications', summary: 'Delete a webhook (pending deliveries are cancelled)', replies: { 204: { description: 'Deleted' } } })
  router.delete('/webhooks/:id', async (ctx) => {
    const institution = institutionOf(ctx)
    await deps.webhooks.remove(institution.id, ctx.params.id, auditContext(ctx))
    ctx.status = 204
  })

  return router
}
