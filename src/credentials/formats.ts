import type { JWTHeader, JWTPayload } from 'did-jwt'
import { credentialFromJwt, decodeJwt } from './jwt.js'
import { normalizePresentation } from 'did-jwt-vc'
import { isJoseSecured, VC_JWT_TYP, VP_JWT_TYP } from './vc-jose.js'
import { VC_V2_CONTEXT, asArray, isSignedInput, jwtOf } from './w3c.js'

/** The securing formats of W3C credentials medcred verifies (SD-JWT VCs have their own presentation path). */
export type CredentialFormatName = 'jwt_vc' | typeof VC_JWT_TYP

/** Who must have signed: the DID to resolve and, when the format names one, the key (a DID URL). */
export type SignerRef = { did: string; keyRef?: string } | { problem: string }

/**
 * One securing format: how a JWT of it names its signer and carries its credential. Every check after
 * that (signature, issuer DID, integrity, dates, schema, trust, status, …) is shared.
 */
export interface CredentialFormat {
  name: CredentialFormatName
  /** Said in the `format` check. */
  label: string
  signer(header: JWTHeader, payload: JWTPayload): SignerRef
  /** The credential in W3C JSON; throws when the JWT carries none. */
  credential(jwt: string, payload: JWTPayload): Record<string, unknown>
  /** What makes the credential disagree with its JWT (e.g. an issuer other than the signer), or undefined. */
  problem(header: JWTHeader, payload: JWTPayload, credential: Record<string, unknown>, signer: string): string | undefined
  /** Every JSON object whose validity dates count (besides the JWT's `nbf`/`exp`). */
  dateSources(payload: JWTPayload, credential: Record<string, unknown>): Record<string, unknown>[]
}

const issuerOf = (c: Record<string, unknown>): unknown => (typeof c.issuer === 'string' ? c.issuer : (c.issuer as { id?: unknown } | undefined)?.id)

/** VC Data Model 1.1 as a VC-JWT: the credential in the `vc` claim, the signer in `iss`. */
const VC11_JWT: CredentialFormat = {
  name: 'jwt_vc',
  label: 'VC 1.1 (VC-JWT)',
  signer: (_h, p) => (typeof p.iss === 'string' ? { did: p.iss } : { problem: 'the JWT names no issuer (iss)' }),
  credential(jwt, payload) {
    if (typeof payload.vc !== 'object' || payload.vc === null) throw new Error('the JWT carries no verifiable credential (vc claim)')
    return credentialFromJwt(jwt, payload)
  },
  // did-jwt-vc builds `issuer` from `iss` but lets a top-level `issuer` claim override it: the signer is `iss`.
  problem: (_h, payload, credential) =>
    issuerOf(credential) === payload.iss ? undefined : `the credential names ${String(issuerOf(credential))} as issuer but is signed as ${String(payload.iss)}`,
  dateSources: (payload, credential) => [credential, payload.vc as Record<string, unknown>],
}

/** JWT claims VC-JOSE-COSE lets sit beside the credential's own members; they are not part of the credential. */
const JWT_CLAIMS = ['iss', 'sub', 'aud', 'iat', 'nbf', 'exp', 'jti', 'cnf', 'nonce']

/** VC Data Model 2.0 secured with VC-JOSE-COSE: the payload is the credential, the signer its `issuer`, `kid` its key. */
const VC20_JOSE: CredentialFormat = {
  name: VC_JWT_TYP,
  label: 'VC 2.0 (vc+jwt, VC-JOSE-COSE)',
  signer(header, payload) {
    const issuer = issuerOf(payload)
    if (typeof issuer !== 'string') return { problem: 'the credential names no issuer' }
    if (payload.iss !== undefined && payload.iss !== issuer) return { problem: `iss ${String(payload.iss).slice(0, 100)} is not the credential's issuer ${issuer}` }
    if (header.kid === undefined) return { did: issuer }
    if (typeof header.kid !== 'string' || !header.kid.startsWith(`${issuer}#`)) {
      return { problem: `the signing key (kid ${String(header.kid).slice(0, 120)}) is not a key of the issuer ${issuer}` }
    }
    return { did: issuer, keyRef: header.kid }
  },
  credential(_jwt, payload) {
    const credential = Object.fromEntries(Object.entries(payload).filter(([k]) => !JWT_CLAIMS.includes(k)))
    if (!('credentialSubject' in credential)) throw new Error('the vc+jwt payload is not a credential (no credentialSubject)')
    return credential
  },
  problem(header, _payload, credential) {
    if (asArray(credential['@context'])[0] !== VC_V2_CONTEXT) return `a vc+jwt credential's @context starts with ${VC_V2_CONTEXT}`
    const typ: unknown = header.typ
    if (typ !== undefined && typ !== VC_JWT_TYP && typ !== `application/${VC_JWT_TYP}`) return `the JWT's typ is ${String(typ)}, not ${VC_JWT_TYP}`
    return undefined
  },
  dateSources: (_payload, credential) => [credential],
}

