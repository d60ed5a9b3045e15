import type { ReceiptRow, RelianceRow, VerificationRow } from '../acceptance/acceptance.entities.js'
import { DEFAULT_RECEIPT_WINDOW_DAYS } from '../institutions/service.js'
import type { InstitutionRow } from '../institutions/institution.entity.js'
import { subjectOf } from '../issuance/service.js'
import type { Party, VerificationFacts } from '../fhir/verification-result.js'
import type { AppDeps } from './app.js'

/** Reads what a VerificationResult says from the capabilities (the mapping itself is src/fhir, pure). */
export class FhirFacts {
  constructor(private readonly deps: AppDeps) {}

  private async party(did: string): Promise<Party> {
    const known = await this.deps.institutions.byDid(did)
    return { did, ...(known ? { name: known.name } : {}) }
  }

  private async credentialFacts(issuerDid: string, credentialId: string) {
    const issued = await this.deps.issuance.find(issuerDid, credentialId)
    const subject = issued ? subjectOf(issued.jwt) : {}
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined)
    return {
      subject: { npi: str(subject.npi), name: str(subject.name), licenseNumber: str(subject.licenseNumber), licenseType: str(subject.licenseType), jurisdiction: str(subject.jurisdiction) },
      credential: { id: credentialId, type: issued?.type ?? 'VerifiableCredential', ...(issued?.expiresAt ? { expirationDate: issued.expiresAt } : {}) },
      board: await this.party(issuerDid),
    }
  }

  private receiptFacts(r: ReceiptRow) {
    return { jwt: r.jwt, createdAt: r.createdAt, url: `${this.deps.web.publicUrl}/receipts/${r.id}` }
  }

  /** A verification this hospital ran in full. */
  async ofVerification(hospital: InstitutionRow, v: VerificationRow): Promise<VerificationFacts> {
    const [receipt] = await this.deps.verifications.receiptsOf(hospital, v.id)
    const base = {
      id: v.id,
      verified: v.verified,
      purpose: v.purpose,
      performedAt: v.createdAt,
      holderDid: v.holderDid,
      validator: { did: hospital.did, name: hospital.name },
      windowDays: hospital.receiptWindowDays ?? DEFAULT_RECEIPT_WINDOW_DAYS,
      checks: v.checks,
    }
    if (!receipt) return base
    return { ...base, ...(await this.credentialFacts(receipt.issuerDid, receipt.credentialId)), receipt: this.receiptFacts(receipt) }
  }

  /** An acceptance on another hospital's receipt. */
  async ofAcceptance(hospital: InstitutionRow, r: RelianceRow): Promise<VerificationFacts> {
    const receipt = await this.deps.acceptances.receiptOf(r)
    const verifier = receipt ? await this.deps.institutions.get(receipt.verifierInstitutionId).catch(() => undefined) : undefined
    return {
      id: r.id,
      verified: true,
      purpose: 'other',
      performedAt: r.createdAt,
      holderDid: receipt?.subjectDid ?? null,
      ...(await this.credentialFacts(r.issuerDid, r.credentialId)),
      validator: verifier ? { did: verifier.did, name: verifier.name } : { did: 'unknown' },
      ...(receipt ? { receipt: this.receiptFacts(receipt) } : {}),
      reliance: { by: { did: hospital.did, name: hospital.name }, at: r.createdAt },
      windowDays: hospital.receiptWindowDays ?? DEFAULT_RECEIPT_WINDOW_DAYS,
      checks: [],
    }
  }

  /** By id: a verification of this hospital, else an acceptance of its on a receipt. */
  async byId(hospital: InstitutionRow, id: string): Promise<VerificationFacts | undefined> {
    const v = await this.deps.verifications.get(hospital, id)
    if (v) return this.ofVerification(hospital, v)
    const r = await this.deps.acceptances.reliance(hospital, id)
    return r && r.via === 'receipt' ? this.ofAcceptance(hospital, r) : undefined
  }

  /** Everything this hospital relied on for the clinician with this NPI (newest 500 reliances scanned). */
  async byNpi(hospital: InstitutionRow, npi: string): Promise<VerificationFacts[]> {
    const found: VerificationFacts[] = []
    for (const r of await this.deps.acceptances.reliances(hospital, 500)) {
      const issued = await this.deps.issuance.find(r.issuerDid, r.credentialId)
      if (!issued || subjectOf(issued.jwt).npi !== npi) continue
      if (r.via === 'receipt') found.push(await this.ofAcceptance(hospital, r))
      else {
        const receipt = r.receiptId ? await this.deps.acceptances.receiptOf(r) : undefined
        const v = receipt ? await this.deps.verifications.get(hospital, receipt.verificationId) : undefined
        if (v) found.push(await this.ofVerification(hospital, v))
      }
    }
    return found
  }
}
