import { knownTypesOf } from '../credentials/subject-schemas.js'
import { asArray } from '../credentials/w3c.js'
import { fail, pass, type Check } from '../verification/checks.js'
import type { TrustRegistry } from './service.js'

/**
 * The `trustedIssuer` check. For the credential types medcred knows (licenses, certifications, DEA
 * registrations, patient identity) the issuer must be trusted for that type and jurisdiction; a valid
 * signature from anyone else is "not verified (untrusted issuer)". For other types there is no
 * consortium policy: the check passes and says the issuer is not in the registry.
 */
export function trustCheck(trust: TrustRegistry) {
  return async (credential: Record<string, unknown>, issuer: string): Promise<Check> => {
    const types = asArray(credential.type as string | string[])
    const subject = asArray(credential.credentialSubject as { jurisdiction?: unknown } | undefined)[0]
    const jurisdiction = typeof subject?.jurisdiction === 'string' ? subject.jurisdiction : undefined
    const known = knownTypesOf(types).map((k) => k.name)
    if (known.length === 0) {
      const verdict = await trust.issuerVerdict(issuer, types, jurisdiction)
      return pass('trustedIssuer', verdict.trusted ? verdict.detail : `no consortium policy for this type (${verdict.detail})`)
    }
    // Every known type the credential names must be one the issuer is trusted for.
    const details: string[] = []
    for (const type of known) {
      const verdict = await trust.issuerVerdict(issuer, [type], jurisdiction)
      if (!verdict.trusted) return fail('trustedIssuer', verdict.detail)
      details.push(verdict.detail)
    }
    return pass('trustedIssuer', details.join('; '))
  }
}
