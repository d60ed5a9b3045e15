import { randomUUID } from 'node:crypto'
import type { EntityManager } from 'typeorm'
import { decodeJwt } from '../credentials/jwt.js'
import type { JWTHeader, JWTPayload } from 'did-jwt'
import { credentialFormatOf, credentialOfJwt, embeddedCredentialJwts, type CredentialFormat } from '../credentials/formats.js'
import type { Database } from '../db/database.js'
import { credentialDigest } from '../credentials/digest.js'
import { asArray, jwtOf, type SignedInput } from '../credentials/w3c.js'
import { DEFAULT_RECEIPT_WINDOW_DAYS } from '../institutions/service.js'
import type { InstitutionRow } from '../institutions/institution.entity.js'
import { checkStatus } from '../status/status-check.js'
import type { TrustRegistry } from '../trust/service.js'
import { fail, pass, verdict, type Check, type Verdict } from '../verification/checks.js'
import { checkDates } from '../verification/dates.js'
import { integrityChecks } from '../verification/integrity.js'
import { verifyJwtProof } from '../verification/jwt-proof.js'
import type { VerifyContext } from '../verification/verify-credential.js'
import { verifyPresentation } from '../verification/verify-presentation.js'
import { ReceiptEntity, RelianceEntity, type ReceiptRow, type RelianceRow } from './acceptance.entities.js'
import { parseReceipt, type ParsedReceipt } from './receipts.js'

export interface AcceptanceOutcome extends Verdict {
  acceptanceId?: string
  reliedOn?: { receipt?: string; verifier: string; verifiedAt: string; purpose?: string }
}

/** The VC-JWT strings a presentation JWT carries (undecodable ones are left to the presentation check). */
const embeddedJwts = embeddedCredentialJwts


/**
 * Accept once: relies on another institution's acceptance receipt instead of re-verifying a credential.
 * Checked: the receipt's signature and signer (a verifier the consortium trusts), that it names this very
 * credential (by the digest of its signed payload), that it is younger than this institution's window;
 * then the credential's own signature against its issuer's DID (cheap, and what makes the receipt about
 * a real credential), and the live checks nobody can do in advance: status, expiry, the issuer still
 * trusted. The primary-source work (schema, trust at onboarding, holder binding) is what is relied on.
 */
export class AcceptanceService {
  /**
   * Receipts whose signature already verified, keyed by the digest of the JWT, with the signer's DID
   * document it verified against. A receipt is presented again and again (that is its point); while the
   * signer's DID is unchanged on chain (the resolver re-checks that on every read), its signature is too.
   */
  private readonly verifiedReceipts = new Map<string, { signer: string; document: unknown }>()

  constructor(
    private readonly deps: {
      db: Database
      trust: TrustRegistry
      verifyContext: VerifyContext
      audit?: (m: EntityManager, outcome: AcceptanceOutcome, institution: InstitutionRow) => Promise<unknown>
    },
  ) {}

  /** Accepts on a receipt and records it (reliance and audit event) in one transaction. */
  async accept(
    institution: InstitutionRow,
    input: { credential: SignedInput; receipt: SignedInput },
  ): Promise<AcceptanceOutcome> {
    // JSON forms must be what their JWTs sign: only the JWTs are checked below.
    const forms = [...integrityChecks(input.credential, 'credential'), ...integrityChecks(input.receipt, 'credential', 'receiptIntegrity')]
    const evaluated = await this.evaluate(institution, jwtOf(input.credential), jwtOf(input.receipt))
    const outcome: AcceptanceOutcome & { reliance?: RelianceRow } = forms.every((c) => c.ok)
      ? { ...evaluated, checks: [...forms, ...evaluated.checks] }
      : verdict([...forms, ...evaluated.checks])
    await this.deps.db.transaction(async (m) => {
      if (outcome.acceptanceId && outcome.reliance) await m.getRepository(RelianceEntity).insert(outcome.reliance)
      await this.deps.audit?.(m, outcome, institution)
    })
    const { reliance: _r, ...reply } = outcome
    return reply
  }

