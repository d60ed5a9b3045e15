import type { DidResolver } from '../did/resolver.js'
import { credentialDigest } from '../credentials/digest.js'
import { credentialFormatOf, type CredentialFormatName } from '../credentials/formats.js'
import { knownTypesOf } from '../credentials/subject-schemas.js'
import { asArray, jwtOf, type SignedInput } from '../credentials/w3c.js'
import { checkStatus, type StatusCheckContext } from '../status/status-check.js'
import { fail, pass, verdict, type Check, type Verdict } from './checks.js'
import { checkDates } from './dates.js'
import { integrityChecks } from './integrity.js'
import { verifyJwtProof } from './jwt-proof.js'

export interface VerifyContext {
  resolver: DidResolver
  skewSeconds: number
  /** Unix seconds; defaults to now. */
  now?: number
  /** Status lists; without it no status check runs (only for tools that check signatures alone). */
  status?: StatusCheckContext
  /** Accepts signatures by keys retired as `superseded`, for credentials recorded before the rotation. */
  supersededKeys?: SupersededKeyCheck
  /** The trust registry's `trustedIssuer` check; without it, who signed is not judged. */
  trustedIssuer?: (credential: Record<string, unknown>, issuer: string) => Promise<Check>
  /** SD-JWT VC presentations: medcred's base URL (its `vct` URLs) and how old a KB-JWT may be. */
  sdJwt?: { publicUrl: string; kbMaxAgeSeconds: number }
}

/** Given a JWT whose signature fails against the issuer's current DID document, explains why it still counts. */
export type SupersededKeyCheck = (jwt: string, issuer: string) => Promise<string | undefined>

export interface CredentialVerdict extends Verdict {
  /** Which securing format the credential came in (VC 1.1 `jwt_vc` or VC 2.0 `vc+jwt`), once its JWT decoded. */
  format?: CredentialFormatName | 'dc+sd-jwt'
  /** The credential as signed (from the JWT), when it could be decoded. */
  credential?: Record<string, unknown>
  jwt?: string
  digest?: string
  /** The issuer DID whose key the signature verified against (absent when it did not verify). */
  signedBy?: string
  /** Set when the credential was settled on another institution's receipt instead of verified in full. */
  reliedOn?: { receipt?: string; verifier: string; verifiedAt: string; purpose?: string }
}

/** A credential as received: a JWT string, its JSON form carrying `proof.jwt`, or a VC 2.0 envelope. */
export type SignedCredentialInput = SignedInput

/**
 * Verifies one credential in full, whichever format secured it (a VC 1.1 JWT or a VC 2.0 vc+jwt, as a
 * JWT string, JSON with `proof.jwt` or an EnvelopedVerifiableCredential): the format module says who
 * signed and what the credential is; every check after that is the same for both — signature by an
 * assertionMethod key of the issuer's DID (resolved from the chain), the JSON form matching its JWT,
 * validity dates, the subject schema of known types, the trusted issuer and the status.
 */
export async function verifyCredential(input: SignedCredentialInput, ctx: VerifyContext): Promise<CredentialVerdict> {
  const jwt = jwtOf(input)
  // An envelope that carries no vc+jwt data URL: nothing to verify, and integrity says why.
  if (!jwt && typeof input !== 'string') return verdict(integrityChecks(input, 'credential'))
  const now = ctx.now ?? Math.floor(Date.now() / 1000)
  const proof = await verifyJwtProof(jwt, {
    resolver: ctx.resolver,
    proofPurpose: 'assertionMethod',
    names: { proof: 'proof', did: 'issuerDid' },
    fallback: ctx.supersededKeys,
    signerOf: (header, payload) => credentialFormatOf(header, payload).signer(header, payload),
  })
  const checks: Check[] = [...proof.checks]
  if (!proof.payload || !proof.header) return verdict(checks)
  const format = credentialFormatOf(proof.header, proof.payload)

  let credential: Record<string, unknown>
  try {
    credential = format.credential(jwt, proof.payload)
  } catch (e) {
    checks.push(fail('format', (e as Error).message))
    return { ...verdict(checks), format: format.name }
  }
  const signer = proof.signer ?? String(proof.payload.iss)
  const problem = format.problem(proof.header, proof.payload, credential, signer)
  checks.push(problem ? fail('format', problem) : pass('format', format.label))

  checks.push(...integrityChecks(input, 'credential', 'integrity', credential))

  checks.push(checkDates(proof.payload, format.dateSources(proof.payload, credential), { now, skewSeconds: ctx.skewSeconds }))
  checks.push(checkSchema(credential))
  const signed = proof.checks.every((c) => c.ok)
  if (ctx.trustedIssuer && signed) checks.push(await ctx.trustedIssuer(credential, signer))
  if (ctx.status && signed) checks.push(await checkStatus(credential, signer, ctx.status))
  return { ...verdict(checks), format: format.name, credential, jwt, digest: credentialDigest(jwt), ...(signed ? { signedBy: signer } : {}) }
}

function checkSchema(credential: Record<string, unknown>): Check {
  const types = asArray(credential.type as string | string[])
  if (!types.includes('VerifiableCredential')) return fail('schema', 'type must include VerifiableCredential')
  const subjects = asArray(credential.credentialSubject as Record<string, unknown> | Record<string, unknown>[])
  if (subjects.length === 0) return fail('schema', 'credentialSubject is missing')
  if (typeof credential.id === 'string' && credential.id.length > 300) return fail('schema', 'the credential id is longer than 300 characters')
  const named = knownTypesOf(types)
  if (named.length > 1) return fail('schema', `a credential may be of one known type, not ${named.map((k) => k.name).join(' and ')}`)
  const known = named[0]
  if (!known) return pass('schema', 'no schema registered for this type')
  if (subjects.length !== 1) return fail('schema', `a ${known.name} has exactly one subject`)
  const parsed = known.spec.subject.safeParse(subjects[0])
  if (parsed.success) return pass('schema', known.name)
  const issue = parsed.error.issues[0]
  return fail('schema', `credentialSubject.${issue.path.join('.')}: ${issue.message}`)
}
