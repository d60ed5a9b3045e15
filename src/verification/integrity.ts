import { normalizeCredential, normalizePresentation } from 'did-jwt-vc'
import { sameJson } from '../credentials/canonical.js'
import { decodeJwt } from '../credentials/jwt.js'
import { JWT_PROOF_TYPE, type SignedInput } from '../credentials/w3c.js'
import { envelopeProblem, isEnvelope, isJoseSecured, jwtOfEnvelope, type Envelope } from '../credentials/vc-jose.js'
import { fail, pass, type Check } from './checks.js'


export type SignedKind = 'credential' | 'presentation'

const PURPOSE: Record<SignedKind, string> = { credential: 'assertionMethod', presentation: 'authentication' }

/**
 * The one integrity check for the JSON form of anything signed as a JWT, at the top level or embedded in
 * a presentation or an acceptance: the JSON must be exactly what its `proof.jwt` signs, and its `proof`
 * must be a JWT proof that claims nothing its JWT does not determine (its type, purpose, verification
 * method and date). Only the JWT is verified, so anything else in the JSON would be believed unsigned.
 * A JWT string has no JSON form and nothing to check: `[]`.
 *
 * @param signed the JWT's content in JSON form, when the caller has already normalised it.
 */
export function integrityChecks(input: SignedInput, kind: SignedKind, name = 'integrity', signed?: Record<string, unknown>): Check[] {
  if (typeof input === 'string') return []
  if (!('proof' in input) || !input.proof || typeof input.proof !== 'object') return [envelopeIntegrity(input as Envelope, kind, name)]
  const json = input as unknown as Record<string, unknown>
  const jwt = input.proof.jwt
  if (joseSecured(jwt, kind)) {
    return [fail(name, `a VC 2.0 ${kind} (vc+jwt/vp+jwt) travels as its JWT or an Enveloped${kind === 'credential' ? 'VerifiableCredential' : 'VerifiablePresentation'}, not as JSON with proof.jwt`)]
  }
  let content: Record<string, unknown>
  try {
    content = signed ?? ((kind === 'credential' ? normalizeCredential(jwt) : normalizePresentation(jwt)) as unknown as Record<string, unknown>)
  } catch {
    return [fail(name, `proof.jwt does not decode as a ${kind}`)]
  }
  const proofProblem = jwtProofProblem(input.proof as Record<string, unknown>, jwt, kind)
  if (proofProblem) return [fail(name, proofProblem)]
  const same = sameJson(withoutProof(json), withoutProof(content))
  return [same ? pass(name) : fail(name, `the ${kind} JSON differs from what its proof.jwt signs`)]
}

/**
 * A VC 2.0 envelope: only `@context`, `type` and the JWT as a data URL, and that JWT a VC-JOSE-COSE one
 * (a VC 1.1 JWT in an envelope would be a second JSON form of it, never signed as such).
 */
function envelopeIntegrity(input: Envelope, kind: SignedKind, name: string): Check {
  if (!isEnvelope(input, kind)) return fail(name, `not a signed ${kind} (a JWT, JSON with proof.jwt, or an Enveloped${kind === 'credential' ? 'VerifiableCredential' : 'VerifiablePresentation'})`)
  const problem = envelopeProblem(input, kind)
  if (problem) return fail(name, problem)
  if (!joseSecured(jwtOfEnvelope(input, kind)!, kind)) return fail(name, `an envelope carries a VC 2.0 ${kind === 'credential' ? 'vc+jwt' : 'vp+jwt'}, not a VC 1.1 JWT`)
  return pass(name, 'enveloped')
}

function joseSecured(jwt: string, kind: SignedKind): boolean {
  try {
    const { header, payload } = decodeJwt(jwt)
    return isJoseSecured(header, payload, kind)
  } catch {
    return false
  }
}

/** What is wrong with a JSON form's `proof`, or undefined when it says only what its JWT determines. */
function jwtProofProblem(proof: Record<string, unknown>, jwt: string, kind: SignedKind): string | undefined {
  if (proof.type !== JWT_PROOF_TYPE) {
    return proof.type === undefined
      ? `proof.type is missing; a ${kind} secured by proof.jwt has proof type ${JWT_PROOF_TYPE}`
      : `proof.type ${JSON.stringify(proof.type).slice(0, 80)} is not the JWT proof it carries (${JWT_PROOF_TYPE})`
  }
  const members = Object.entries(proof).filter(([member]) => member !== 'type' && member !== 'jwt')
  if (members.length === 0) return undefined
  let header: { kid?: unknown }
  let payload: { nbf?: unknown; iat?: unknown }
  try {
    const decoded = decodeJwt(jwt)
    header = decoded.header as { kid?: unknown }
    payload = decoded.payload
  } catch {
    return 'proof.jwt is not a well-formed JWT'
  }
  for (const [member, value] of members) {
    if (member === 'proofPurpose') {
      if (value !== PURPOSE[kind]) return `proof.proofPurpose must be ${PURPOSE[kind]} for a ${kind}`
    } else if (member === 'verificationMethod') {
      if (typeof header.kid !== 'string' || value !== header.kid) return 'proof.verificationMethod is not the key its JWT names (kid)'
    } else if (member === 'created') {
      const signedAt = typeof payload.nbf === 'number' ? payload.nbf : payload.iat
      if (typeof value !== 'string' || typeof signedAt !== 'number' || Math.floor(Date.parse(value) / 1000) !== signedAt) {
        return 'proof.created does not match the time its JWT was signed'
      }
    } else {
      return `proof.${member.slice(0, 60)} is not something its JWT determines`
    }
  }
  return undefined
}

function withoutProof(o: Record<string, unknown>): Record<string, unknown> {
  const { proof: _p, ...rest } = o
  return rest
}
