import Router from '@koa/router'
import { z } from 'zod'
import { VERIFICATION_PURPOSES } from '../../acceptance/acceptance.entities.js'
import { SignedPresentationSchema } from '../../credentials/w3c.js'
import { AppError } from '../../errors.js'
import { failures } from '../../verification/checks.js'
import { parseOrThrow } from '../../validation.js'
import { institutionOf } from '../authorization.js'
import type { AppDeps } from '../app.js'
import { json } from '../reply.js'
import { sendVerdict } from './verdict.js'
import type { AnyPresentationVerdict } from '../../verification/presentation-formats.js'
import { asArray } from '../../credentials/w3c.js'
import { doc } from '../openapi/route-doc.js'
import { JsonObject } from '../openapi/replies.js'

/** What a verifier is shown of each credential: its id, type, issuer and the subject claims it was given (for an SD-JWT VC, the disclosed ones only). */
export function disclosedCredentials(verdict: AnyPresentationVerdict) {
  return verdict.credentials.map((c) => ({
    id: c.credential?.id,
    type: asArray(c.credential?.type as string | string[] | undefined).filter((t) => t !== 'VerifiableCredential').at(-1),
    issuer: typeof c.credential?.issuer === 'string' ? c.credential.issuer : (c.credential?.issuer as { id?: string } | undefined)?.id,
    ...(verdict.format ? { format: verdict.format } : {}),
    credentialSubject: c.credential?.credentialSubject,
  }))
}


export const VerificationRequest = z.strictObject({
  verifiablePresentation: SignedPresentationSchema,
  challenge: z.string().min(1).max(100),
  domain: z.string().min(1).max(300),
  purpose: z.enum(VERIFICATION_PURPOSES),
})


export function verificationRoutes(deps: AppDeps): Router {
  const router = new Router({ sensitive: true })

  /** A single-use, short-lived challenge bound to the hospital's DID as domain. */
  doc(router, { method: 'post', path: '/verifications/challenges', tag: 'acceptance', summary: 'A single-use challenge for a presentation (hospital)', replies: { 201: { description: 'The challenge and domain', schema: JsonObject } } })
  router.post('/verifications/challenges', async (ctx) => {
    const hospital = institutionOf(ctx)
    json(ctx, 201, await deps.challenges.issue(hospital))
  })

  /** Full verification of a clinician's presentation; on success one signed acceptance receipt per credential. */
  doc(router, { method: 'post', path: '/verifications', tag: 'acceptance', summary: 'Verify a presentation fully and sign an acceptance receipt (hospital)', body: VerificationRequest, replies: { 201: { description: 'Verified; the receipt', schema: JsonObject } }, problems: ['verification-failed', 'chain-unavailable'] })
  router.post('/verifications', async (ctx) => {
    const hospital = institutionOf(ctx)
    const request = parseOrThrow(VerificationRequest, ctx.state.body)
    const { verification, verdict, receipts } = await deps.verifications.verify(hospital, request as never)
    ctx.set('Location', `/verifications/${verification.id}`)
    if (!verdict.verified) {
      sendVerdict(ctx, verdict, 'presentation', failures(verdict.checks), { verificationId: verification.id })
      return
    }
    json(ctx, 201, {
      id: verification.id,
      verified: true,
      purpose: verification.purpose,
      holder: verdict.holder,
      checks: verdict.checks,
      credentials: disclosedCredentials(verdict),
      receipts,
    })
  })

  doc(router, { method: 'get', path: '/verifications/:id', tag: 'acceptance', summary: 'A verification this hospital made', replies: { 200: { description: 'The verification', schema: JsonObject } } })
  router.get('/verifications/:id', async (ctx) => {
    const hospital = institutionOf(ctx)
    const verification = await deps.verifications.get(hospital, ctx.params.id)
    if (!verification) throw new AppError('not-found', `no verification ${ctx.params.id} of this institution`)
    json(ctx, 200, verification)
  })

  /**
   * A receipt, for the clinician to carry to the next institution. Its URL is the capability: receipt ids
   * are random, and a receipt holds identifiers only (DIDs, credential id, digest), no personal data.
   */
  doc(router, { method: 'get', path: '/receipts/:id', tag: 'acceptance', summary: 'A public acceptance receipt', replies: { 200: { description: 'The receipt credential', schema: JsonObject } } })
  router.get('/receipts/:id', async (ctx) => {
    const jwt = await deps.verifications.receiptJwt(ctx.params.id)
    if (!jwt) throw new AppError('not-found', `no receipt ${ctx.params.id}`)
    ctx.status = 200
    ctx.body = jwt
    ctx.type = 'application/vc+jwt'
  })

  return router
}
