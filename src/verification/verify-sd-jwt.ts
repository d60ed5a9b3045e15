import { createPublicKey, verify as verifySignature } from 'node:crypto'
import { z } from 'zod'
import type { DidResolver } from '../did/resolver.js'
import {
  KB_JWT_TYP,
  SD_JWT_VC_FORMAT,
  credentialOfSdJwt,
  processDisclosures,
  sdDigest,
  sdJwtDigest,
  splitSdJwt,
  typeOfVct,
} from '../credentials/sd-jwt-vc.js'
import { KNOWN_TYPES } from '../credentials/subject-schemas.js'
import { checkTokenStatus } from '../status/token-status-check.js'
import { bodyProblem } from '../validation.js'
import { fail, pass, verdict, type Check } from './checks.js'
import { checkDates } from './dates.js'
import { verifyJwtProof } from './jwt-proof.js'
import type { CredentialVerdict, VerifyContext } from './verify-credential.js'
import type { PresentationVerdict } from './verify-presentation.js'

/** Legacy `typ` of SD-JWT VCs before the draft renamed it; still met in wallets. */
const ACCEPTED_TYPS = new Set([SD_JWT_VC_FORMAT, 'vc+sd-jwt'])
const KB_ALGS: Record<string, { kty: string; crv: string; hash: string | null }> = {
  EdDSA: { kty: 'OKP', crv: 'Ed25519', hash: null },
  ES256: { kty: 'EC', crv: 'P-256', hash: 'sha256' },
  ES256K: { kty: 'EC', crv: 'secp256k1', hash: 'sha256' },
}

export interface SdJwtPresentationVerdict extends PresentationVerdict {
  format: typeof SD_JWT_VC_FORMAT
  /** Claims the holder disclosed (and only those), by name, e.g. `name`, `address.locality`. */
  disclosed?: string[]
  /** Consents (VC-JWTs) the holder signed into the KB-JWT's `consent` claim; only when key binding held. */
  carriedConsents?: string[]
}

/**
 * Verifies an SD-JWT VC presentation with key binding (RFC 9901 §7.3): the issuer's signature by an
 * assertionMethod key of the DID in `iss` (named by `kid`), every disclosure's digest, the KB-JWT signed by
 * the `cnf` key with `nonce` = challenge, `aud` = domain, a fresh `iat` and the right `sd_hash`; then the
 * checks every format shares: dates, the schema of what is disclosed, trusted issuer and status. What the
 * verdict carries of the credential holds only the disclosed claims.
 */
export async function verifySdJwtPresentation(
  compact: string,
  expected: { challenge: string; domain: string },
  ctx: VerifyContext,
): Promise<SdJwtPresentationVerdict> {
  const now = ctx.now ?? Math.floor(Date.now() / 1000)
  const parts = splitSdJwt(compact)
  const none = (checks: Check[]): SdJwtPresentationVerdict => ({ ...verdict(checks), format: SD_JWT_VC_FORMAT, credentials: [] })
  if (!parts) return none([fail('format', 'not an SD-JWT in compact serialization (<jwt>~<disclosure>~…~<kb-jwt>)')])

  const proof = await verifyJwtProof(parts.issuerJwt, {
    resolver: ctx.resolver,
    proofPurpose: 'assertionMethod',
    names: { proof: 'proof', did: 'issuerDid' },
    fallback: ctx.supersededKeys,
  })
  const checks: Check[] = []
  const header = proof.header as Record<string, unknown> | undefined
  const payload = proof.payload as Record<string, unknown> | undefined
  if (!header || !payload) return none(proof.checks)
  const iss = payload.iss as string
  checks.push(formatCheck(header, payload))
  checks.push(...proof.checks)

  const disclosures = processDisclosures(payload, parts.disclosures)
  if (!disclosures.ok) {
    checks.push(fail('disclosures', disclosures.detail))
    return none(checks)
  }
  checks.push(pass('disclosures', disclosures.disclosed.length ? `${disclosures.disclosed.length} disclosed: ${disclosures.disclosed.join(', ')}` : 'none disclosed'))
  const claims = disclosures.claims
  const type = typeof claims.vct === 'string' ? typeOfVct(ctx.sdJwt?.publicUrl ?? '', claims.vct) : 'VerifiableCredential'
  const credential = credentialOfSdJwt(claims, type)

  checks.push(checkDates({ nbf: (claims.nbf ?? claims.iat) as number | undefined, exp: claims.exp as number | undefined }, [], { now, skewSeconds: ctx.skewSeconds }))
  checks.push(checkDisclosedSchema(credential, type))
  const signed = proof.checks.every((c) => c.ok)
  if (ctx.trustedIssuer && signed) checks.push(await ctx.trustedIssuer(credential, iss))
  if (ctx.status && signed) checks.push(await checkTokenStatus(claims.status, iss, type, ctx.status))
  const credentialChecks = [...checks]

  const binding = await checkKeyBinding(parts, claims, expected, { now, skewSeconds: ctx.skewSeconds, maxAgeSeconds: ctx.sdJwt?.kbMaxAgeSeconds ?? 300 })
  checks.push(...binding.checks)
  const holder = typeof claims.sub === 'string' ? claims.sub : undefined
  checks.push(await checkHolderKey(ctx.resolver, holder, claims.cnf))

  const credentialVerdict: CredentialVerdict = { ...verdict(credentialChecks), credential, jwt: parts.issuerJwt, digest: sdJwtDigest(parts.issuerJwt) }
  return {
    ...verdict(checks),
    format: SD_JWT_VC_FORMAT,
    holder,
    credentials: [credentialVerdict],
    disclosed: disclosures.disclosed,
    ...(binding.ok && binding.consents.length ? { carriedConsents: binding.consents } : {}),
  }
}

