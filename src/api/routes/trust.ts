import Router from '@koa/router'
import type { Context } from 'koa'
import { z } from 'zod'
import { DID, JURISDICTION } from '../../credentials/identifiers.js'
import { AppError } from '../../errors.js'
import { parseOrThrow } from '../../validation.js'
import { audited } from '../audited.js'
import { callerOf, requireAdmin } from '../auth.js'
import type { AppDeps } from '../app.js'
import { json } from '../reply.js'

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
  const router = new Router()
  const requireCaller = (ctx: Context) => {
    if (callerOf(ctx).kind === 'anonymous') throw new AppError('unauthorized', 'this needs an API key or the admin token')
  }

  router.get('/trust/issuers', async (ctx) => {
    requireCaller(ctx)
    json(ctx, 200, { issuers: await deps.trust.listIssuers() })
  })
  router.post('/trust/issuers', async (ctx) => {
    requireAdmin(ctx)
    const input = parseOrThrow(NewTrustedIssuer, ctx.state.body)
    json(ctx, 201, await deps.trust.addIssuer(input, audited(ctx, deps.audit, 'trust.issuer.added', { type: 'did', id: input.did })))
  })
  router.delete('/trust/issuers/:did', async (ctx) => {
    requireAdmin(ctx)
    const result = await deps.trust.removeIssuer(ctx.params.did, audited(ctx, deps.audit, 'trust.issuer.removed', { type: 'did', id: ctx.params.did }))
    json(ctx, 200, { did: ctx.params.did, removed: true, notifiedInstitutions: result.notified })
  })

  router.get('/trust/verifiers', async (ctx) => {
    requireCaller(ctx)
    json(ctx, 200, { verifiers: await deps.trust.listVerifiers() })
  })
  router.post('/trust/verifiers', async (ctx) => {
    requireAdmin(ctx)
    const { did } = parseOrThrow(NewTrustedVerifier, ctx.state.body)
    json(ctx, 201, await deps.trust.addVerifier(did, audited(ctx, deps.audit, 'trust.verifier.added', { type: 'did', id: did })))
  })
  router.delete('/trust/verifiers/:did', async (ctx) => {
    requireAdmin(ctx)
    await deps.trust.removeVerifier(ctx.params.did, audited(ctx, deps.audit, 'trust.verifier.removed', { type: 'did', id: ctx.params.did }))
    ctx.status = 204
  })

  return router
}
