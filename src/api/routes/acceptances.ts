import Router from '@koa/router'
import { z } from 'zod'
import { VERIFICATION_PURPOSES } from '../../acceptance/acceptance.entities.js'
import { CREDENTIAL_ELEMENTS } from '../../acceptance/credentialing-file.js'
import { SignedCredentialSchema, SignedPresentationSchema } from '../../credentials/w3c.js'
import { AppError } from '../../errors.js'
import { failures } from '../../verification/checks.js'
import { parseOrThrow } from '../../validation.js'
import { auditContext } from '../audit-context.js'
import { institutionOf } from '../authorization.js'
import type { AppDeps } from '../app.js'
import { json } from '../reply.js'
import { sendVerdict } from './verdict.js'
import { doc } from '../openapi/route-doc.js'
import { CheckSchema, JsonObject } from '../openapi/replies.js'


const AcceptanceRequest = z.union([
  z.strictObject({ verifiableCredential: SignedCredentialSchema, receipt: SignedCredentialSchema }),
  z.strictObject({
    verifiablePresentation: SignedPresentationSchema,
    challenge: z.string().min(1).max(100),
    domain: z.string().min(1).max(300),
  }),
])

const CredentialingFileRequest = z.strictObject({
  verifiablePresentation: SignedPresentationSchema,
  challenge: z.string().min(1).max(100),
  domain: z.string().min(1).max(300),
  purpose: z.enum(VERIFICATION_PURPOSES).default('onboarding'),
  receipts: z.array(SignedCredentialSchema).max(20).optional(),
  elements: z.array(z.enum(Object.keys(CREDENTIAL_ELEMENTS) as [string, ...string[]])).min(1).optional(),
})


export function acceptanceRoutes(deps: AppDeps): Router {
  const router = new Router({ sensitive: true })

  /** Accept once: rely on another institution's receipt, with only the live checks. */
  doc(router, { method: 'post', path: '/acceptances', tag: 'acceptance', summary: 'Accept once on another institution’s receipt (hospital)', body: AcceptanceRequest, replies: { 201: { description: 'Accepted', schema: z.looseObject({ accepted: z.literal(true), acceptanceId: z.string(), checks: z.array(CheckSchema) }) } }, problems: ['verification-failed', 'chain-unavailable'] })
  router.post('/acceptances', async (ctx) => {
    const hospital = institutionOf(ctx)
    const body = parseOrThrow(AcceptanceRequest, ctx.state.body)
    const outcome =
      'verifiablePresentation' in body
        ? await deps.acceptances.acceptPresentation(hospital, body as never, deps.challenges)
        : await deps.acceptances.accept(hospital, { credential: body.verifiableCredential as never, receipt: body.receipt as never })
    if (!outcome.verified) {
      sendVerdict(ctx, outcome, 'credential', failures(outcome.checks), { accepted: false })
      return
    }
    json(ctx, 201, {
      accepted: true,
      acceptanceId: outcome.acceptanceId,
      reliedOnReceipt: true,
      reliedOn: outcome.reliedOn,
      checks: outcome.checks,
      note: `accepted on the receipt of ${outcome.reliedOn!.verifier}; its primary-source verification was relied on; its signature, status, expiry and issuer trust were checked live`,
    })
  })

  doc(router, { method: 'post', path: '/credentialing-files', tag: 'acceptance', summary: 'Build a credentialing file from a presentation and receipts (hospital)', body: CredentialingFileRequest, replies: { 201: { description: 'The file', schema: JsonObject } }, problems: ['verification-failed'] })
  router.post('/credentialing-files', async (ctx) => {
    const hospital = institutionOf(ctx)
    const request = parseOrThrow(CredentialingFileRequest, ctx.state.body)
    const report = await deps.credentialingFiles.create(hospital, request as never)
    await deps.audit.record({ ...auditContext(ctx), action: 'credentialing-file.created', subject: { type: 'credentialing-file', id: report.id }, outcome: 'success', detail: { complete: report.complete } })
    ctx.set('Location', `/credentialing-files/${report.id}`)
    json(ctx, 201, report)
  })

  doc(router, { method: 'get', path: '/credentialing-files/:id', tag: 'acceptance', summary: 'A credentialing file', replies: { 200: { description: 'The file', schema: JsonObject } } })
  router.get('/credentialing-files/:id', async (ctx) => {
    const hospital = institutionOf(ctx)
    const report = await deps.credentialingFiles.get(hospital, ctx.params.id)
    if (!report) throw new AppError('not-found', `no credentialing file ${ctx.params.id} of this institution`)
    json(ctx, 200, report)
  })

  return router
}
