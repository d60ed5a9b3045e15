import { createHash } from 'node:crypto'
import { bodyProblem } from '../validation.js'

/**
 * SD-JWT VC (RFC 9901 and draft-ietf-oauth-sd-jwt-vc): the compact form
 * `<issuer-signed JWT>~<disclosure>~…~<KB-JWT or nothing>`, the digests of disclosures, and the
 * mapping between an SD-JWT VC's claims and the credential medcred's shared checks read. Pure functions.
 */

export const SD_JWT_VC_FORMAT = 'dc+sd-jwt'
export const KB_JWT_TYP = 'kb+jwt'
export const SD_ALG = 'sha-256'

/**
 * Subject claims that are each selectively disclosable in a PatientIdentityCredential. Every other
 * subject claim is disclosable too (a safe default); `iss`, `sub`, `vct`, `cnf`, `status`, `jti` and the
 * dates never are.
 */
export const SELECTIVELY_DISCLOSABLE = ['name', 'birthDate', 'address', 'identifiers', 'assuranceLevel'] as const

/** Claims of the issuer-signed JWT that are never disclosures (RFC 9901 §9.7, SD-JWT VC §3.2.2). */
export const NEVER_DISCLOSED = new Set(['iss', 'sub', 'vct', 'vct#integrity', 'cnf', 'status', 'jti', 'iat', 'nbf', 'exp', '_sd', '_sd_alg', '...'])

/** The `vct` medcred gives a credential type; its Type Metadata is served there. */
export function vctOf(publicUrl: string, type: string): string {
  return `${publicUrl}/vct/${type}`
}

/** The type a `vct` names: one of medcred's `…/vct/<Type>`, else the `vct` itself. */
export function typeOfVct(publicUrl: string, vct: string): string {
  const prefix = `${publicUrl}/vct/`
  return vct.startsWith(prefix) ? vct.slice(prefix.length) : vct
}

/** Whether `input` has the shape of an SD-JWT (a compact JWT followed by `~`-separated parts). */
export function looksLikeSdJwt(input: unknown): input is string {
  return typeof input === 'string' && /^[\w-]+\.[\w-]+\.[\w-]+~/.test(input)
}

export interface SdJwtParts {
  issuerJwt: string
  disclosures: string[]
  /** The KB-JWT, when the presentation ends with one. */
  kbJwt?: string
  /** Everything before the KB-JWT: what its `sd_hash` covers. */
  presented: string
}

/** Splits the compact serialization; undefined when it is not one. */
export function splitSdJwt(compact: string): SdJwtParts | undefined {
  const parts = compact.split('~')
  if (parts.length < 2) return undefined
  const issuerJwt = parts[0]
  const last = parts[parts.length - 1]
  const disclosures = parts.slice(1, -1)
  if (!/^[\w-]+\.[\w-]+\.[\w-]+$/.test(issuerJwt)) return undefined
  if (disclosures.some((d) => !/^[\w-]+$/.test(d))) return undefined
  if (last !== '' && !/^[\w-]+\.[\w-]+\.[\w-]+$/.test(last)) return undefined
  return {
    issuerJwt,
    disclosures,
    ...(last ? { kbJwt: last } : {}),
    presented: compact.slice(0, compact.length - last.length),
  }
}

/** base64url(SHA-256(ASCII of the string)): the digest of a disclosure, and the `sd_hash` of a presentation. */
export function sdDigest(value: string): string {
  return createHash('sha256').update(value, 'ascii').digest('base64url')
}

/** SHA-256 (hex) of the issuer-signed JWT's payload: the credential's digest, stable across signature encodings. */
export function sdJwtDigest(issuerJwt: string): string {
  return createHash('sha256').update(Buffer.from(issuerJwt.split('.')[1] ?? '', 'base64url')).digest('hex')
}

const MAX_DEPTH = 32

export type DisclosureOutcome =
  | { ok: true; claims: Record<string, unknown>; disclosed: string[] }
  | { ok: false; detail: string }

/**
 * RFC 9901 §7.1: replaces every digest the issuer signed by the disclosure that hashes to it. Refuses a
 * disclosure no signed digest names (added or tampered with), a digest used twice, a malformed
 * disclosure, a claim name that is reserved or already present. Details name claims, never values.
 */
