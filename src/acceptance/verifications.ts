import { randomUUID } from 'node:crypto'
import type { EntityManager } from 'typeorm'
import type { VerifiableCredential } from '@veramo/core'
import type { MedcredAgent } from '../agent/agent.js'
import type { Database } from '../db/database.js'
import { asArray } from '../credentials/w3c.js'
import type { InstitutionRow } from '../institutions/institution.entity.js'
import { signAsInstitution } from '../issuance/sign.js'
import { fail, type Check } from '../verification/checks.js'
import type { CredentialVerdict, VerifyContext } from '../verification/verify-credential.js'
import type { PresentationVerdict, SignedPresentationInput } from '../verification/verify-presentation.js'
import { verifyAnyPresentation, type AnyPresentationVerdict } from '../verification/presentation-formats.js'
import type { ConsentActor, ConsentDecision, ConsentService } from '../consent/service.js'
import { enforceConsent } from '../consent/enforce.js'
import { ReceiptEntity, RelianceEntity, VerificationEntity, type ReceiptRow, type VerificationPurpose, type VerificationRow } from './acceptance.entities.js'
import type { ChallengeService } from './challenges.js'
import { receiptCredential } from './receipts.js'

export interface VerificationRequest {
  verifiablePresentation: SignedPresentationInput
  challenge: string
  domain: string
  purpose: VerificationPurpose
  /** Settles an embedded credential without full verification (accept-once), when it can. */
  settle?: (jwt: string) => Promise<CredentialVerdict | undefined>
}

export interface VerificationOutcome {
  verification: VerificationRow
  verdict: AnyPresentationVerdict
  receipts: VerifiableCredential[]
}

/**
 * A hospital's full verification of a clinician's presentation: a service-issued challenge used once,
 * every check on the presentation and each credential in it (trusted issuer and status included), the
 * outcome recorded whether it passed or not; when it passed, one signed acceptance receipt per credential
 * and a record that this hospital relied on it.
 */
export class VerificationService {
  constructor(
    private readonly deps: {
      db: Database
      agent: MedcredAgent
      challenges: ChallengeService
      verifyContext: VerifyContext
      publicUrl: string
      /** Appends to the audit trail inside the verification's transaction. */
      audit?: (m: EntityManager, verification: VerificationRow) => Promise<unknown>
      /** Patients' consents: a patient credential verified for an institution needs one (the `consent` check). */
      consent?: ConsentService
    },
  ) {}

  async verify(verifier: InstitutionRow, request: VerificationRequest): Promise<VerificationOutcome> {
    const challengeProblem = await this.deps.challenges.consume(verifier, request.challenge, request.domain)
    const verdict: AnyPresentationVerdict = challengeProblem
      ? { verified: false, checks: [fail('challenge', challengeProblem)], credentials: [] }
      : await verifyAnyPresentation(request.verifiablePresentation, request, this.deps.verifyContext, request.settle)
    const { verdict: checked, decisions } = await this.withConsent(verifier, request.purpose, verdict)
    return this.record(verifier, request.purpose, checked, [], decisions)
  }

  /**
   * The verdict with a `consent` check for each patient credential in it, for this verifier and purpose;
   * pass the decisions to `record`, which audits them. Every way a hospital verifies (this service, OID4VP,
   * credentialing files) goes through here.
   */
  withConsent(verifier: InstitutionRow, purpose: string, verdict: AnyPresentationVerdict): Promise<{ verdict: AnyPresentationVerdict; decisions: ConsentDecision[] }> {
    const by: ConsentActor = { actor: { type: 'institution', id: verifier.id, did: verifier.did } }
    return enforceConsent(this.deps.consent, verdict, { grantee: verifier, purpose, by })
  }

  /** Persists the verification and, if it passed, signs and stores the receipts, in one transaction. */
  async record(
    verifier: InstitutionRow,
    purpose: VerificationPurpose,
    verdict: AnyPresentationVerdict,
    extraChecks: Check[] = [],
    consentDecisions: ConsentDecision[] = [],
  ): Promise<VerificationOutcome> {
    const now = new Date().toISOString()
    const verification: VerificationRow = {
      id: randomUUID(),
      institutionId: verifier.id,
      holderDid: verdict.holder ?? null,
      purpose,
      verified: verdict.verified,
      checks: [...verdict.checks, ...extraChecks],
      credentialIds: verdict.credentials.map((c) => String(c.credential?.id ?? '')).filter(Boolean),
      createdAt: now,
    }
    return this.deps.db.transaction(async (m) => {
      await m.getRepository(VerificationEntity).insert(verification)
      const receipts: VerifiableCredential[] = []
      if (verdict.verified) {
        for (const credential of verdict.credentials) {
          // One settled on another's receipt is relied on, not re-attested: a new receipt would restart its
          // primary-source clock without anyone having verified it again.
          if (credential.reliedOn) await this.relyOnReceipt(m, verifier, verification, credential)
          else receipts.push(await this.receipt(m, verifier, verification, credential, verdict))
        }
      }
      for (const d of consentDecisions) await this.deps.consent?.auditCheck(m, { actor: { type: 'institution', id: verifier.id, did: verifier.did } }, d, verification.id)
      await this.deps.audit?.(m, verification)
      return { verification, verdict, receipts }
    })
  }

