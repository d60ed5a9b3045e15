import { randomUUID } from 'node:crypto'
import type { EntityManager } from 'typeorm'
import { decodeJWT } from 'did-jwt'
import { normalizeCredential } from 'did-jwt-vc'
import type { Database } from '../db/database.js'
import { credentialDigest } from '../credentials/digest.js'
import { DEFAULT_RECEIPT_WINDOW_DAYS } from '../institutions/service.js'
import type { InstitutionRow } from '../institutions/institution.entity.js'
import { checkStatus } from '../status/status-check.js'
import type { TrustRegistry } from '../trust/service.js'
import { fail, pass, verdict, type Check, type Verdict } from '../verification/checks.js'
import { checkDates } from '../verification/dates.js'
import { verifyJwtProof } from '../verification/jwt-proof.js'
import type { VerifyContext } from '../verification/verify-credential.js'
import { RelianceEntity } from './acceptance.entities.js'
import { parseReceipt, type ParsedReceipt } from './receipts.js'

export interface AcceptanceOutcome extends Verdict {
  acceptanceId?: string
  reliedOn?: { receipt?: string; verifier: string; verifiedAt: string; purpose?: string }
}

const jwtOf = (input: string | { proof: { jwt: string } }) => (typeof input === 'string' ? input : input.proof.jwt)

/**
 * Accept once: relies on another institution's acceptance receipt instead of re-verifying a credential.
 * Checked: the receipt's signature and signer (a verifier the consortium trusts), that it names this very
 * credential (by the digest of its signed payload), that it is younger than this institution's window;
 * then only the live checks nobody can do in advance: status, expiry, the issuer still trusted.
 * The credential's own signature and its issuer's DID are not checked again.
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

  async accept(
    institution: InstitutionRow,
    input: { credential: string | { proof: { jwt: string } }; receipt: string | { proof: { jwt: string } } },
  ): Promise<AcceptanceOutcome> {
    const { checks, receipt, credential, digest } = await this.check(institution, jwtOf(input.credential), jwtOf(input.receipt))
    const result = verdict(checks)
    const outcome: AcceptanceOutcome = { ...result }
    if (result.verified && receipt && credential && digest) {
      outcome.acceptanceId = randomUUID()
      outcome.reliedOn = { receipt: receipt.id, verifier: receipt.verifier, verifiedAt: receipt.verifiedAt, purpose: receipt.purpose }
    }
    await this.deps.db.transaction(async (m) => {
      if (outcome.acceptanceId && credential && digest && receipt) {
        await m.getRepository(RelianceEntity).insert({
          id: outcome.acceptanceId,
          institutionId: institution.id,
          credentialId: String(credential.id),
          credentialDigest: digest,
          issuerDid: receipt.accepted.issuer,
          via: 'receipt',
          receiptId: receipt.id?.split('/').at(-1) ?? null,
          createdAt: new Date().toISOString(),
        })
      }
      await this.deps.audit?.(m, outcome, institution)
    })
    return outcome
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
    const receipt: ParsedReceipt | undefined = checks.every((c) => c.ok) || checks.length > 1 ? parseReceipt(receiptJwt) : undefined
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
    try {
      decodeJWT(credentialJwt)
      credential = normalizeCredential(credentialJwt) as unknown as Record<string, any>
      digest = credentialDigest(credentialJwt)
    } catch {
      checks.push(fail('format', 'the credential is not a VC-JWT'))
      return { checks, receipt }
    }
    const sameCredential = receipt.accepted.digest === digest && receipt.accepted.id === String(credential.id)
    checks.push(sameCredential ? pass('receiptSubject', 'the receipt names this credential (same signed payload)') : fail('receiptSubject', 'the receipt is for a different credential (digest mismatch)'))

    const windowDays = institution.receiptWindowDays ?? DEFAULT_RECEIPT_WINDOW_DAYS
    const ageDays = (Date.now() - Date.parse(receipt.verifiedAt)) / 86_400_000
    checks.push(
      Number.isFinite(ageDays) && ageDays <= windowDays && ageDays >= -ctx.skewSeconds / 86_400
        ? pass('receiptAge', `verified ${ageDays.toFixed(1)} days ago (window ${windowDays} days)`)
        : fail('receiptAge', `the receipt is ${Number.isFinite(ageDays) ? `${ageDays.toFixed(1)} days old` : 'undated'}; this institution relies on receipts up to ${windowDays} days old`),
    )
    if (!sameCredential) return { checks, receipt }

    // The live checks that cannot be delegated to the earlier verifier.
    const issuer = typeof credential.issuer === 'string' ? credential.issuer : credential.issuer?.id
    const payload = decodeJWT(credentialJwt).payload
    checks.push(checkDates(payload, credential, { now: Math.floor(Date.now() / 1000), skewSeconds: ctx.skewSeconds }))
    if (ctx.trustedIssuer) checks.push(await ctx.trustedIssuer(credential, issuer))
    if (ctx.status) checks.push(await checkStatus(credential, issuer, ctx.status))
    return { checks, receipt, credential, digest }
  }
}
