import type { EntityManager } from 'typeorm'
import type { AuditLog } from '../audit/audit-log.js'
import type { InstitutionRow } from '../institutions/institution.entity.js'
import type { AcceptanceOutcome } from './acceptances.js'
import type { VerificationRow } from './acceptance.entities.js'

/** The audit event of a hospital's full verification, passed or failed. */
export function auditVerification(audit: AuditLog) {
  return (m: EntityManager, v: VerificationRow) =>
    audit.append(m, {
      actor: { type: 'institution', id: v.institutionId },
      action: 'presentation.verified',
      subject: { type: 'verification', id: v.id },
      outcome: v.verified ? 'success' : 'failure',
      detail: {
        purpose: v.purpose,
        credentialIds: v.credentialIds.slice(0, 50),
        failedChecks: v.checks.filter((c) => !c.ok).map((c) => c.check).slice(0, 50),
      },
    })
}

/** The audit event of an acceptance on another institution's receipt. */
export function auditAcceptance(audit: AuditLog) {
  return (m: EntityManager, outcome: AcceptanceOutcome, institution: InstitutionRow) =>
    audit.append(m, {
      actor: { type: 'institution', id: institution.id, did: institution.did },
      action: 'credential.accepted',
      subject: { type: 'acceptance', id: outcome.acceptanceId ?? 'refused' },
      outcome: outcome.verified ? 'success' : 'failure',
      detail: {
        verifier: outcome.reliedOn?.verifier ?? null,
        failedChecks: outcome.checks.filter((c) => !c.ok).map((c) => c.check).slice(0, 50),
      },
    })
}
