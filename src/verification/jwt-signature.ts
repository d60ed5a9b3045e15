import { verifyJWT } from 'did-jwt'
import type { DIDResolutionResult, VerificationMethod } from 'did-resolver'
import { decodeJwt } from '../credentials/jwt.js'
import { authenticatorsFor, verifySignatureNatively, type ProofPurpose } from './native-signature.js'

/**
 * Which key of the issuer's DID document signed `jwt` for `purpose`, or throws saying why none did, with
 * did-jwt's rules (keys picked by purpose and algorithm, a DID URL issuer naming its one key) and native
 * signature math. A key shape the native path does not judge is left to did-jwt itself. Dates, audience
 * and the rest of the claims are the caller's to check.
 */
export async function verifyJwtSignature(
  jwt: string,
  resolution: DIDResolutionResult,
  purpose: ProofPurpose,
  /** The JWT's header and payload, when the caller has decoded them already. */
  decoded: { header: { alg?: unknown }; payload: { iss?: unknown } } = decodeJwt(jwt),
): Promise<VerificationMethod> {
  const [h, p, signature] = jwt.split('.')
  const { header } = decoded
  const { iss } = decoded.payload
  const doc = resolution.didDocument
  if (!doc) throw new Error('resolver_error: no DID document')
  if (typeof header.alg !== 'string' || typeof iss !== 'string') throw new Error('invalid_jwt: no alg or no iss')
  let candidates = authenticatorsFor(doc, header.alg, purpose)
  if (!candidates.length) {
    throw new Error(`no_suitable_keys: DID document for ${iss} does not have public keys suitable for ${header.alg} with ${purpose} purpose`)
  }
  if (iss.includes('#')) {
    candidates = candidates.filter((vm) => vm.id === iss)
    if (!candidates.length) throw new Error(`invalid_jwt: No authenticator found for did URL ${iss}`)
  }
  const signer = verifySignatureNatively(header.alg, `${h}.${p}`, signature ?? '', candidates)
  if (signer === 'unsupported') {
    const verified = await verifyJWT(jwt, {
      resolver: { resolve: async () => resolution },
      proofPurpose: purpose,
      policies: { nbf: false, iat: false, exp: false, aud: false },
    })
    return verified.signer
  }
  if (!signer) throw new Error('invalid_signature: Signature invalid for JWT')
  return signer
}