function formatCheck(header: Record<string, unknown>, payload: Record<string, unknown>): Check {
  if (!ACCEPTED_TYPS.has(header.typ as string)) return fail('format', `the issuer-signed JWT is typ ${JSON.stringify(header.typ)}, not ${SD_JWT_VC_FORMAT}`)
  if (typeof payload.vct !== 'string') return fail('format', 'the SD-JWT VC has no vct')
  if (header.kid !== undefined && (typeof header.kid !== 'string' || header.kid.split('#')[0] !== payload.iss)) {
    return fail('format', `the signing key (kid) is not a key of the issuer ${String(payload.iss)}`)
  }
  return pass('format', SD_JWT_VC_FORMAT)
}

/** The subject schema of a known type, applied to what was disclosed: every disclosed claim must fit. */
function checkDisclosedSchema(credential: Record<string, unknown>, type: string): Check {
  const spec = Object.hasOwn(KNOWN_TYPES, type) ? KNOWN_TYPES[type] : undefined
  if (!spec) return pass('schema', 'no schema registered for this type')
  if (!(spec.subject instanceof z.ZodObject)) return fail('schema', `the ${type} schema cannot be applied to a partial disclosure`)
  const parsed = spec.subject.partial().safeParse(credential.credentialSubject)
  if (parsed.success) return pass('schema', `${type} (disclosed claims)`)
  const issue = parsed.error.issues[0]
  return fail('schema', `credentialSubject.${issue.path.join('.')}: ${issue.message}`)
}

type Binding = { ok: boolean; checks: Check[]; consents: string[] }