export function processDisclosures(payload: Record<string, unknown>, disclosures: string[]): DisclosureOutcome {
  if (payload._sd_alg !== undefined && payload._sd_alg !== SD_ALG) {
    return { ok: false, detail: `the hash algorithm ${JSON.stringify(payload._sd_alg)} is not supported (only ${SD_ALG})` }
  }
  const byDigest = new Map<string, unknown[]>()
  for (const [i, d] of disclosures.entries()) {
    let decoded: unknown
    try {
      decoded = JSON.parse(Buffer.from(d, 'base64url').toString('utf8'))
    } catch {
      return { ok: false, detail: `disclosure ${i} is not base64url-encoded JSON` }
    }
    if (!Array.isArray(decoded) || (decoded.length !== 3 && decoded.length !== 2) || typeof decoded[0] !== 'string') {
      return { ok: false, detail: `disclosure ${i} is not [salt, name, value] or [salt, value]` }
    }
    // The boundary's text rule holds inside disclosures too (they are outside text, decoded here).
    const text = bodyProblem(decoded, `disclosure ${i}`)
    if (text) return { ok: false, detail: text }
    const digest = sdDigest(d)
    if (byDigest.has(digest)) return { ok: false, detail: `disclosure ${i} is given twice` }
    byDigest.set(digest, decoded)
  }
  const used = new Set<string>()
  const disclosed: string[] = []
  const problem: { detail?: string } = {}

  const walk = (value: unknown, path: string, depth = 0): unknown => {
    if (problem.detail) return undefined
    // The payload may come from anyone with a key: bound the recursion, no credential nests this deep.
    if (depth > MAX_DEPTH) return fail(`the claims nest deeper than ${MAX_DEPTH} levels`)
    if (Array.isArray(value)) {
      const out: unknown[] = []
      for (const element of value) {
        const ref = element && typeof element === 'object' && !Array.isArray(element) ? (element as Record<string, unknown>) : undefined
        if (ref && Object.keys(ref).length === 1 && typeof ref['...'] === 'string') {
          const d = take(ref['...'] as string, path)
          if (d === undefined) continue
          if (d.length !== 2) return fail(`a disclosure for an element of ${path || 'an array'} has a claim name`)
          disclosed.push(`${path}[]`)
          out.push(walk(d[1], `${path}[]`, depth + 1))
        } else out.push(walk(element, `${path}[]`, depth + 1))
      }
      return out
    }
    if (value && typeof value === 'object') {
      const object = value as Record<string, unknown>
      const out: Record<string, unknown> = {}
      for (const [k, v] of Object.entries(object)) {
        if (k === '_sd' || (k === '_sd_alg' && path === '')) continue
        out[k] = walk(v, path ? `${path}.${k}` : k, depth + 1)
      }
      if (object._sd !== undefined) {
        if (!Array.isArray(object._sd) || object._sd.some((x) => typeof x !== 'string')) return fail(`_sd of ${path || 'the payload'} is not a list of digests`)
        for (const digest of object._sd as string[]) {
          const d = take(digest, path)
          if (d === undefined) continue
          if (d.length !== 3 || typeof d[1] !== 'string') return fail(`a disclosure for an object member of ${path || 'the payload'} has no claim name`)
          const name = d[1]
          const at = path ? `${path}.${name}` : name
          if (name === '_sd' || name === '...' || (path === '' && NEVER_DISCLOSED.has(name))) return fail(`the disclosure of ${at} uses a reserved claim name`)
          if (Object.hasOwn(out, name)) return fail(`the disclosed claim ${at} is already in the payload`)
          disclosed.push(at)
          out[name] = walk(d[2], at, depth + 1)
        }
      }
      return out
    }
    return value
  }
  const fail = (detail: string) => {
    problem.detail ??= detail
    return undefined
  }
  const take = (digest: string, path: string): unknown[] | undefined => {
    if (used.has(digest)) {
      fail(`a digest in ${path || 'the payload'} appears twice`)
      return undefined
    }
    used.add(digest)
    // A digest without a disclosure is undisclosed (or a decoy): left out.
    return byDigest.get(digest)
  }

  const claims = walk(payload, '') as Record<string, unknown>
  if (problem.detail) return { ok: false, detail: problem.detail }
  const unused = [...byDigest.keys()].filter((d) => !used.has(d)).length
  if (unused) return { ok: false, detail: `${unused} disclosure(s) match no digest the issuer signed (added or altered)` }
  return { ok: true, claims, disclosed }
}

/** The shape medcred's shared checks read (types, issuer, subject, dates), from an SD-JWT VC's processed claims. */
export function credentialOfSdJwt(claims: Record<string, unknown>, type: string): Record<string, unknown> {
  const subject: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(claims)) if (!NEVER_DISCLOSED.has(k)) subject[k] = v
  const seconds = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? new Date(v * 1000).toISOString().replace('.000Z', 'Z') : undefined)
  const expirationDate = seconds(claims.exp)
  return {
    ...(typeof claims.jti === 'string' ? { id: claims.jti } : {}),
    type: ['VerifiableCredential', type],
    issuer: claims.iss,
    ...(seconds(claims.nbf ?? claims.iat) ? { issuanceDate: seconds(claims.nbf ?? claims.iat) } : {}),
    ...(expirationDate ? { expirationDate } : {}),
    credentialSubject: { ...(typeof claims.sub === 'string' ? { id: claims.sub } : {}), ...subject },
  }
}
