import Router from '@koa/router'
import { z } from 'zod'
import { SignedCredentialSchema, UnsignedCredentialSchema } from '../../credentials/w3c.js'
import { failures } from '../../verification/checks.js'
import { verifyCredential, type SignedCredentialInput } from '../../verification/verify-credential.js'
import { parseOrThrow } from '../../validation.js'
import { ISSUE_FORMATS } from '../../issuance/service.js'
import { institutionOf } from '../authorization.js'
import { recordVerification } from './record-verification.js'
import { idempotencyOf } from '../idempotency-key.js'
import type { AppDeps } from '../app.js'
import { json } from '../reply.js'
import { sendVerdict } from './verdict.js'
import { doc } from '../openapi/route-doc.js'
import { auditContext } from '../audit-context.js'
import { IssueReply, VerdictReply } from '../openapi/replies.js'

/**
 * The VC API's issue request is exact: `@context` and `issuer` are the caller's to state (VC Data Model,
 * VC API "Issue Credential"); defaults belong to convenience paths (OID4VCI offers, the CLI), which fill
 * them in before calling issuance.
 */
const IssueRequest = z.strictObject({
  credential: UnsignedCredentialSchema.and(
    z.looseObject({
      '@context': z.unknown().refine((v) => v !== undefined, 'is required (the first entry names the data model: VC 1.1 or 2.0)'),
      issuer: z.unknown().refine((v) => v !== undefined, 'is required (the DID of the issuing institution)'),
    }),
  ),
  options: z.looseObject({ format: z.enum(ISSUE_FORMATS).optional() }).optional(),
})

const VerifyCredentialRequest = z.strictObject({
  verifiableCredential: SignedCredentialSchema,
  options: z.looseObject({}).optional(),
})

export function credentialRoutes(deps: AppDeps): Router {
  const router = new Router({ sensitive: true })

  /** VC API: issue a credential signed by the calling institution's DID. */
  doc(router, { method: 'post', path: '/credentials/issue', tag: 'credentials', summary: 'VC API: issue a credential signed by the calling institution (Idempotency-Key honoured)', body: IssueRequest, replies: { 201: { description: 'The secured credential', schema: IssueReply } }, problems: ['invalid-credential', 'reserved-credential-type', 'conflict', 'chain-unavailable'] })
  router.post('/credentials/issue', async (ctx) => {
    const issuer = institutionOf(ctx)
    const { credential, options } = parseOrThrow(IssueRequest, ctx.state.body)
    const verifiableCredential = await deps.issuance.issue(
      issuer,
      credential,
      auditContext(ctx),
      idempotencyOf(ctx, issuer.id),
      options?.format,
    )
    json(ctx, 201, { verifiableCredential })
  })

  /** VC API: verify a credential; 200 when every check passes, else a 400 problem listing the checks. */
  doc(router, { method: 'post', path: '/credentials/verify', tag: 'verification', summary: 'VC API: verify a credential; 400 verification-failed names the failed checks', body: VerifyCredentialRequest, replies: { 200: { description: 'Every check passed', schema: VerdictReply } }, problems: ['verification-failed', 'chain-unavailable'] })
  router.post('/credentials/verify', async (ctx) => {
    const { verifiableCredential } = parseOrThrow(VerifyCredentialRequest, ctx.state.body)
    const result = await verifyCredential(verifiableCredential as SignedCredentialInput, deps.verifyContext)
    await recordVerification(ctx, deps, 'credential.verified', result.verified, failures(result.checks), { id: result.credential?.id, signedBy: result.signedBy })
    sendVerdict(ctx, result, 'credential', failures(result.checks), result.format ? { format: result.format } : {})
  })

  return router
}
