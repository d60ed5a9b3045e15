import { presentationFormatOf } from '../credentials/formats.js'
import { asArray, isSignedInput, jwtOf, type SignedInput } from '../credentials/w3c.js'
import { fail, pass, prefixed, verdict, type Check, type Verdict } from './checks.js'
import { checkDates } from './dates.js'
import { integrityChecks } from './integrity.js'
import { verifyJwtProof } from './jwt-proof.js'
import { verifyCredential, type CredentialVerdict, type VerifyContext } from './verify-credential.js'

export interface PresentationVerdict extends Verdict {
  holder?: string
  credentials: CredentialVerdict[]
  /**
   * Consents (PatientConsentCredential JWTs) the holder carried in the presentation's `consent` claim, so
   * that one wallet interaction grants and presents; each is checked as a consent on its own (signed by
   * the patient), and only when the presentation's signature verified.
   */
  carriedConsents?: string[]
}

export type SignedPresentationInput = SignedInput

/**
 * Verifies a presentation: signed by an authentication key of its holder, bound to the verifier's
 * challenge (`nonce`) and domain (`aud`), the holder being the subject of every credential, and every
 * embedded credential verified in full (Veramo's JWT presentation check does not do that).
 */
export async function verifyPresentation(
  input: SignedPresentationInput,
  expected: { challenge: string; domain: string },
  ctx: VerifyContext,
  /** Lets a caller settle an embedded credential another way (e.g. on an acceptance receipt). */
  settle?: (jwt: string) => Promise<CredentialVerdict | undefined>,
): Promise<PresentationVerdict> {
  const jwt = jwtOf(input)
  const now = ctx.now ?? Math.floor(Date.now() / 1000)
  const proof = await verifyJwtProof(jwt, {
    resolver: ctx.resolver,
    proofPurpose: 'authentication',
    names: { proof: 'presentationProof', did: 'holderDid' },
    signerOf: (header, payload) => presentationFormatOf(header, payload).signer(header, payload),
  })
  const checks: Check[] = [...proof.checks]
  const payload = proof.payload
  if (!payload || !proof.header || !proof.signer) return { ...verdict(checks), credentials: [] }
  const format = presentationFormatOf(proof.header, payload)

  let presentation: Record<string, unknown>
  try {
    presentation = format.presentation(jwt, payload)
  } catch (e) {
    checks.push(fail('format', (e as Error).message))
    return { ...verdict(checks), credentials: [] }
  }
  checks.push(pass('format', format.label))

  checks.push(...integrityChecks(input, 'presentation', 'integrity', presentation))

  checks.push(
    payload.nonce === expected.challenge
      ? pass('challenge')
      : fail('challenge', payload.nonce === undefined ? 'the presentation is not bound to a challenge' : 'the challenge does not match'),
  )
  const audiences = asArray(payload.aud as string | string[] | undefined)
  checks.push(
    audiences.includes(expected.domain)
      ? pass('domain')
      : fail('domain', audiences.length ? 'the domain does not match' : 'the presentation is not bound to a domain'),
  )
  checks.push(checkDates(payload, [presentation], { now, skewSeconds: ctx.skewSeconds }))

  const holder = proof.signer
  const declaredHolder = format.declaredHolder(payload)
  const embedded = format.embedded(payload)
  const credentials: CredentialVerdict[] = []
  const notSubject: number[] = []
  for (const [i, vc] of embedded.entries()) {
    const jwt = isSignedInput(vc) ? jwtOf(vc) : undefined
    // A JSON credential is what its proof.jwt (or its envelope) carries, or nothing, however it is then settled.
    const integrity = jwt !== undefined ? integrityChecks(vc as SignedInput, 'credential') : []
    const settled: CredentialVerdict = jwt
      ? ((await settle?.(jwt)) ?? (await verifyCredential(jwt, ctx)))
      : { verified: false, checks: [fail('format', 'not a signed credential (a JWT, JSON with proof.jwt, or an EnvelopedVerifiableCredential)')] }
    const result = integrity.length ? { ...settled, ...verdict([...settled.checks, ...integrity]) } : settled
    credentials.push(result)
    checks.push(...prefixed(`credentials[${i}]`, result.checks))
    const subjects = asArray(result.credential?.credentialSubject as { id?: string } | { id?: string }[] | undefined)
    if (!subjects.some((s) => s.id === holder)) notSubject.push(i)
  }
  if (declaredHolder !== undefined && declaredHolder !== holder) {
    checks.push(fail('holderBinding', `the presentation is signed by ${holder} but names ${String(declaredHolder)} as holder`))
  } else if (notSubject.length) {
    checks.push(fail('holderBinding', `the signer ${holder} is not the subject of credential(s) ${notSubject.join(', ')}`))
  } else {
    checks.push(pass('holderBinding', `signed by ${holder}, the subject of every credential`))
  }
  const consent = (payload as { consent?: unknown }).consent
  const carriedConsents = (Array.isArray(consent) ? consent : consent === undefined ? [] : [consent]).filter((c): c is string => typeof c === 'string').slice(0, 10)
  const signed = proof.checks.every((c) => c.ok)
  return { ...verdict(checks), holder, credentials, ...(signed && carriedConsents.length ? { carriedConsents } : {}) }
}