/** The format of a decoded credential JWT: VC-JOSE-COSE when its header or payload says so, else a VC 1.1 JWT. */
export function credentialFormatOf(header: JWTHeader, payload: JWTPayload): CredentialFormat {
  return isJoseSecured(header, payload, 'credential') ? VC20_JOSE : VC11_JWT
}

/** The securing formats of W3C presentations: a VP-JWT (`vp` claim) or a VC 2.0 vp+jwt (the payload is the presentation). */
export interface PresentationFormat {
  name: 'jwt_vp' | typeof VP_JWT_TYP
  label: string
  signer(header: JWTHeader, payload: JWTPayload): SignerRef
  /** The presentation in W3C JSON; throws when the JWT carries none. */
  presentation(jwt: string, payload: JWTPayload): Record<string, unknown>
  /** The credentials it carries, as sent (JWTs, JSON with proof.jwt, envelopes). */
  embedded(payload: JWTPayload): unknown[]
  /** The holder it names, if any (the signer must be that holder). */
  declaredHolder(payload: JWTPayload): unknown
}

const VP11_JWT: PresentationFormat = {
  name: 'jwt_vp',
  label: 'VC 1.1 (VP-JWT)',
  signer: (_h, p) => (typeof p.iss === 'string' ? { did: p.iss } : { problem: 'the JWT names no issuer (iss)' }),
  presentation(jwt, payload) {
    if (typeof payload.vp !== 'object' || payload.vp === null) throw new Error('the JWT carries no verifiable presentation (vp claim)')
    return normalizePresentation(jwt) as unknown as Record<string, unknown>
  },
  embedded: (payload) => asArray((payload.vp as { verifiableCredential?: unknown }).verifiableCredential),
  declaredHolder: (payload) => (payload.vp as { holder?: unknown }).holder,
}

const VP20_JOSE: PresentationFormat = {
  name: VP_JWT_TYP,
  label: 'VC 2.0 (vp+jwt, VC-JOSE-COSE)',
  signer(header, payload) {
    const holder = issuerOf({ issuer: payload.holder }) ?? payload.iss
    if (typeof holder !== 'string') return { problem: 'the presentation names no holder' }
    if (payload.iss !== undefined && payload.iss !== holder) return { problem: `iss ${String(payload.iss).slice(0, 100)} is not the presentation's holder ${holder}` }
    if (header.kid === undefined) return { did: holder }
    if (typeof header.kid !== 'string' || !header.kid.startsWith(`${holder}#`)) {
      return { problem: `the signing key (kid ${String(header.kid).slice(0, 120)}) is not a key of the holder ${holder}` }
    }
    return { did: holder, keyRef: header.kid }
  },
  presentation(_jwt, payload) {
    const presentation = Object.fromEntries(Object.entries(payload).filter(([k]) => !JWT_CLAIMS.includes(k)))
    if (!asArray(presentation.type).includes('VerifiablePresentation')) throw new Error('the vp+jwt payload is not a VerifiablePresentation')
    if (asArray(presentation['@context'])[0] !== VC_V2_CONTEXT) throw new Error(`a vp+jwt presentation's @context starts with ${VC_V2_CONTEXT}`)
    return presentation
  },
  embedded: (payload) => asArray((payload as { verifiableCredential?: unknown }).verifiableCredential),
  declaredHolder: (payload) => issuerOf({ issuer: payload.holder }),
}

/** The format of a decoded presentation JWT. */
export function presentationFormatOf(header: JWTHeader, payload: JWTPayload): PresentationFormat {
  return isJoseSecured(header, payload, 'presentation') ? VP20_JOSE : VP11_JWT
}

/** The W3C JSON of a credential JWT in either format (throws when it is none): for code that holds a JWT already verified. */
export function credentialOfJwt(jwt: string): Record<string, unknown> {
  const { header, payload } = decodeJwt(jwt)
  return credentialFormatOf(header, payload).credential(jwt, payload)
}

/** The credential JWTs a presentation JWT carries, in either format (envelopes and JSON forms unwrapped). */
export function embeddedCredentialJwts(vpJwt: string): string[] {
  try {
    const { header, payload } = decodeJwt(vpJwt)
    return presentationFormatOf(header, payload)
      .embedded(payload)
      .filter(isSignedInput)
      .map(jwtOf)
      .filter((j) => j.length > 0)
  } catch {
    return []
  }
}
