import type { JWTHeader, JWTPayload } from 'did-jwt'
import { MalformedJwtText, decodeJwt } from '../credentials/jwt.js'
import type { DIDResolutionResult } from 'did-resolver'
import type { DidResolver } from '../did/resolver.js'
import { fail, pass, type Check } from './checks.js'
import { verifyJwtSignature } from './jwt-signature.js'
import type { SignerRef } from '../credentials/formats.js'

/** Signature algorithms we accept. `none` and anything unlisted fail before any key is looked at. */
export const ACCEPTED_ALGS = new Set(['ES256K', 'ES256K-R', 'EdDSA', 'ES256'])

export interface JwtProofResult {
  checks: Check[]
  header?: JWTHeader
  payload?: JWTPayload
  /** The DID whose document was consulted (the issuer or holder the format names). */
  signer?: string
  resolution?: DIDResolutionResult
}

/**
 * Checks a JWT's signature against its issuer's DID document, using only keys listed under `proofPurpose`
 * (`assertionMethod` for credentials, `authentication` for presentations). Dates and audience are left
 * to the caller, who reports them as checks of their own.
 *
 * @param names what to call the two checks (e.g. `proof`/`issuerDid` or `presentationProof`/`holderDid`).
 */
export async function verifyJwtProof(
  jwt: string,
  opts: {
    resolver: DidResolver
    proofPurpose: 'assertionMethod' | 'authentication'
    names: { proof: string; did: string }
    /** Consulted when the signature fails against the current document (e.g. a superseded key). */
    fallback?: (jwt: string, issuer: string) => Promise<string | undefined>
    /** Who must have signed, as the JWT's format says (default: the DID in `iss`). */
    signerOf?: (header: JWTHeader, payload: JWTPayload) => SignerRef
  },
): Promise<JwtProofResult> {
  const { names } = opts
  // The algorithm is checked before anything else, so an unsigned (`alg: none`) token is named as such.
  const alg = headerAlg(jwt)
  if (alg !== undefined && !ACCEPTED_ALGS.has(alg)) {
    return { checks: [fail(names.proof, `signature algorithm ${JSON.stringify(alg)} is not accepted`)] }
  }
  let header: JWTHeader
  let payload: JWTPayload
  try {
    ;({ header, payload } = decodeJwt(jwt))
  } catch (e) {
    if (e instanceof MalformedJwtText) return { checks: [fail(names.proof, `refused: ${e.message}`)] }
    return { checks: [fail(names.proof, 'not a well-formed JWT (three base64url parts with JSON header and payload)')] }
  }
  if (typeof header.alg !== 'string' || !ACCEPTED_ALGS.has(header.alg)) {
    return { header, payload, checks: [fail(names.proof, `signature algorithm ${JSON.stringify(header.alg)} is not accepted`)] }
  }
  const who = opts.signerOf ? opts.signerOf(header, payload) : typeof payload.iss === 'string' ? { did: payload.iss } : { problem: 'the JWT names no issuer (iss)' }
  if ('problem' in who) return { header, payload, checks: [fail(names.proof, who.problem)] }
  const did = who.did
  const resolved = await opts.resolver.resolveDid(did)
  if (!resolved.ok) {
    const detail =
      resolved.reason === 'unavailable'
        ? `cannot be checked now, so not verified: ${resolved.message}`
        : `${did} cannot be resolved (${resolved.reason}): ${resolved.message}`
    return { header, payload, signer: did, checks: [fail(names.did, detail), fail(names.proof, 'not checked: no DID document')] }
  }
  const didCheck = pass(names.did, `resolved ${did}`)
  try {
    // A key named by the format (a DID URL) narrows the candidates to that one key.
    const signer = await verifyJwtSignature(jwt, resolved.result, opts.proofPurpose, { header, payload: { iss: who.keyRef ?? did } })
    return { header, payload, signer: did, resolution: resolved.result, checks: [didCheck, pass(names.proof, `signed by ${signer.id}`)] }
  } catch (e) {
    const excused = await opts.fallback?.(jwt, did)
    if (excused) return { header, payload, signer: did, resolution: resolved.result, checks: [didCheck, pass(names.proof, excused)] }
    return {
      header,
      payload,
      signer: did,
      resolution: resolved.result,
      checks: [didCheck, fail(names.proof, `signature does not verify against an ${opts.proofPurpose} key of ${did}: ${(e as Error).message.slice(0, 300)}`)],
    }
  }
}

function headerAlg(jwt: string): string | undefined {
  try {
    const alg = JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url').toString('utf8')).alg
    return typeof alg === 'string' ? alg : String(alg)
  } catch {
    return undefined
  }
}
