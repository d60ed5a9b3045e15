import Router from '@koa/router'
import { normalizeCredential } from 'did-jwt-vc'
import { z } from 'zod'
import { STATUS_ENTRY_TYPES } from '../../status/list-credential.js'
import { STATUS_LIST_JWT_TYPE, TOKEN_STATUS_TYPE } from '../../status/token-status-list.js'
import { STATUS_REASONS, type StatusReason, type StatusRequest } from '../../status/service.js'
import { AppError } from '../../errors.js'
import { envelope } from '../../credentials/vc-jose.js'
import { parseOrThrow } from '../../validation.js'
import { institutionOf } from '../authorization.js'
import type { AppDeps } from '../app.js'
import { json } from '../reply.js'
import { doc } from '../openapi/route-doc.js'
import { auditContext } from '../audit-context.js'
import { JsonObject } from '../openapi/replies.js'

const ChangeStatusRequest = z.strictObject({
  credentialId: z.string().min(1).max(300),
  credentialStatus: z
    .array(z.strictObject({ type: z.enum([...STATUS_ENTRY_TYPES, TOKEN_STATUS_TYPE]), status: z.enum(['revoked', 'suspended', 'active']) }))
    .min(1)
    .max(2),
  reason: z.enum(STATUS_REASONS).optional(),
})

export function statusRoutes(deps: AppDeps): Router {
  const router = new Router({ sensitive: true })

  /** VC API: change a credential's status. Only its issuer may; revocation is final. */
  doc(router, { method: 'post', path: '/credentials/status', tag: 'status', summary: 'VC API: change a credential’s status (issuer only)', body: ChangeStatusRequest, replies: { 200: { description: 'The new status', schema: JsonObject } }, problems: ['not-found', 'conflict'] })
  router.post('/credentials/status', async (ctx) => {
    const issuer = institutionOf(ctx)
    const body = parseOrThrow(ChangeStatusRequest, ctx.state.body)
    const reason: StatusReason = body.reason ?? (body.credentialStatus.every((s) => s.status === 'active') ? 'reinstated' : 'unspecified')
    const result = await deps.status.change(issuer, body.credentialId, body.credentialStatus as StatusRequest[], reason, auditContext(ctx))
    json(ctx, 200, result)
  })

  doc(router, { method: 'get', path: '/credentials/:id/status', tag: 'status', summary: 'A credential’s status, entries and history (issuer only)', replies: { 200: { description: 'The status', schema: JsonObject } } })
  router.get('/credentials/:id/status', async (ctx) => {
    const issuer = institutionOf(ctx)
    json(ctx, 200, await deps.status.statusOf(issuer, ctx.params.id))
  })

  /**
   * The public status list credential. `no-cache` lets caches keep it but revalidate every time (ETag),
   * so a revocation is seen on the very next check.
   */
  doc(router, { method: 'get', path: '/status/:listId', tag: 'status', summary: 'A public status list credential (ETag, revalidate)', replies: { 200: { description: 'The status list credential', schema: JsonObject }, 304: { description: 'Not modified' } } })
  router.get('/status/:listId', async (ctx) => {
    const published = await deps.status.published(ctx.params.listId)
    if (!published) throw new AppError('not-found', `no status list ${ctx.params.listId}`)
    const etag = `"${ctx.params.listId}.${published.version}"`
    ctx.set('ETag', etag)
    ctx.set('Cache-Control', 'public, no-cache')
    ctx.set('Vary', 'Accept')
    if (ctx.get('if-none-match') === etag) {
      ctx.status = 304
      return
    }
    if (ctx.accepts('application/json', 'application/vc+jwt', 'application/jwt') === 'application/json') {
      // A Bitstring Status List is a VC 2.0 vc+jwt: in JSON, its envelope.
      json(ctx, 200, published.format === 'BitstringStatusList' ? envelope(published.jwt) : normalizeCredential(published.jwt))
    } else {
      ctx.status = 200
      ctx.body = published.jwt
      ctx.type = 'application/vc+jwt'
    }
  })

  /** An IETF Status List Token (SD-JWT VCs' `status.status_list.uri`), revalidated on every use like the lists above. */
  doc(router, { method: 'get', path: '/token-status/:listId', tag: 'status', summary: 'A public IETF Token Status List (statuslist+jwt)', replies: { 200: { description: 'The status list token', type: 'application/statuslist+jwt' }, 304: { description: 'Not modified' } } })
  router.get('/token-status/:listId', async (ctx) => {
    const published = await deps.tokenLists.published(ctx.params.listId)
    if (!published) throw new AppError('not-found', `no status list ${ctx.params.listId}`)
    const etag = `"${ctx.params.listId}.${published.version}"`
    ctx.set('ETag', etag)
    ctx.set('Cache-Control', 'public, no-cache')
    if (ctx.get('if-none-match') === etag) {
      ctx.status = 304
      return
    }
    ctx.status = 200
    ctx.body = published.jwt
    ctx.type = `application/${STATUS_LIST_JWT_TYPE}`
  })

  return router
}
