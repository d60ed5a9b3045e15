import { asArray } from '../credentials/w3c.js'
import type { InstitutionRow } from '../institutions/institution.entity.js'
import { fail, verdict as verdictOf } from '../verification/checks.js'
import type { AnyPresentationVerdict } from '../verification/presentation-formats.js'
import { TYPES_REQUIRING_CONSENT, type ConsentActor, type ConsentDecision, type ConsentService } from './service.js'

/**
 * Adds a `consent` check for every credential in the verdict whose type needs the patient's consent (a
 * patient identity credential), checked for `grantee` and `purpose`; without a grantee (an anonymous VC API
 * call) it cannot pass, and says so. The verdict is recomputed with those checks.
 */
export async function enforceConsent(
  consent: ConsentService | undefined,
  verdict: AnyPresentationVerdict,
  q: { grantee?: InstitutionRow; purpose?: string; by: ConsentActor },
): Promise<{ verdict: AnyPresentationVerdict; decisions: ConsentDecision[] }> {
  const decisions: ConsentDecision[] = []
  for (const c of verdict.credentials) {
    const type = asArray(c.credential?.type as string | string[] | undefined).find((t) => TYPES_REQUIRING_CONSENT.has(t))
    if (!type) continue
    const patientDid = asArray(c.credential?.credentialSubject as { id?: unknown } | undefined)[0]?.id
    if (!consent) {
      decisions.push({ check: fail('consent', 'consent cannot be checked here'), patientDid: null, granteeDid: null, purpose: null, credentialType: type, consentId: null })
      continue
    }
    decisions.push(
      await consent.check({
        patientDid: typeof patientDid === 'string' ? patientDid : undefined,
        grantee: q.grantee,
        purpose: q.purpose,
        credentialType: type,
        carried: verdict.carriedConsents,
        by: q.by,
      }),
    )
  }
  if (!decisions.length) return { verdict, decisions }
  const checks = [...verdict.checks, ...decisions.map((d) => d.check)]
  return { verdict: { ...verdict, ...verdictOf(checks) }, decisions }
}
