import type { Context } from 'koa'
import { IssuedCredentialEntity } from '../../issuance/issued-credential.entity.js'
import { auditContext } from '../audit-context.js'
import type { AppDeps } from '../app.js'

/**
 * Appends the audit event of a VC API verification (passed or failed). When the credential is one we
 * issued, the event names its issuer institution, so that issuer sees who checked what it issued.
 */
export async function recordVerification(
  ctx: Context,
  deps: AppDeps,
  action: 'credential.verified' | 'presentation.verified',
  verified: boolean,
  errors: { check: string }[],
  credentialId?: unknown,
  holder?: unknown,
): Promise<void> {
  const id = typeof credentialId === 'string' ? credentialId.slice(0, 300) : undefined
  const issued = id ? await deps.audit.db.manager.getRepository(IssuedCredentialEntity).findOne({ where: { id }, select: { issuerInstitutionId: true } }) : null
  await deps.audit.record({
    ...auditContext(ctx),
    action,
    ...(id ? { subject: { type: 'credential', id, ...(issued ? { issuerInstitutionId: issued.issuerInstitutionId } : {}) } } : typeof holder === 'string' && holder ? { subject: { type: 'did', id: holder.slice(0, 300) } } : {}),
    outcome: verified ? 'success' : 'failure',
    detail: { failedChecks: [...new Set(errors.map((e) => e.check))].slice(0, 50) },
  })
}
