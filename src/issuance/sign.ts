import type { VerifiableCredential } from '@veramo/core'
import type { MedcredAgent } from '../agent/agent.js'
import type { InstitutionRow } from '../institutions/institution.entity.js'
import { canonicalJson } from '../credentials/canonical.js'
import { surfacingDatabaseErrors } from '../db/errors.js'

/**
 * Signs a credential as a VC-JWT with the institution's current signing key (it changes on rotation,
 * and the DID then holds several keys, so the key is always named).
 */
export async function signAsInstitution(
  agent: MedcredAgent,
  institution: Pick<InstitutionRow, 'did' | 'signingKid'>,
  credential: Record<string, unknown>,
): Promise<VerifiableCredential> {
  const subject = credential.credentialSubject as Record<string, unknown>
  // Veramo reports a failure to read the issuer's DID (a database outage included) as `invalid_argument`.
  const signed = await surfacingDatabaseErrors(
    () =>
      agent.createVerifiableCredential({
        credential: { ...credential, issuer: { id: institution.did } } as never,
        proofFormat: 'jwt',
        keyRef: institution.signingKid ?? undefined,
        // did-jwt-vc moves a subject's `id` into `sub`; a subject holding only `id` would be left empty,
        // which it refuses. Keeping the original fields then is the documented way out.
        removeOriginalFields: !Object.keys(subject).every((k) => k === 'id'),
      }),
    () => agent.didManagerGet({ did: institution.did }),
  )
  assertSignedAsChecked(credential, signed as unknown as Record<string, unknown>, institution.did)
  return signed
}

/**
 * What was signed must be what was checked: the types, subject and status entries validated and allocated
 * here, issued by this institution. A difference is our bug (the request schema should have refused it),
 * so nothing leaves.
 */
function assertSignedAsChecked(checked: Record<string, unknown>, signed: Record<string, unknown>, did: string): void {
  const issuer = typeof signed.issuer === 'string' ? signed.issuer : (signed.issuer as { id?: string } | undefined)?.id
  const same = (k: string) => canonicalJson(checked[k]) === canonicalJson(signed[k])
  const differs = ['type', 'credentialSubject', 'credentialStatus', 'id'].filter((k) => checked[k] !== undefined && !same(k))
  if (issuer !== did || differs.length) {
    throw new Error(`signed credential differs from the checked one (${[...differs, ...(issuer !== did ? ['issuer'] : [])].join(', ')})`)
  }
}