  /**
   * Accept once from the clinician's own presentation, holding the credential and the receipt, bound to a
   * challenge this institution got from the service: the holder is proven, the credential is settled on
   * the receipt (live checks only), the receipt's signature checked once.
   */
  async acceptPresentation(
    institution: InstitutionRow,
    input: { verifiablePresentation: SignedInput; challenge: string; domain: string },
    challenges: { consume(i: InstitutionRow, challenge: string, domain: string): Promise<string | undefined> },
  ): Promise<AcceptanceOutcome> {
    const problem = await challenges.consume(institution, input.challenge, input.domain)
    let outcome: AcceptanceOutcome & { reliance?: RelianceRow }
    if (problem) outcome = verdict([fail('challenge', problem)])
    else {
      const vpJwt = jwtOf(input.verifiablePresentation)
      const embedded = embeddedJwts(vpJwt)
      const receipts = embedded.filter((j) => parseReceipt(j))
      let settled: (AcceptanceOutcome & { reliance?: RelianceRow }) | undefined
      const presentation = await verifyPresentation(vpJwt, input, this.deps.verifyContext, async (jwt) => {
        if (receipts.includes(jwt)) {
          const receiptChecks = await this.receiptSignature(jwt)
          return { ...verdict(receiptChecks), credential: credentialOfJwt(jwt) as never, jwt }
        }
        if (receipts.length !== 1) return { verified: false, checks: [fail('receipt', 'the presentation must hold exactly one acceptance receipt')] }
        settled = await this.evaluate(institution, jwt, receipts[0])
        return { ...settled, credential: credentialOfJwt(jwt) as never, jwt, digest: credentialDigest(jwt) }
      })
      const credentials = presentation.credentials.filter((c) => !receipts.includes(c.jwt!))
      const ok = presentation.verified && credentials.length === 1 && settled?.verified === true
      outcome = ok
        ? { ...settled!, checks: presentation.checks }
        : verdict([...presentation.checks, ...(credentials.length === 1 ? [] : [fail('format', 'the presentation must hold exactly one credential besides the receipt')])])
    }
    await this.deps.db.transaction(async (m) => {
      if (outcome.acceptanceId && outcome.reliance) await m.getRepository(RelianceEntity).insert(outcome.reliance)
      await this.deps.audit?.(m, outcome, institution)
    })
    const { reliance: _r, ...reply } = outcome
    return reply
  }

  /** What `institution` relies on (verified in full or accepted on a receipt), newest first. */
  async reliances(institution: InstitutionRow, limit = 100): Promise<RelianceRow[]> {
    return this.deps.db.manager.getRepository(RelianceEntity).find({ where: { institutionId: institution.id }, order: { createdAt: 'DESC' }, take: limit })
  }

  /** One reliance of `institution` by id (an acceptance id is the id of its reliance). */
  async reliance(institution: InstitutionRow, id: string): Promise<RelianceRow | undefined> {
    return (await this.deps.db.manager.getRepository(RelianceEntity).findOneBy({ id, institutionId: institution.id })) ?? undefined
  }

  /** The receipt a reliance on another institution's receipt rests on. */
  async receiptOf(reliance: RelianceRow): Promise<ReceiptRow | undefined> {
    return reliance.receiptId ? ((await this.deps.db.manager.getRepository(ReceiptEntity).findOneBy({ id: reliance.receiptId })) ?? undefined) : undefined
  }

  /** The credential's status now, read from its issuer's status list (the same check as any verification). */
  async liveStatus(credentialJwt: string): Promise<Check> {
    const ctx = this.deps.verifyContext
    try {
      const credential = credentialOfJwt(credentialJwt) as unknown as Record<string, any>
      const issuer = typeof credential.issuer === 'string' ? credential.issuer : credential.issuer?.id
      return ctx.status ? await checkStatus(credential, issuer, ctx.status) : pass('status', 'no status checking configured')
    } catch (e) {
      return fail('status', `the status cannot be read now: ${(e as Error).message}`)
    }
  }

  /** The acceptance checks alone, recording nothing (a caller that records elsewhere, e.g. a credentialing file). */
  async evaluate(institution: InstitutionRow, credentialJwt: string, receiptJwt: string): Promise<AcceptanceOutcome & { reliance?: RelianceRow }> {
    const { checks, receipt, credential, digest } = await this.check(institution, credentialJwt, receiptJwt)
    const result = verdict(checks)
    if (!result.verified || !receipt || !credential || !digest) return { ...result }
    const acceptanceId = randomUUID()
    return {
      ...result,
      acceptanceId,
      reliedOn: { receipt: receipt.id, verifier: receipt.verifier, verifiedAt: receipt.verifiedAt, purpose: receipt.purpose },
      reliance: {
        id: acceptanceId,
        institutionId: institution.id,
        credentialId: String(credential.id),
        credentialDigest: digest,
        issuerDid: receipt.accepted.issuer,
        via: 'receipt',
        receiptId: receipt.id?.split('/').at(-1) ?? null,
        createdAt: new Date().toISOString(),
      },
    }
  }

