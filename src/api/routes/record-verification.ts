import type { Context } from 'koa'
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
  credential?: { id?: unknown; signedBy?: string },
  holder?: unknown,
): Promise<void> {
  const id = typeof credential?.id === 'string' ? credential.id.slice(0, 300) : undefined
  // Ids are unique per issuer: only a signature that verified says whose credential this is.
  const [issued] =
    id && credential?.signedBy
      ? await deps.audit.db.rows<{ issuerInstitutionId: string }>(
          'SELECT "issuerInstitutionId" FROM "medcred_issued_credential" WHERE "issuerDid" = $1 AND "id" = $2',
          [credential.signedBy, id],
        )
      : []
  await deps.audit.record({
    ...auditContext(ctx),
    action,
    ...(id ? { subject: { type: 'credential', id, ...(issued ? { issuerInstitutionId: issued.issuerInstitutionId } : {}) } } : typeof holder === 'string' && holder ? { subject: { type: 'did', id: holder.slice(0, 300) } } : {}),
    outcome: verified ? 'success' : 'failure',
    detail: { failedChecks: [...new Set(errors.map((e) => e.check))].slice(0, 50) },
  })
}
