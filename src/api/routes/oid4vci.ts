import Router from '@koa/router'
import type { Context } from 'koa'
import { z } from 'zod'
import { UnsignedCredentialSchema } from '../../credentials/w3c.js'
import { AppError } from '../../errors.js'
import { WALLET_FORMATS } from '../../oid4vc/formats.js'
import { OAuthError } from '../../oid4vc/oauth-error.js'
import { parseOrThrow } from '../../validation.js'
import { auditContext } from '../audit-context.js'
import { institutionOf } from '../authorization.js'
import type { AppDeps } from '../app.js'
import { WALLET_PROTOCOL_PATH } from '../oauth-errors.js'
import { json } from '../reply.js'
import { doc } from '../openapi/route-doc.js'
import { JsonObject } from '../openapi/replies.js'

const OfferRequest = z.strictObject({
  credential: UnsignedCredentialSchema,
  format: z.enum(Object.keys(WALLET_FORMATS) as [string, ...string[]]).optional(),
  txCode: z.boolean().optional(),
})

/** A protocol reply: JSON the wallet must not cache (tokens, nonces, credentials). */
function noStore(ctx: Context, body: unknown): void {
  ctx.set('Cache-Control', 'no-store')
  json(ctx, 200, body)
}

function formOf(ctx: Context): Record<string, string> {
  const form = ctx.state.form as Record<string, string> | undefined
  if (!form) throw new OAuthError('invalid_request', 'send the request as application/x-www-form-urlencoded')
  return form
}

/** The issuer's protocol routes exist only under an institution id (anything else, e.g. `/oid4vci/offers/nonce`, is a 404). */
async function underIssuer(ctx: Context, next: () => Promise<unknown>): Promise<void> {
  if (!WALLET_PROTOCOL_PATH.test(ctx.path)) throw new AppError('not-found', `nothing at ${ctx.method} ${ctx.path}`)
  await next()
}

/** OpenID for Verifiable Credential Issuance 1.0, pre-authorized code flow; see src/oid4vc/issuer.ts. */
export function oid4vciRoutes(deps: AppDeps): Router {
  const router = new Router({ sensitive: true })
  const issuer = deps.oid4vci

  /** An institution offers a credential to a wallet: 201 with an `openid-credential-offer://` URI. */
  doc(router, { method: 'post', path: '/oid4vci/offers', tag: 'oid4vci', summary: 'Offer a credential to a wallet (openid-credential-offer:// URI)', body: OfferRequest, replies: { 201: { description: 'The offer', schema: z.looseObject({ id: z.string(), offer: z.string().startsWith('openid-credential-offer://'), expiresAt: z.string() }) } }, problems: ['invalid-credential'] })
  router.post('/oid4vci/offers', async (ctx) => {
    const institution = institutionOf(ctx)
    const input = parseOrThrow(OfferRequest, ctx.state.body)
    const created = await issuer.createOffer(institution, input, auditContext(ctx).actor)
    ctx.set('Location', `/oid4vci/offers/${created.id}`)
    json(ctx, 201, created)
  })

  doc(router, { method: 'get', path: '/oid4vci/offers/:id', tag: 'oid4vci', summary: 'An offer’s state', replies: { 200: { description: 'The offer state', schema: JsonObject } } })
  router.get('/oid4vci/offers/:id', async (ctx) => {
    const institution = institutionOf(ctx)
    const offer = await issuer.offerState(institution, ctx.params.id)
    if (!offer) throw new AppError('not-found', `no offer ${ctx.params.id} of this institution`)
    json(ctx, 200, offer)
  })

  doc(router, { method: 'get', path: '/.well-known/openid-credential-issuer/oid4vci/:institutionId', tag: 'oid4vci', summary: 'OID4VCI credential issuer metadata', replies: { 200: { description: 'Metadata', schema: JsonObject } } })
  router.get('/.well-known/openid-credential-issuer/oid4vci/:institutionId', async (ctx) => {
    const metadata = await issuer.metadata(ctx.params.institutionId)
    if (!metadata) throw new AppError('not-found', `no credential issuer ${ctx.params.institutionId}`)
    json(ctx, 200, metadata)
  })

  doc(router, { method: 'get', path: '/.well-known/oauth-authorization-server/oid4vci/:institutionId', tag: 'oid4vci', summary: 'OAuth authorization server metadata', replies: { 200: { description: 'Metadata', schema: JsonObject } } })
  router.get('/.well-known/oauth-authorization-server/oid4vci/:institutionId', async (ctx) => {
    const metadata = await issuer.authorizationServerMetadata(ctx.params.institutionId)
    if (!metadata) throw new AppError('not-found', `no authorization server ${ctx.params.institutionId}`)
    json(ctx, 200, metadata)
  })

  doc(router, { method: 'get', path: '/oid4vci/:institutionId/credential-offer/:code', tag: 'oid4vci', summary: 'The credential offer behind a credential_offer_uri', replies: { 200: { description: 'The credential offer', schema: JsonObject } } })
  router.get('/oid4vci/:institutionId/credential-offer/:code', underIssuer, async (ctx) => {
    const offer = await issuer.offerDocument(ctx.params.institutionId, ctx.params.code)
    if (!offer) throw new OAuthError('invalid_request', 'no open credential offer at this URI')
    noStore(ctx, offer)
  })

  doc(router, { method: 'post', path: '/oid4vci/:institutionId/token', tag: 'oid4vci', summary: 'Token endpoint (pre-authorized code grant; OAuth errors)', replies: { 200: { description: 'An access token', schema: JsonObject }, 400: { description: 'An OAuth error object', schema: JsonObject } } })
  router.post('/oid4vci/:institutionId/token', underIssuer, async (ctx) => {
    noStore(ctx, await issuer.token(ctx.params.institutionId, formOf(ctx)))
  })

  doc(router, { method: 'post', path: '/oid4vci/:institutionId/nonce', tag: 'oid4vci', summary: 'Nonce endpoint', replies: { 200: { description: 'A c_nonce', schema: JsonObject } } })
  router.post('/oid4vci/:institutionId/nonce', underIssuer, async (ctx) => {
    noStore(ctx, await issuer.nonce(ctx.params.institutionId))
  })

  doc(router, { method: 'post', path: '/oid4vci/:institutionId/credential', tag: 'oid4vci', summary: 'Credential endpoint (proofs.jwt)', replies: { 200: { description: 'The credential', schema: JsonObject }, 400: { description: 'An OID4VCI error object', schema: JsonObject } } })
  router.post('/oid4vci/:institutionId/credential', underIssuer, async (ctx) => {
    const bearer = /^Bearer\s+(\S{1,200})$/i.exec(ctx.get('authorization'))?.[1]
    if (ctx.state.form) throw new OAuthError('invalid_credential_request', 'send the Credential Request as application/json')
    noStore(ctx, await issuer.credential(ctx.params.institutionId, bearer, ctx.state.body))
  })

  return router
}
