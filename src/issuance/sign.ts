import type { VerifiableCredential } from '@veramo/core'
import type { MedcredAgent } from '../agent/agent.js'
import type { InstitutionRow } from '../institutions/institution.entity.js'

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
  return agent.createVerifiableCredential({
    credential: { ...credential, issuer: { id: institution.did } } as never,
    proofFormat: 'jwt',
    keyRef: institution.signingKid ?? undefined,
    // did-jwt-vc moves a subject's `id` into `sub`; a subject holding only `id` would be left empty,
    // which it refuses. Keeping the original fields then is the documented way out.
    removeOriginalFields: !Object.keys(subject).every((k) => k === 'id'),
  })
}
