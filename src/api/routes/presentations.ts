import Router from '@koa/router'
import { z } from 'zod'
import { SignedPresentationSchema } from '../../credentials/w3c.js'
import { failures } from '../../verification/checks.js'
import { verifyPresentation, type SignedPresentationInput } from '../../verification/verify-presentation.js'
import { parseOrThrow } from '../../validation.js'
import type { AppDeps } from '../app.js'
import { recordVerification } from './record-verification.js'
import { sendVerdict } from './verdict.js'

const VerifyPresentationRequest = z.strictObject({
  verifiablePresentation: SignedPresentationSchema,
  options: z.looseObject({
    // Without a challenge a captured presentation could be replayed, so both are required.
    challenge: z.string().min(1).max(500),
    domain: z.string().min(1).max(500),
  }),
})

export function presentationRoutes(deps: AppDeps): Router {
  const router = new Router()

  /** VC API: verify a presentation bound to the verifier's challenge and domain, and every credential in it. */
  router.post('/presentations/verify', async (ctx) => {
    const { verifiablePresentation, options } = parseOrThrow(VerifyPresentationRequest, ctx.state.body)
    const result = await verifyPresentation(verifiablePresentation as SignedPresentationInput, options, deps.verifyContext)
    await recordVerification(ctx, deps, 'presentation.verified', result.verified, failures(result.checks), undefined, result.holder)
    sendVerdict(ctx, result, 'presentation', failures(result.checks), { holder: result.holder })
  })

  return router
}
