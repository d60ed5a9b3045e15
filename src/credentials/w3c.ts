import { z } from 'zod'
import { ENVELOPED_CREDENTIAL, ENVELOPED_PRESENTATION, isEnvelope, jwtOfEnvelope, type Envelope } from './vc-jose.js'

export const VC_V1_CONTEXT = 'https://www.w3.org/2018/credentials/v1'
export const VC_V2_CONTEXT = 'https://www.w3.org/ns/credentials/v2'
/** The proof type Veramo and did-jwt-vc write on the JSON form of a VC-JWT or VP-JWT. */
export const JWT_PROOF_TYPE = 'JwtProof2020'

const RESERVED_CLAIMS = ['vc', 'vp', 'iss', 'sub', 'jti', 'nbf', 'exp', 'iat', 'aud', 'nonce'] as const

/**
 * A credential's dates: ISO 8601 with an offset, within the years a JWT's NumericDate carries safely
 * (did-jwt-vc refuses times past the year 5138, and nothing medcred signs is dated outside 1900–2999).
 */
const dateTime = z.iso
  .datetime({ offset: true, message: 'must be an ISO 8601 date-time, e.g. 2026-01-31T00:00:00Z' })
  .refine((v) => {
    const year = new Date(v).getUTCFullYear()
    return year >= 1900 && year <= 2999
  }, 'must fall between the years 1900 and 2999')
const contextEntry = z.union([z.string().min(1), z.record(z.string(), z.unknown())])

/** A credential as VC API clients send it to be issued: unsigned, VC 1.1 or 2.0 vocabulary. */
export const UnsignedCredentialSchema = z
  .looseObject({
    '@context': z.union([z.string(), z.array(contextEntry).min(1)]).optional(),
    id: z.string().min(1).max(300).optional(),
    type: z.union([z.string().min(1), z.array(z.string().min(1).max(100)).min(1).max(10)]),
    issuer: z.union([z.string(), z.looseObject({ id: z.string() })]).optional(),
    issuanceDate: dateTime.optional(),
    validFrom: dateTime.optional(),
    expirationDate: dateTime.optional(),
    validUntil: dateTime.optional(),
    credentialSubject: z.looseObject({ id: z.string().max(300).optional() }),
    credentialStatus: z.never({ error: 'is set by medcred, not by the caller' }).optional(),
    proof: z.never({ error: 'an unsigned credential has no proof' }).optional(),
    // JWT claim names: did-jwt-vc would merge them into what is signed, past every check made here.
    ...Object.fromEntries(RESERVED_CLAIMS.map((k) => [k, z.never({ error: 'is a JWT claim name, set by medcred when it signs' }).optional()])),
  })

export type UnsignedCredential = z.infer<typeof UnsignedCredentialSchema>

/** A signed credential as verifiers receive it: a VC-JWT string, or its JSON form with `proof.jwt`. */
export const SignedCredentialSchema = signedJwtSchema(100_000)

/** A signed presentation as received: a VP-JWT string, or its JSON form with `proof.jwt` (room for credentials). */
export const SignedPresentationSchema = signedJwtSchema(500_000)

function signedJwtSchema(maxLength: number) {
  const jwt = z.string().min(1).max(maxLength)
  const envelopeTypes = [ENVELOPED_CREDENTIAL, ENVELOPED_PRESENTATION] as const
  return z.union([
    jwt,
    z.looseObject({ proof: z.looseObject({ jwt }) }),
    // VC 2.0: the JWT as a data URL; its other members are judged by the integrity check.
    z.looseObject({ type: z.enum(envelopeTypes), id: z.string().min(1).max(maxLength + 100) }),
  ])
}

/** A signed credential or presentation: a JWT string, JSON carrying it in `proof.jwt`, or a VC 2.0 envelope. */
export type SignedInput = string | { proof: { jwt: string } } | Envelope

/** The JWT of a signed credential or presentation, whichever form it came in ('' for an envelope of the wrong kind). */
export function jwtOf(input: SignedInput): string {
  if (typeof input === 'string') return input
  if ('proof' in input && input.proof && typeof input.proof === 'object') return input.proof.jwt
  const e = input as Envelope
  return (isEnvelope(e, 'credential') && jwtOfEnvelope(e, 'credential')) || (isEnvelope(e, 'presentation') && jwtOfEnvelope(e, 'presentation')) || ''
}

/** Whether an item embedded in a presentation (or a file) is in a signed form medcred verifies. */
export function isSignedInput(v: unknown): v is SignedInput {
  if (typeof v === 'string') return true
  if (!v || typeof v !== 'object') return false
  return typeof (v as { proof?: { jwt?: unknown } }).proof?.jwt === 'string' || isEnvelope(v, 'credential')
}

export function asArray<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v]
}

export function issuerId(issuer: UnsignedCredential['issuer']): string | undefined {
  return typeof issuer === 'string' ? issuer : issuer?.id
}

/** Drops sub-second digits: JWT `nbf`/`exp` are whole seconds, so the JSON form must agree with them. */
export function toSeconds(iso: string): string {
  return new Date(Math.floor(Date.parse(iso) / 1000) * 1000).toISOString().replace('.000Z', 'Z')
}
