import { verifyJWS, type JWTHeader, type JWTPayload } from 'did-jwt'
import { decodeJwt } from '../credentials/jwt.js'
import { verifySignatureNatively } from '../verification/native-signature.js'
import type { VerificationMethod } from 'did-resolver'
import type { DidResolver } from '../did/resolver.js'
import { asArray } from '../credentials/w3c.js'
import { BINDING_METHODS, HOLDER_ALGS } from './formats.js'
import { OAuthError } from './oauth-error.js'

export const PROOF_TYP = 'openid4vci-proof+jwt'

/** A key proof that verified: the holder DID the credential is bound to, and the c_nonce it carries. */
export interface ProvenKey {
  did: string
  nonce: string | undefined
}

/**
 * Checks a `jwt` key proof (OID4VCI 1.0 Appendix F.1): typ, an accepted alg, exactly one key reference
 * (`kid` as a DID URL of a supported method, or `jwk`, taken as its did:jwk), the signature by that key
 * (an `authentication` key of the DID), `aud` the Credential Issuer Identifier and a fresh `iat`.
 * The nonce is only read here; the caller consumes it. Everything wrong is an `invalid_proof`.
 */
export async function verifyKeyProof(
  jwt: string,
  opts: { issuer: string; resolver: DidResolver; skewSeconds: number; maxAgeSeconds: number; now?: number },
): Promise<ProvenKey> {
  const refuse = (why: string): never => {
    throw new OAuthError('invalid_proof', why)
  }
  let header: JWTHeader
  let payload: JWTPayload
  try {
    ;({ header, payload } = decodeJwt(jwt))
  } catch (e) {
    return refuse(`the proof is not a well-formed JWT${e instanceof Error && e.name === 'MalformedJwtText' ? `: ${e.message}` : ''}`)
  }
  if ((header.typ as string | undefined) !== PROOF_TYP) refuse(`the proof's typ must be ${PROOF_TYP}`)
  if (typeof header.alg !== 'string' || !HOLDER_ALGS.includes(header.alg)) refuse(`the proof's alg must be one of ${HOLDER_ALGS.join(', ')}`)
  const refs = (['kid', 'jwk', 'x5c', 'trust_chain'] as const).filter((k) => (header as Record<string, unknown>)[k] !== undefined)
  if (refs.length !== 1) refuse('the proof must name its key by exactly one of kid or jwk')
  if (refs[0] !== 'kid' && refs[0] !== 'jwk') refuse(`key reference ${refs[0]} is not supported; use kid (a DID URL) or jwk`)

  const did = refs[0] === 'jwk' ? didJwkOf(header.jwk, refuse) : didOfKid(String(header.kid), refuse)
  const resolved = await opts.resolver.resolveDid(did)
  if (!resolved.ok) {
    if (resolved.reason === 'unavailable') throw new OAuthError('temporarily_unavailable', 'the key could not be checked now; retry later')
    refuse(`the proof's DID cannot be resolved (${resolved.reason})`)
  }
  const doc = resolved.ok ? resolved.result.didDocument! : undefined
  const authentication = new Set(asArray(doc?.authentication).map((a) => absolute(did, typeof a === 'string' ? a : a.id)))
  const methods = asArray(doc?.verificationMethod)
    .map((vm) => ({ ...vm, id: absolute(did, vm.id) }))
    .filter((vm) => authentication.has(vm.id))
    .filter((vm) => refs[0] === 'jwk' || !String(header.kid).includes('#') || vm.id === absolute(did, String(header.kid)))
  if (!methods.length) refuse(`the proof's key is not an authentication key of ${did}`)
  if (!signedBy(jwt, header.alg!, methods as VerificationMethod[])) refuse(`the proof's signature does not verify against the key it names (${did})`)

  if (!asArray(payload.aud as string | string[] | undefined).includes(opts.issuer)) refuse(`the proof's aud must be the Credential Issuer Identifier ${opts.issuer}`)
  const now = opts.now ?? Math.floor(Date.now() / 1000)
  if (typeof payload.iat !== 'number') refuse('the proof has no iat')
  if (payload.iat! > now + opts.skewSeconds) refuse('the proof is dated in the future (iat)')
  if (payload.iat! < now - opts.maxAgeSeconds - opts.skewSeconds) refuse('the proof is too old (iat)')
  if (typeof payload.exp === 'number' && payload.exp < now - opts.skewSeconds) refuse('the proof has expired (exp)')
  return { did, nonce: typeof payload.nonce === 'string' ? payload.nonce : undefined }
}

/** Native signature math as for every other JWT here; a key shape it does not judge is left to did-jwt. */
function signedBy(jwt: string, alg: string, methods: VerificationMethod[]): boolean {
  const [h, p, signature] = jwt.split('.')
  const native = verifySignatureNatively(alg, `${h}.${p}`, signature ?? '', methods)
  if (native !== 'unsupported') return native !== undefined
  try {
    verifyJWS(jwt, methods)
    return true
  } catch {
    return false
  }
}

function didOfKid(kid: string, refuse: (why: string) => never): string {
  const did = kid.split('#')[0]
  if (!BINDING_METHODS.some((m) => did.startsWith(`${m}:`))) refuse(`the proof's kid must be a DID URL of ${BINDING_METHODS.join(', ')}`)
  return did
}

function didJwkOf(jwk: unknown, refuse: (why: string) => never): string {
  if (!jwk || typeof jwk !== 'object' || Array.isArray(jwk)) return refuse('the proof jwk is not a JWK')
  const key = jwk as Record<string, unknown>
  if ('d' in key) refuse('the proof jwk holds a private key')
  const members = key.kty === 'OKP' ? ['crv', 'kty', 'x'] : ['crv', 'kty', 'x', 'y']
  const publicJwk = Object.fromEntries(members.map((m) => [m, key[m]]))
  return `did:jwk:${Buffer.from(JSON.stringify(publicJwk)).toString('base64url')}`
}

function absolute(did: string, id: string): string {
  return id.startsWith('#') ? `${did}${id}` : id
}
