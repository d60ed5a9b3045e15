import Router from '@koa/router'
import { z } from 'zod'
import { DID, JURISDICTION } from '../../credentials/identifiers.js'
import { parseOrThrow } from '../../validation.js'
import type { AppDeps } from '../app.js'
import { json } from '../reply.js'
import { doc } from '../openapi/route-doc.js'
import { auditContext } from '../audit-context.js'
import { JsonObject, TrustedIssuer } from '../openapi/replies.js'

const dateTime = z.iso.datetime({ offset: true })
const NewTrustedIssuer = z.strictObject({
  did: z.string().regex(DID, 'must be a DID'),
  credentialTypes: z.array(z.string().regex(/^[A-Za-z][A-Za-z0-9]{0,99}$/, 'must be a credential type name')).min(1).max(20),
  jurisdictions: z.array(z.string().regex(JURISDICTION, 'must be an ISO 3166-2 code such as US-TX')).max(100).optional(),
  validFrom: dateTime.optional(),
  validUntil: dateTime.optional(),
})
const NewTrustedVerifier = z.strictObject({ did: z.string().regex(DID, 'must be a DID') })

/** Consortium governance: who is trusted to issue what, and whose receipts count. Reads need any key. */
export function trustRoutes(deps: AppDeps): Router {
  const router = new Router({ sensitive: true })

  doc(router, { method: 'get', path: '/trust/issuers', tag: 'trust', summary: 'The trusted issuers', replies: { 200: { description: 'The registry', schema: z.object({ issuers: z.array(TrustedIssuer) }) } } })
  router.get('/trust/issuers', async (ctx) => {
    json(ctx, 200, { issuers: await deps.trust.listIssuers() })
  })
  doc(router, { method: 'post', path: '/trust/issuers', tag: 'trust', summary: 'Trust an issuer for credential types (and jurisdictions)', body: NewTrustedIssuer, replies: { 201: { description: 'The entry', schema: TrustedIssuer } } })
  router.post('/trust/issuers', async (ctx) => {
    const input = parseOrThrow(NewTrustedIssuer, ctx.state.body)
    json(ctx, 201, await deps.trust.addIssuer(input, auditContext(ctx)))
  })
  doc(router, { method: 'delete', path: '/trust/issuers/:did', tag: 'trust', summary: 'Stop trusting an issuer (relying institutions are notified)', replies: { 200: { description: 'Removed', schema: JsonObject } } })
  router.delete('/trust/issuers/:did', async (ctx) => {
    const result = await deps.trust.removeIssuer(ctx.params.did, auditContext(ctx))
    json(ctx, 200, { did: ctx.params.did, removed: true, notifiedInstitutions: result.notified })
  })

  doc(router, { method: 'get', path: '/trust/verifiers', tag: 'trust', summary: 'The verifiers whose receipts count', replies: { 200: { description: 'The registry', schema: JsonObject } } })
  router.get('/trust/verifiers', async (ctx) => {
    json(ctx, 200, { verifiers: await deps.trust.listVerifiers() })
  })
  doc(router, { method: 'post', path: '/trust/verifiers', tag: 'trust', summary: 'Trust a verifier’s receipts', body: NewTrustedVerifier, replies: { 201: { description: 'The entry', schema: JsonObject } } })
  router.post('/trust/verifiers', async (ctx) => {
    const { did } = parseOrThrow(NewTrustedVerifier, ctx.state.body)
    json(ctx, 201, await deps.trust.addVerifier(did, auditContext(ctx)))
  })
  doc(router, { method: 'delete', path: '/trust/verifiers/:did', tag: 'trust', summary: 'Stop trusting a verifier’s receipts', replies: { 200: { description: 'Removed', schema: JsonObject } } })
  router.delete('/trust/verifiers/:did', async (ctx) => {
    await deps.trust.removeVerifier(ctx.params.did, auditContext(ctx))
    ctx.status = 204
  })

  return router
}
