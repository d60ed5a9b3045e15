import type { JWTHeader, JWTPayload } from 'did-jwt'
import { normalizeCredential } from 'did-jwt-vc'
import { bodyProblem } from '../validation.js'
import { JWT_PROOF_TYPE } from './w3c.js'

/** A compact JWS: three base64url parts, none empty (an unsigned `alg: none` token is not one). */
const COMPACT_JWS = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/

export interface DecodedJwt {
  header: JWTHeader
  payload: JWTPayload
  /** The signature, base64url. */
  signature: string
  /** What the signature signs: `header.payload` as sent. */
  data: string
}

/**
 * Decodes a compact JWT's header and payload (the signature is not checked here), applying the boundary's
 * text rule to what it carries: a JWT is outside text as much as a request body is, and its claims end up
 * stored, hashed and audited. Throws when it is not a JWT or its text is not well-formed.
 */
export function decodeJwt(jwt: string): DecodedJwt {
  const parts = COMPACT_JWS.exec(jwt)
  if (!parts) throw new Error('not a compact JWT (three base64url parts)')
  const header = jsonObject(parts[1], 'header') as JWTHeader
  const payload = jsonObject(parts[2], 'payload') as JWTPayload
  const problem = bodyProblem(header, 'the JWT header') ?? bodyProblem(payload, 'the JWT payload')
  if (problem) throw new MalformedJwtText(problem)
  return { header, payload, signature: parts[3], data: `${parts[1]}.${parts[2]}` }
}

function jsonObject(part: string, what: string): Record<string, unknown> {
  const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error(`the JWT ${what} is not a JSON object`)
  return value as Record<string, unknown>
}

/** A JWT that decodes, but whose text medcred refuses (see `textProblem`). */
export class MalformedJwtText extends Error {
  override name = 'MalformedJwtText'
}

/**
 * The W3C JSON form of a VC-JWT whose payload is already decoded: did-jwt-vc's normalisation of the
 * payload, with the JWT as its proof (what `normalizeCredential(jwt)` gives, without decoding twice).
 */
export function credentialFromJwt(jwt: string, payload: JWTPayload): Record<string, unknown> {
  const { proof: _none, ...credential } = normalizeCredential(payload as never) as unknown as Record<string, unknown>
  return { ...credential, proof: { type: JWT_PROOF_TYPE, jwt } }
}
