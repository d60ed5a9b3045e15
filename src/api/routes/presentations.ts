import Router from '@koa/router'
import { z } from 'zod'
import { SignedPresentationSchema } from '../../credentials/w3c.js'
import { VERIFICATION_PURPOSES } from '../../acceptance/acceptance.entities.js'
import { enforceConsent } from '../../consent/enforce.js'
import { failures } from '../../verification/checks.js'
import { verifyAnyPresentation } from '../../verification/presentation-formats.js'
import type { SignedPresentationInput } from '../../verification/verify-presentation.js'
import { parseOrThrow } from '../../validation.js'
import { auditContext } from '../audit-context.js'
import { callerOf } from '../auth.js'
import type { AppDeps } from '../app.js'
import { recordVerification } from './record-verification.js'
import { disclosedCredentials } from './verifications.js'
import { sendVerdict } from './verdict.js'
import { doc } from '../openapi/route-doc.js'
import { VerdictReply } from '../openapi/replies.js'

const VerifyPresentationRequest = z.strictObject({
  verifiablePresentation: SignedPresentationSchema,
  options: z.looseObject({
    // Without a challenge a captured presentation could be replayed, so both are required.
    challenge: z.string().min(1).max(500),
    domain: z.string().min(1).max(500),
    /** With an institution's key: the purpose a patient's consent must cover. */
    purpose: z.enum(VERIFICATION_PURPOSES).optional(),
  }),
})

export function presentationRoutes(deps: AppDeps): Router {
  const router = new Router({ sensitive: true })

  /**
   * VC API: verify a presentation (VP-JWT, or SD-JWT VC with key binding) bound to the verifier's challenge
   * and domain, and every credential in it. A patient credential needs a consent for a verifier: without an
   * institution key (and a patient purpose) the `consent` check fails and says why.
   */
  doc(router, { method: 'post', path: '/presentations/verify', tag: 'verification', summary: 'VC API: verify a presentation bound to a challenge and domain', body: VerifyPresentationRequest, replies: { 200: { description: 'Every check passed', schema: VerdictReply } }, problems: ['verification-failed', 'chain-unavailable'] })
  router.post('/presentations/verify', async (ctx) => {
    const { verifiablePresentation, options } = parseOrThrow(VerifyPresentationRequest, ctx.state.body)
    const verified = await verifyAnyPresentation(verifiablePresentation as SignedPresentationInput, options, deps.verifyContext)
    const caller = callerOf(ctx)
    const by = auditContext(ctx)
    const grantee = caller.kind === 'institution' ? caller.institution : undefined
    const { verdict: result, decisions } = await enforceConsent(deps.consents, verified, { grantee, purpose: options.purpose, by })
    for (const d of decisions) await deps.consents.recordCheck(by, d)
    await recordVerification(ctx, deps, 'presentation.verified', result.verified, failures(result.checks), undefined, result.holder)
    sendVerdict(ctx, result, 'presentation', failures(result.checks), {
      holder: result.holder,
      // Claims only in a success: a failure's problem carries no patient data.
      ...(result.verified ? { credentials: disclosedCredentials(result) } : {}),
    })
  })

  return router
}