  private async receipt(
    m: EntityManager,
    verifier: InstitutionRow,
    verification: VerificationRow,
    credential: PresentationVerdict['credentials'][number],
    verdict: PresentationVerdict,
  ): Promise<VerifiableCredential> {
    const vc = credential.credential!
    const id = randomUUID()
    const issuer = typeof vc.issuer === 'string' ? vc.issuer : (vc.issuer as { id: string }).id
    const type = asArray(vc.type as string | string[]).filter((t) => t !== 'VerifiableCredential').at(-1) ?? 'VerifiableCredential'
    const checksPassed = [
      ...verdict.checks.filter((c) => c.ok && !c.check.startsWith('credentials[')).map((c) => c.check),
      ...credential.checks.filter((c) => c.ok).map((c) => c.check),
    ]
    const signed = await signAsInstitution(
      this.deps.agent,
      verifier,
      receiptCredential({
        url: `${this.deps.publicUrl}/receipts/${id}`,
        verifier,
        holder: verdict.holder!,
        accepted: {
          id: String(vc.id),
          type,
          issuer,
          digest: credential.digest!,
          // VC 1.1 names the end expirationDate, VC 2.0 validUntil: the receipt says when either way.
          ...(typeof (vc.expirationDate ?? vc.validUntil) === 'string' ? { expirationDate: (vc.expirationDate ?? vc.validUntil) as string } : {}),
        },
        verificationId: verification.id,
        purpose: verification.purpose,
        checksPassed: [...new Set(checksPassed)],
        verifiedAt: verification.createdAt,
      }),
    )
    await m.getRepository(ReceiptEntity).insert({
      id,
      verificationId: verification.id,
      verifierInstitutionId: verifier.id,
      credentialId: String(vc.id),
      credentialDigest: credential.digest!,
      issuerDid: issuer,
      subjectDid: verdict.holder ?? null,
      jwt: signed.proof.jwt as string,
      createdAt: verification.createdAt,
    })
    await m.getRepository(RelianceEntity).insert({
      id: randomUUID(),
      institutionId: verifier.id,
      credentialId: String(vc.id),
      credentialDigest: credential.digest!,
      issuerDid: issuer,
      via: 'verification',
      receiptId: id,
      createdAt: verification.createdAt,
    })
    return signed
  }

  private async relyOnReceipt(m: EntityManager, verifier: InstitutionRow, verification: VerificationRow, credential: CredentialVerdict): Promise<void> {
    const vc = credential.credential!
    await m.getRepository(RelianceEntity).insert({
      id: randomUUID(),
      institutionId: verifier.id,
      credentialId: String(vc.id),
      credentialDigest: credential.digest!,
      issuerDid: typeof vc.issuer === 'string' ? vc.issuer : (vc.issuer as { id: string }).id,
      via: 'receipt',
      receiptId: credential.reliedOn!.receipt?.split('/').at(-1) ?? null,
      createdAt: verification.createdAt,
    })
  }

  async get(verifier: InstitutionRow, id: string): Promise<VerificationRow | undefined> {
    return (await this.deps.db.manager.getRepository(VerificationEntity).findOneBy({ id, institutionId: verifier.id })) ?? undefined
  }

  /** The receipts a verification of `verifier` produced (one per credential, when it passed). */
  async receiptsOf(verifier: InstitutionRow, verificationId: string): Promise<ReceiptRow[]> {
    return this.deps.db.manager.getRepository(ReceiptEntity).find({ where: { verificationId, verifierInstitutionId: verifier.id }, order: { createdAt: 'ASC' } })
  }

  /** The newest verifications `verifier` ran. */
  async recent(verifier: InstitutionRow, limit = 50): Promise<VerificationRow[]> {
    return this.deps.db.manager.getRepository(VerificationEntity).find({ where: { institutionId: verifier.id }, order: { createdAt: 'DESC' }, take: limit })
  }

  async receiptJwt(id: string): Promise<string | undefined> {
    return (await this.deps.db.manager.getRepository(ReceiptEntity).findOneBy({ id }))?.jwt
  }
}

