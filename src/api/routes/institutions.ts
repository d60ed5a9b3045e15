import Router from '@koa/router'
import { z } from 'zod'
import { JURISDICTION } from '../../credentials/identifiers.js'
import { INSTITUTION_KINDS } from '../../institutions/institution.entity.js'
import { toView } from '../../institutions/service.js'
import { parseOrThrow } from '../../validation.js'
import type { AppDeps } from '../app.js'
import { json } from '../reply.js'
import { doc } from '../openapi/route-doc.js'
import { auditContext } from '../audit-context.js'
import { idempotencyOf } from '../idempotency-key.js'
import { callerOf } from '../auth.js'
import { InstitutionView, JsonObject, NewInstitutionReply } from '../openapi/replies.js'

const NewInstitution = z.strictObject({
  name: z.string().trim().min(1, 'must not be empty').max(200),
  kind: z.enum(INSTITUTION_KINDS as [string, ...string[]]),
  jurisdiction: z.string().regex(JURISDICTION, 'must be an ISO 3166-2 code such as US-TX').optional(),
})

const PolicyRequest = z.strictObject({ receiptWindowDays: z.number().int().min(1).max(3650) })
const RotateRequest = z.strictObject({ reason: z.enum(['superseded', 'compromised']) })

export function institutionRoutes(deps: AppDeps): Router {
  const router = new Router({ sensitive: true })

  doc(router, { method: 'post', path: '/institutions', tag: 'institutions', summary: 'Create an institution (did:ethr anchored on chain) and its API key', body: NewInstitution, replies: { 201: { description: 'Created; the API key is shown once', schema: NewInstitutionReply } }, problems: ['chain-unavailable'] })
  router.post('/institutions', async (ctx) => {
    const input = parseOrThrow(NewInstitution, ctx.state.body) as z.infer<typeof NewInstitution> & { kind: 'board' }
    const { institution, apiKey } = await deps.institutions.create(input, auditContext(ctx),
    )
    ctx.set('Location', `/institutions/${institution.id}`)
    ctx.set('Cache-Control', 'no-store')
    json(ctx, 201, { ...institution, apiKey })
  })

  doc(router, { method: 'get', path: '/institutions/:id', tag: 'institutions', summary: 'An institution (itself, or any with the admin token)', replies: { 200: { description: 'The institution', schema: InstitutionView } } })
  router.get('/institutions/:id', async (ctx) => {
    json(ctx, 200, toView(await deps.institutions.get(ctx.params.id)))
  })

  /** The institution's own policy: how old a receipt it relies on may be (days). */
  doc(router, { method: 'patch', path: '/institutions/:id/policy', tag: 'institutions', summary: 'Set the institution’s receipt window', body: PolicyRequest, replies: { 200: { description: 'The institution', schema: InstitutionView } } })
  router.patch('/institutions/:id/policy', async (ctx) => {
    const policy = parseOrThrow(PolicyRequest, ctx.state.body)
    await deps.institutions.get(ctx.params.id)
    json(ctx, 200, await deps.institutions.setPolicy(ctx.params.id, policy, auditContext(ctx)))
  })

  /** Replaces a leaked API key: the old one stops working at once, and the sessions it opened end. */
  doc(router, { method: 'post', path: '/institutions/:id/api-key', tag: 'institutions', summary: 'Replace the API key (shown once; the old key and its page sessions stop at once)', replies: { 200: { description: 'The institution and its new key', schema: NewInstitutionReply } } })
  router.post('/institutions/:id/api-key', async (ctx) => {
    const { institution, apiKey } = await deps.institutions.replaceApiKey(ctx.params.id, auditContext(ctx))
    ctx.set('Cache-Control', 'no-store')
    json(ctx, 200, { ...institution, apiKey })
  })

  /** Rotates the institution's signing key on chain; `compromised` also invalidates what the old key signed. */
  doc(router, { method: 'post', path: '/institutions/:id/keys/rotate', tag: 'institutions', summary: 'Rotate the signing key on chain (Idempotency-Key honoured: a retry finishes the rotation it started)', body: RotateRequest, replies: { 200: { description: 'The rotation', schema: JsonObject } }, problems: ['chain-unavailable', 'conflict'] })
  router.post('/institutions/:id/keys/rotate', async (ctx) => {
    const { reason } = parseOrThrow(RotateRequest, ctx.state.body)
    const institution = await deps.institutions.get(ctx.params.id)
    // Keys are the caller's own (the admin's are not the institution's), and name the institution rotated.
    const caller = callerOf(ctx)
    const scope = caller.kind === 'institution' ? caller.institution.id : 'admin'
    const rotation = await deps.keyRotation.rotate(institution, reason, auditContext(ctx), idempotencyOf(ctx, scope, `POST /institutions/${institution.id}/keys/rotate`))
    json(ctx, 200, {
      institutionId: institution.id,
      did: institution.did,
      reason: rotation.reason,
      txHash: rotation.txHash,
      blockNumber: rotation.blockNumber,
      rotatedAt: rotation.rotatedAt,
    })
  })

  return router
}
