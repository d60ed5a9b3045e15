import type { MedcredAgent } from '../agent/agent.js'
import { VC_JWT_TYP } from '../credentials/vc-jose.js'
import type { DidResolver } from '../did/resolver.js'
import type { InstitutionRow } from '../institutions/institution.entity.js'
import { institutionJwsSigner, signCompactJws } from '../institutions/jws-signer.js'

/**
 * Signs a VC 2.0 credential as VC-JOSE-COSE: the payload is the credential exactly as checked, the
 * protected header `typ: vc+jwt` with `kid` the DID URL of the institution's current key (signed in the KMS).
 */
export async function signVcJose(
  deps: { agent: MedcredAgent; resolver: DidResolver },
  institution: Pick<InstitutionRow, 'did' | 'signingKid'>,
  credential: Record<string, unknown>,
): Promise<string> {
  const signer = await institutionJwsSigner(deps.agent, deps.resolver, institution)
  return signCompactJws(signer, { typ: VC_JWT_TYP }, credential)
}
