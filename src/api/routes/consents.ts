import Router from '@koa/router'
import { z } from 'zod'
import { AppError } from '../../errors.js'
import { parseOrThrow } from '../../validation.js'
import { auditContext } from '../audit-context.js'
import { patientBearerOf } from '../auth.js'
import { institutionOf } from '../authorization.js'
import type { AppDeps } from '../app.js'
import { json } from '../reply.js'
import { doc } from '../openapi/route-doc.js'
import { JsonObject } from '../openapi/replies.js'

const compactJwt = z.string().max(20_000).regex(/^[\w-]+\.[\w-]+\.[\w-]+$/, 'must be a compact JWT signed by the patient')
const GrantRequest = z.strictObject({ consent: compactJwt })
const RevokeRequest = z.strictObject({ revocation: compactJwt })

/**
 * Patients' consents. Granting and revoking take the patient's own signature as the authority, whoever
 * sends them: an API key or the admin token adds nothing (and cannot stand in for the patient).
 */
export function consentRoutes(deps: AppDeps): Router {
  const router = new Router({ sensitive: true })

  doc(router, { method: 'post', path: '/consents', tag: 'consent', summary: 'Record a patient’s signed consent', body: GrantRequest, replies: { 201: { description: 'The consent', schema: JsonObject } }, problems: ['invalid-consent', 'conflict'] })
  router.post('/consents', async (ctx) => {
    const { consent } = parseOrThrow(GrantRequest, ctx.state.body)
    const { consent: granted, created } = await deps.consents.grant(consent, auditContext(ctx))
    if (created) ctx.set('Location', `/consents/${granted.id}`)
    json(ctx, created ? 201 : 200, granted)
  })

  doc(router, { method: 'post', path: '/consents/:id/revoke', tag: 'consent', summary: 'Revoke a consent with the patient’s signed revocation', body: RevokeRequest, replies: { 200: { description: 'Revoked', schema: JsonObject } }, problems: ['invalid-consent'] })
  router.post('/consents/:id/revoke', async (ctx) => {
    const { revocation } = parseOrThrow(RevokeRequest, ctx.state.body)
    json(ctx, 200, await deps.consents.revoke(ctx.params.id, revocation, auditContext(ctx)))
  })

  /** A patient's own consents (bearer: a single-use JWT the patient signed), or those granted to the calling institution. */
  doc(router, { method: 'get', path: '/consents', tag: 'consent', summary: 'A patient’s consents (the patient’s signed token)', replies: { 200: { description: 'The consents', schema: JsonObject } } })
  router.get('/consents', async (ctx) => {
    const bearer = patientBearerOf(ctx)
    if (bearer) {
      // A refused patient token is a failed authentication like a wrong API key (limited per address).
      const listed = await deps.consents.listForPatient(bearer).catch(async (e: unknown) => {
        if (e instanceof AppError && e.status === 401) await deps.rateLimits.authenticationFailed(ctx.ip)
        throw e
      })
      json(ctx, 200, listed)
      return
    }
    const institution = institutionOf(ctx)
    json(ctx, 200, { grantee: institution.did, consents: await deps.consents.listForGrantee(institution) })
  })

  return router
}
