import { looksLikeSdJwt } from '../credentials/sd-jwt-vc.js'
import type { CredentialVerdict, VerifyContext } from './verify-credential.js'
import { verifyPresentation, type PresentationVerdict, type SignedPresentationInput } from './verify-presentation.js'
import { verifySdJwtPresentation, type SdJwtPresentationVerdict } from './verify-sd-jwt.js'

export type AnyPresentationVerdict = PresentationVerdict & Partial<Pick<SdJwtPresentationVerdict, 'format' | 'disclosed' | 'carriedConsents'>>

type PresentationFormat = {
  name: string
  accepts: (input: SignedPresentationInput) => boolean
  verify: (
    input: SignedPresentationInput,
    expected: { challenge: string; domain: string },
    ctx: VerifyContext,
    settle?: (jwt: string) => Promise<CredentialVerdict | undefined>,
  ) => Promise<AnyPresentationVerdict>
}

/** The presentation formats medcred verifies, tried in order: an SD-JWT VC with key binding, else a VP-JWT. */
const FORMATS: PresentationFormat[] = [
  { name: 'dc+sd-jwt', accepts: looksLikeSdJwt, verify: (input, expected, ctx) => verifySdJwtPresentation(input as string, expected, ctx) },
  { name: 'jwt_vp', accepts: () => true, verify: verifyPresentation },
]

/**
 * Verifies a presentation in whichever format it came (every route and protocol that receives one,
 * e.g. `POST /presentations/verify`, `POST /verifications`, an OID4VP `vp_token`, goes through here).
 */
export function verifyAnyPresentation(
  input: SignedPresentationInput,
  expected: { challenge: string; domain: string },
  ctx: VerifyContext,
  settle?: (jwt: string) => Promise<CredentialVerdict | undefined>,
): Promise<AnyPresentationVerdict> {
  const format = FORMATS.find((f) => f.accepts(input))!
  return format.verify(input, expected, ctx, settle)
}