/** The KB-JWT: signed by the `cnf` key, over this very presentation (`sd_hash`), for this verifier, now. */
async function checkKeyBinding(
  parts: NonNullable<ReturnType<typeof splitSdJwt>>,
  claims: Record<string, unknown>,
  expected: { challenge: string; domain: string },
  time: { now: number; skewSeconds: number; maxAgeSeconds: number },
): Promise<Binding> {
  const missing = (detail: string): Binding => ({ ok: false, checks: [fail('keyBinding', detail)], consents: [] })
  if (!parts.kbJwt) return missing('no KB-JWT: the presentation is not bound to the holder key')
  const [h, p, s] = parts.kbJwt.split('.')
  let header: Record<string, unknown>
  let payload: Record<string, unknown>
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'))
    payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'))
  } catch {
    return missing('the KB-JWT is not a JWT with JSON header and payload')
  }
  const text = bodyProblem(header, 'the KB-JWT header') ?? bodyProblem(payload, 'the KB-JWT payload')
  if (text) return missing(text)
  if (header.typ !== KB_JWT_TYP) return missing(`the KB-JWT is typ ${JSON.stringify(header.typ)}, not ${KB_JWT_TYP}`)
  const jwk = (claims.cnf as { jwk?: Record<string, unknown> } | undefined)?.jwk
  if (!jwk || typeof jwk !== 'object') return missing('the credential has no cnf.jwk to bind a holder key to')
  const alg = typeof header.alg === 'string' && Object.hasOwn(KB_ALGS, header.alg) ? KB_ALGS[header.alg] : undefined
  if (!alg) return missing(`KB-JWT algorithm ${JSON.stringify(header.alg)} is not accepted`)
  if (jwk.kty !== alg.kty || jwk.crv !== alg.crv) return missing(`the KB-JWT is ${String(header.alg)}, but the cnf key is ${String(jwk.kty)} ${String(jwk.crv)}`)
  let signatureOk = false
  try {
    const key = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, ...(jwk.y !== undefined ? { y: jwk.y } : {}) } as never, format: 'jwk' })
    signatureOk = verifySignature(alg.hash, Buffer.from(`${h}.${p}`), alg.hash ? { key, dsaEncoding: 'ieee-p1363' } : key, Buffer.from(s ?? '', 'base64url'))
  } catch {
    signatureOk = false
  }
  if (!signatureOk) return missing('the KB-JWT is not signed by the cnf key of the credential')

  const checks: Check[] = [pass('keyBinding', 'signed by the cnf key')]
  checks.push(payload.sd_hash === sdDigest(parts.presented) ? pass('sdHash') : fail('sdHash', 'sd_hash does not match the presented SD-JWT and disclosures'))
  checks.push(
    payload.nonce === expected.challenge
      ? pass('challenge')
      : fail('challenge', payload.nonce === undefined ? 'the KB-JWT has no nonce' : 'the nonce does not match the challenge'),
  )
  const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud]
  checks.push(
    audiences.includes(expected.domain) ? pass('domain') : fail('domain', payload.aud === undefined ? 'the KB-JWT has no aud' : 'the aud does not match the domain'),
  )
  const iat = payload.iat
  if (typeof iat !== 'number' || !Number.isFinite(iat)) checks.push(fail('freshness', 'the KB-JWT has no iat'))
  else if (iat > time.now + time.skewSeconds) checks.push(fail('freshness', 'the KB-JWT is issued in the future'))
  else if (iat < time.now - time.maxAgeSeconds - time.skewSeconds) checks.push(fail('freshness', `the KB-JWT is older than ${time.maxAgeSeconds} s`))
  else checks.push(pass('freshness', `issued ${Math.max(0, time.now - iat)} s ago`))
  const consent = payload.consent
  const consents = (Array.isArray(consent) ? consent : consent === undefined ? [] : [consent]).filter((c): c is string => typeof c === 'string').slice(0, 10)
  return { ok: checks.every((c) => c.ok), checks, consents }
}

/** When the credential names its holder (`sub`), the `cnf` key must be that DID's own key. */
async function checkHolderKey(resolver: DidResolver, holder: string | undefined, cnf: unknown): Promise<Check> {
  if (!holder) return pass('holderBinding', 'no holder DID (sub): bound to the cnf key only')
  const jwk = (cnf as { jwk?: Record<string, unknown> } | undefined)?.jwk
  if (!jwk) return fail('holderBinding', 'no cnf key')
  const resolved = await resolver.resolveDid(holder)
  if (!resolved.ok) return fail('holderBinding', `the holder DID cannot be resolved (${resolved.reason})`)
  const methods = resolved.result.didDocument?.verificationMethod ?? []
  const same = methods.some((m) => {
    const k = m.publicKeyJwk as Record<string, unknown> | undefined
    return k && k.kty === jwk.kty && k.crv === jwk.crv && k.x === jwk.x && k.y === jwk.y
  })
  return same ? pass('holderBinding', `the cnf key is a key of ${holder}`) : fail('holderBinding', `the cnf key is not a key of the holder ${holder}`)
}
