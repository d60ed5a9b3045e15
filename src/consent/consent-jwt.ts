import { normalizeCredential } from 'did-jwt-vc'
import { z } from 'zod'
import type { DidResolver } from '../did/resolver.js'
import { DID } from '../credentials/identifiers.js'
import { RESERVED_CREDENTIAL_TYPES } from '../credentials/reserved-types.js'
import { asArray } from '../credentials/w3c.js'
import { verifyJwtProof } from '../verification/jwt-proof.js'
import { PATIENT_PURPOSES, type PatientPurpose } from './consent.entities.js'

export const CONSENT_TYPE = RESERVED_CREDENTIAL_TYPES.consent

/** The terms a patient signed. */
export interface ConsentTermsSigned {
  patientDid: string
  granteeDid: string
  purposes: PatientPurpose[]
  credentialTypes: string[]
  issuedAt: string
  expiresAt: string
}

/** Why a consent is refused: `forbidden` when it is not the patient's own signature, `invalid` when its terms do not fit. */
export type ConsentRefusal = { ok: false; reason: 'forbidden' | 'invalid' | 'unavailable'; detail: string }

const ConsentSubject = z.strictObject({
  id: z.string().max(300).regex(DID, 'must be the DID of the grantee institution'),
  purposes: z
    .array(z.enum(PATIENT_PURPOSES))
    .min(1, 'must name at least one purpose')
    .max(PATIENT_PURPOSES.length)
    .refine((p) => new Set(p).size === p.length, 'must not repeat a purpose'),
  credentialTypes: z
    .array(z.string().regex(/^[A-Za-z][A-Za-z0-9]{0,99}$/, 'must be a credential type name'))
    .min(1, 'must name at least one credential type')
    .max(20),
})

/**
 * Verifies a PatientConsentCredential (VC-JWT): signed by an assertionMethod key of the DID in `iss`, which
 * is the patient; the consent names no other issuer; it has an expiration date still to come and
 * terms that fit (grantee DID, purposes from treatment, payment, operations, research, credential types).
 * Details name fields and DIDs, never other values.
 */
export async function verifyConsentJwt(
  jwt: string,
  opts: { resolver: DidResolver; now: number; skewSeconds: number },
): Promise<{ ok: true; terms: ConsentTermsSigned } | ConsentRefusal> {
  const proof = await verifyJwtProof(jwt, { resolver: opts.resolver, proofPurpose: 'assertionMethod', names: { proof: 'proof', did: 'issuerDid' } })
  const failed = proof.checks.find((c) => !c.ok)
  if (!proof.payload) return { ok: false, reason: 'invalid', detail: `the consent is not a signed JWT: ${failed?.detail ?? 'malformed'}` }
  if (failed) {
    const unavailable = failed.detail?.startsWith('cannot be checked now')
    return { ok: false, reason: unavailable ? 'unavailable' : 'forbidden', detail: `the consent is not signed by the patient it names (${failed.check}: ${failed.detail})` }
  }
  let credential: Record<string, unknown>
  try {
    if (typeof proof.payload.vc !== 'object' || proof.payload.vc === null) throw new Error('no vc')
    credential = normalizeCredential(jwt) as unknown as Record<string, unknown>
  } catch {
    return { ok: false, reason: 'invalid', detail: 'the consent JWT carries no verifiable credential (vc claim)' }
  }
  const patientDid = proof.payload.iss as string
  const issuer = typeof credential.issuer === 'string' ? credential.issuer : (credential.issuer as { id?: unknown } | undefined)?.id
  if (issuer !== patientDid) return { ok: false, reason: 'forbidden', detail: `the consent names ${String(issuer)} as issuer but is signed by ${patientDid}` }
  if (!asArray(credential.type as string | string[]).includes(CONSENT_TYPE)) {
    return { ok: false, reason: 'invalid', detail: `consent.type: must include ${CONSENT_TYPE}` }
  }
  const subject = ConsentSubject.safeParse(credential.credentialSubject)
  if (!subject.success) {
    const issue = subject.error.issues[0]
    return { ok: false, reason: 'invalid', detail: `consent.credentialSubject.${issue.path.join('.')}: ${issue.message}` }
  }
  if (subject.data.id === patientDid) return { ok: false, reason: 'invalid', detail: 'consent.credentialSubject.id: a patient grants consent to an institution, not to themself' }
  const exp = proof.payload.exp
  const expiresAt = typeof credential.expirationDate === 'string' ? Date.parse(credential.expirationDate) / 1000 : typeof exp === 'number' ? exp : undefined
  if (expiresAt === undefined || Number.isNaN(expiresAt)) return { ok: false, reason: 'invalid', detail: 'consent.expirationDate: a consent must have an expiration date' }
  if (expiresAt <= opts.now - opts.skewSeconds) return { ok: false, reason: 'invalid', detail: 'consent.expirationDate: the consent has expired' }
  const nbf = proof.payload.nbf ?? proof.payload.iat
  if (typeof nbf === 'number' && nbf > opts.now + opts.skewSeconds) return { ok: false, reason: 'invalid', detail: 'consent.issuanceDate: the consent is not valid yet' }
  const iso = (s: number) => new Date(s * 1000).toISOString()
  return {
    ok: true,
    terms: {
      patientDid,
      granteeDid: subject.data.id,
      purposes: subject.data.purposes,
      credentialTypes: [...new Set(subject.data.credentialTypes)],
      issuedAt: iso(typeof nbf === 'number' ? nbf : opts.now),
      expiresAt: iso(expiresAt),
    },
  }
}
