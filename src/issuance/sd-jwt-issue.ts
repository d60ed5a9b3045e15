import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc'
import { digest, generateSalt } from '@sd-jwt/crypto-nodejs'
import type { MedcredAgent } from '../agent/agent.js'
import type { DidResolver } from '../did/resolver.js'
import { AppError } from '../errors.js'
import type { InstitutionRow } from '../institutions/institution.entity.js'
import { institutionJwsSigner } from '../institutions/jws-signer.js'
import { NEVER_DISCLOSED, SD_ALG, vctOf } from '../credentials/sd-jwt-vc.js'
import type { TokenStatusReference } from '../status/token-status-list.js'

/** Credential types medcred issues as SD-JWT VCs. */
export const SD_JWT_TYPES: ReadonlySet<string> = new Set(['PatientIdentityCredential'])

/**
 * Signs a checked credential (as IssuanceService prepared it) as an SD-JWT VC with the institution's key
 * in the KMS: `iss`, `sub`, `vct`, `cnf`, `status`, `jti` and the dates in the clear, every subject claim
 * (name, birth date, address, identifiers, assurance level, …) a disclosure of its own.
 */
export async function signSdJwtVc(
  deps: { agent: MedcredAgent; resolver: DidResolver; publicUrl: string },
  institution: InstitutionRow,
  credential: Record<string, unknown>,
  type: string,
  status: TokenStatusReference,
): Promise<string> {
  const { id: sub, ...claims } = credential.credentialSubject as Record<string, unknown>
  if (typeof sub !== 'string') throw subjectProblem('the subject must have an id (the holder DID)')
  refuseReservedNames(claims)
  const jwk = await holderJwk(deps.resolver, sub)
  const seconds = (iso: unknown) => (typeof iso === 'string' ? Math.floor(Date.parse(iso) / 1000) : undefined)
  const exp = seconds(credential.expirationDate ?? credential.validUntil)
  const payload = {
    iss: institution.did,
    sub,
    vct: vctOf(deps.publicUrl, type),
    jti: credential.id as string,
    iat: Math.floor(Date.now() / 1000),
    nbf: seconds(credential.issuanceDate ?? credential.validFrom),
    ...(exp !== undefined ? { exp } : {}),
    cnf: { jwk },
    status,
    ...claims,
  }
  const signer = await institutionJwsSigner(deps.agent, deps.resolver, institution)
  const sdjwt = new SDJwtVcInstance({
    signer: signer.sign,
    signAlg: signer.alg,
    hasher: digest,
    hashAlg: SD_ALG,
    saltGenerator: generateSalt,
  })
  return sdjwt.issue(payload, { _sd: Object.keys(claims) } as never, { header: { kid: signer.kid } })
}

/**
 * Subject claims become top-level SD-JWT claims: none may take the name of a claim the format sets (`iss`,
 * `cnf`, `status`, …), nor, at any depth, the names RFC 9901 gives meaning to (`_sd`, `...`).
 */
function refuseReservedNames(claims: Record<string, unknown>): void {
  const top = Object.keys(claims).find((k) => NEVER_DISCLOSED.has(k))
  if (top) throw claimProblem(top, 'is a claim name the SD-JWT VC sets itself')
  const stack: [unknown, string][] = Object.entries(claims).map(([k, v]) => [v, k])
  while (stack.length) {
    const [v, at] = stack.pop()!
    if (!v || typeof v !== 'object') continue
    for (const [k, child] of Object.entries(v)) {
      if (k === '_sd' || k === '...' || k === '_sd_alg') throw claimProblem(`${at}.${k}`, 'is a name RFC 9901 reserves')
      stack.push([child, `${at}.${k}`])
    }
  }
}

const claimProblem = (at: string, message: string) =>
  new AppError('invalid-credential', `credential.credentialSubject.${at}: ${message}`, { errors: [{ field: `credential.credentialSubject.${at}`, message }] })

/** The holder's public key as a JWK (`cnf.jwk`), from the subject's DID document (a did:key's only key). */
async function holderJwk(resolver: DidResolver, did: string): Promise<Record<string, unknown>> {
  const resolved = await resolver.resolveDid(did)
  if (!resolved.ok) {
    if (resolved.reason === 'unavailable') throw new AppError('chain-unavailable', 'the subject DID cannot be resolved now')
    throw subjectProblem(`the subject DID cannot be resolved (${resolved.reason})`)
  }
  const doc = resolved.result.didDocument!
  const auth = (doc.authentication ?? []).map((a) => (typeof a === 'string' ? a : a.id))
  const method = (doc.verificationMethod ?? []).find((m) => auth.includes(m.id) && m.publicKeyJwk)
  const jwk = method?.publicKeyJwk as Record<string, unknown> | undefined
  if (!jwk) throw subjectProblem('the subject DID has no public key usable as cnf.jwk (use a did:key)')
  const { kty, crv, x, y } = jwk
  return { kty, crv, x, ...(y !== undefined ? { y } : {}) }
}

const subjectProblem = (message: string) =>
  new AppError('invalid-credential', `credential.credentialSubject.id: ${message}`, { errors: [{ field: 'credential.credentialSubject.id', message }] })
