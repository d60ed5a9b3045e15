import Router from '@koa/router'
import { z } from 'zod'
import { VERIFICATION_PURPOSES } from '../../acceptance/acceptance.entities.js'
import { KNOWN_TYPES } from '../../credentials/subject-schemas.js'
import { AppError } from '../../errors.js'
import { OAuthError } from '../../oid4vc/oauth-error.js'
import { REQUEST_OBJECT_TYP } from '../../oid4vc/request-object.js'
import { parseOrThrow } from '../../validation.js'
import { institutionOf } from '../authorization.js'
import type { AppDeps } from '../app.js'
import { json } from '../reply.js'
import { doc } from '../openapi/route-doc.js'
import { JsonObject } from '../openapi/replies.js'

const PresentationRequest = z.strictObject({
  purpose: z.enum(VERIFICATION_PURPOSES),
  credentialTypes: z
    .array(z.enum(Object.keys(KNOWN_TYPES) as [string, ...string[]]))
    .min(1)
    .max(5)
    .refine((types) => new Set(types).size === types.length, 'each type once'),
  acceptReceipts: z.boolean().optional(),
  /** The credential format asked of the wallet: `jwt_vc_json` (default) or `dc+sd-jwt` (patient identity). */
  format: z.enum(['jwt_vc_json', 'dc+sd-jwt']).optional(),
})


/** OpenID for Verifiable Presentations 1.0 for hospitals; see src/oid4vc/verifier.ts. */
export function oid4vpRoutes(deps: AppDeps): Router {
  const router = new Router({ sensitive: true })
  const verifier = deps.oid4vp

  /** A hospital asks a wallet for credentials: 201 with an `openid4vp://` URI to show as a QR code. */
  doc(router, { method: 'post', path: '/oid4vp/requests', tag: 'oid4vp', summary: 'Ask a wallet for credentials (openid4vp:// URI; hospital)', body: PresentationRequest, replies: { 201: { description: 'The request', schema: JsonObject } } })
  router.post('/oid4vp/requests', async (ctx) => {
    const hospital = institutionOf(ctx)
    const input = parseOrThrow(PresentationRequest, ctx.state.body)
    const created = await verifier.createRequest(hospital, input)
    ctx.set('Location', `/oid4vp/requests/${created.id}`)
    json(ctx, 201, created)
  })

  /** What the hospital polls: the request's state and what it produced. */
  doc(router, { method: 'get', path: '/oid4vp/requests/:id', tag: 'oid4vp', summary: 'A presentation request’s state and outcome (hospital)', replies: { 200: { description: 'The request state', schema: JsonObject } } })
  router.get('/oid4vp/requests/:id', async (ctx) => {
    const hospital = institutionOf(ctx)
    const view = await verifier.get(hospital, ctx.params.id)
    if (!view) throw new AppError('not-found', `no presentation request ${ctx.params.id} of this institution`)
    json(ctx, 200, view)
  })

  doc(router, { method: 'get', path: '/oid4vp/requests/:id/request-object', tag: 'oid4vp', summary: 'The signed request object (oauth-authz-req+jwt)', replies: { 200: { description: 'The request object', type: 'application/oauth-authz-req+jwt' } } })
  router.get('/oid4vp/requests/:id/request-object', async (ctx) => {
    const jwt = await verifier.requestObject(ctx.params.id)
    ctx.set('Cache-Control', 'no-store')
    ctx.status = 200
    ctx.body = jwt
    ctx.type = `application/${REQUEST_OBJECT_TYP}`
  })

  /** The wallet's `direct_post` Authorization Response. */
  doc(router, { method: 'post', path: '/oid4vp/requests/:id/response', tag: 'oid4vp', summary: 'The wallet’s direct_post response', replies: { 200: { description: 'Received', schema: JsonObject }, 400: { description: 'An OAuth error object', schema: JsonObject } } })
  router.post('/oid4vp/requests/:id/response', async (ctx) => {
    const form = ctx.state.form as Record<string, string> | undefined
    if (!form) throw new OAuthError('invalid_request', 'send the response as application/x-www-form-urlencoded')
    await verifier.respond(ctx.params.id, form)
    ctx.set('Cache-Control', 'no-store')
    json(ctx, 200, {})
  })

  return router
}