  private async receiptSignature(receiptJwt: string): Promise<Check[]> {
    const { resolver } = this.deps.verifyContext
    const key = credentialDigest(receiptJwt) + receiptJwt.slice(receiptJwt.lastIndexOf('.'))
    const known = this.verifiedReceipts.get(key)
    if (known) {
      const current = await resolver.resolveDid(known.signer)
      if (current.ok && current.result === known.document) {
        return [pass('receiptSignerDid', `resolved ${known.signer} (unchanged on chain)`), pass('receiptProof', 'signature verified earlier against the same DID document')]
      }
    }
    const proof = await verifyJwtProof(receiptJwt, { resolver, proofPurpose: 'assertionMethod', names: { proof: 'receiptProof', did: 'receiptSignerDid' } })
    if (proof.checks.every((c) => c.ok) && proof.resolution && typeof proof.payload?.iss === 'string') {
      if (this.verifiedReceipts.size > 10_000) this.verifiedReceipts.clear()
      this.verifiedReceipts.set(key, { signer: proof.payload.iss, document: proof.resolution })
    }
    return proof.checks
  }

  private async check(institution: InstitutionRow, credentialJwt: string, receiptJwt: string) {
    const ctx = this.deps.verifyContext
    const checks: Check[] = [...(await this.receiptSignature(receiptJwt))]
    const receipt: ParsedReceipt | undefined = parseReceipt(receiptJwt)
    if (!receipt) {
      checks.push(fail('receiptFormat', 'not an AcceptanceReceiptCredential'))
      return { checks }
    }
    if (!checks.every((c) => c.ok)) return { checks, receipt }
    checks.push(pass('receiptFormat'))

    const trustedVerifier = await this.deps.trust.isTrustedVerifier(receipt.verifier)
    checks.push(trustedVerifier ? pass('receiptVerifier', `${receipt.verifier} is a trusted verifier`) : fail('receiptVerifier', `${receipt.verifier} is not a verifier whose receipts count`))

    let credential: Record<string, any>
    let digest: string
    let signedAs: unknown
    let header: JWTHeader
    let payload: JWTPayload
    let format: CredentialFormat
    try {
      ;({ header, payload } = decodeJwt(credentialJwt))
      format = credentialFormatOf(header, payload)
      const signer = format.signer(header, payload)
      signedAs = 'did' in signer ? signer.did : undefined
      credential = format.credential(credentialJwt, payload)
      digest = credentialDigest(credentialJwt)
    } catch {
      checks.push(fail('format', 'the credential is not a VC-JWT or a vc+jwt'))
      return { checks, receipt }
    }
    const issuer = typeof credential.issuer === 'string' ? credential.issuer : credential.issuer?.id
    const subject = asArray(credential.credentialSubject as { id?: unknown } | { id?: unknown }[])[0]?.id
    const sameCredential =
      receipt.accepted.digest === digest &&
      receipt.accepted.id === String(credential.id) &&
      typeof signedAs === 'string' &&
      issuer === signedAs &&
      receipt.accepted.issuer === signedAs &&
      (receipt.holder === undefined || receipt.holder === subject)
    checks.push(
      sameCredential
        ? pass('receiptSubject', 'the receipt names this credential (same signed payload, issuer and holder)')
        : fail('receiptSubject', receipt.accepted.digest !== digest ? 'the receipt is for a different credential (digest mismatch)' : 'the receipt does not name this credential, its issuer or its holder'),
    )

    const windowDays = institution.receiptWindowDays ?? DEFAULT_RECEIPT_WINDOW_DAYS
    const ageDays = (Date.now() - Date.parse(receipt.verifiedAt)) / 86_400_000
    checks.push(
      Number.isFinite(ageDays) && ageDays <= windowDays && ageDays >= -ctx.skewSeconds / 86_400
        ? pass('receiptAge', `verified ${ageDays.toFixed(1)} days ago (window ${windowDays} days)`)
        : fail('receiptAge', `the receipt is ${Number.isFinite(ageDays) ? `${ageDays.toFixed(1)} days old` : 'undated'}; this institution relies on receipts up to ${windowDays} days old`),
    )
    if (!sameCredential) return { checks, receipt }

    // The credential's own signature, always: a receipt saves the primary-source work, not the signature
    // check, and without it a receipt could vouch for a JWT nobody signed.
    const proof = await verifyJwtProof(credentialJwt, {
      resolver: ctx.resolver,
      proofPurpose: 'assertionMethod',
      names: { proof: 'proof', did: 'issuerDid' },
      fallback: ctx.supersededKeys,
      signerOf: (header, payload) => credentialFormatOf(header, payload).signer(header, payload),
    })
    checks.push(...proof.checks)
    // The live checks that cannot be delegated to the earlier verifier.
    checks.push(checkDates(payload, format.dateSources(payload, credential), { now: Math.floor(Date.now() / 1000), skewSeconds: ctx.skewSeconds }))
    if (ctx.trustedIssuer) checks.push(await ctx.trustedIssuer(credential, issuer))
    if (ctx.status) checks.push(await checkStatus(credential, issuer, ctx.status))
    return { checks, receipt, credential, digest }
  }
}
