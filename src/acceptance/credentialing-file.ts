import { randomUUID } from 'node:crypto'
import type { Database } from '../db/database.js'
import { credentialOfJwt } from '../credentials/formats.js'
import { credentialDigest } from '../credentials/digest.js'
import { asArray, jwtOf, type SignedInput } from '../credentials/w3c.js'
import { integrityChecks } from '../verification/integrity.js'
import type { InstitutionRow } from '../institutions/institution.entity.js'
import { DEFAULT_RECEIPT_WINDOW_DAYS } from '../institutions/service.js'
import type { CredentialVerdict } from '../verification/verify-credential.js'
import { CredentialingFileEntity, type VerificationPurpose } from './acceptance.entities.js'
import type { AcceptanceService } from './acceptances.js'
import type { VerificationService } from './verifications.js'

/** The primary-source elements medcred can verify from credentials, by the credential type that carries each. */
export const CREDENTIAL_ELEMENTS: Record<string, string> = {
  'state-license': 'ClinicianLicenseCredential',
  'dea-registration': 'DEARegistrationCredential',
  'board-certification': 'BoardCertificationCredential',
}

/** Elements of a credentialing file that no credential here carries yet: listed so the committee sees the gap. */
const OUTSIDE_MEDCRED = ['education-and-training', 'work-history', 'malpractice-history', 'npdb-query', 'oig-sam-exclusion-check']

type ElementStatus = 'verified' | 'relied-on-receipt' | 'failed' | 'missing'

export interface FileElement {
  element: string
  credentialType: string
  status: ElementStatus
  credentialId?: string
  issuer?: string
  issuanceDate?: string
  expirationDate?: string
  verifiedAt?: string
  reliedOn?: { verifier: string; verifiedAt: string; receipt?: string }
  failures?: { check: string; detail: string }[]
}

/**
 * A credentialing file for one clinician: one presentation carrying several credentials, checked element by
 * element in the spirit of accreditation primary-source rules. An element with a valid receipt from a trusted
 * verifier is relied on (live checks only); the rest are verified in full. The report is evidence for the
 * committee, never its decision: each institution makes its own privileging decision.
 */
export class CredentialingFileService {
  constructor(
    private readonly deps: { db: Database; verifications: VerificationService; acceptances: AcceptanceService },
  ) {}

  async create(
    institution: InstitutionRow,
    request: {
      verifiablePresentation: SignedInput
      challenge: string
      domain: string
      purpose: VerificationPurpose
      receipts?: SignedInput[]
      elements?: string[]
    },
  ) {
    // A credential that arrives with a valid receipt from a trusted verifier is settled on it (live checks only).
    const settle = async (jwt: string): Promise<CredentialVerdict | undefined> => {
      for (const receipt of request.receipts ?? []) {
        if (!integrityChecks(receipt, 'credential').every((c) => c.ok)) continue
        const accepted = await this.deps.acceptances.evaluate(institution, jwt, jwtOf(receipt))
        if (accepted.verified && accepted.reliedOn) {
          return { verified: true, checks: accepted.checks, credential: credentialOfJwt(jwt) as never, jwt, digest: credentialDigest(jwt), reliedOn: accepted.reliedOn }
        }
      }
      return undefined
    }
    const outcome = await this.deps.verifications.verify(institution, { ...request, settle })
    const { verdict, verification } = outcome
    const presentationOk = verdict.checks.filter((c) => !c.check.startsWith('credentials[')).every((c) => c.ok)
    const wanted = request.elements ?? Object.keys(CREDENTIAL_ELEMENTS)
    const elements: FileElement[] = []
    for (const element of wanted) {
      const type = CREDENTIAL_ELEMENTS[element]
      const candidates = verdict.credentials.filter((c) => asArray(c.credential?.type as string | string[]).includes(type))
      if (candidates.length === 0) {
        elements.push({ element, credentialType: type, status: 'missing' })
        continue
      }
      elements.push(this.judge(element, type, candidates[0], presentationOk, verification.createdAt))
    }
    const report = {
      id: randomUUID(),
      institution: { id: institution.id, name: institution.name, did: institution.did },
      clinician: verdict.holder ?? null,
      purpose: request.purpose,
      verificationId: verification.id,
      createdAt: new Date().toISOString(),
      complete: elements.every((e) => e.status === 'verified' || e.status === 'relied-on-receipt'),
      presentation: { verified: presentationOk, checks: verdict.checks.filter((c) => !c.check.startsWith('credentials[')) },
      elements,
      notCoveredByMedcred: OUTSIDE_MEDCRED,
      policy: { receiptWindowDays: institution.receiptWindowDays ?? DEFAULT_RECEIPT_WINDOW_DAYS },
      note: 'Shared verification evidence, not a decision: the privileging decision is this institution\'s own.',
    }
    await this.deps.db.transaction((m) =>
      m.getRepository(CredentialingFileEntity).insert({ id: report.id, institutionId: institution.id, holderDid: report.clinician, report: report as never, createdAt: report.createdAt }),
    )
    return report
  }

  private judge(
    element: string,
    type: string,
    credential: CredentialVerdict,
    presentationOk: boolean,
    verifiedAt: string,
  ): FileElement {
    const { reliedOn } = credential
    const vc = credential.credential!
    const base: FileElement = {
      element,
      credentialType: type,
      status: 'failed',
      credentialId: String(vc.id),
      issuer: typeof vc.issuer === 'string' ? vc.issuer : (vc.issuer as { id: string }).id,
      issuanceDate: vc.issuanceDate as string | undefined,
      expirationDate: (vc.expirationDate ?? vc.validUntil) as string | undefined,
    }
    if (credential.verified && presentationOk) {
      return reliedOn ? { ...base, status: 'relied-on-receipt', reliedOn, verifiedAt } : { ...base, status: 'verified', verifiedAt }
    }
    const failures = credential.checks.filter((c) => !c.ok).map((c) => ({ check: c.check, detail: c.detail ?? 'failed' }))
    return { ...base, failures: failures.length ? failures : [{ check: 'presentation', detail: 'the presentation itself did not verify' }] }
  }

  async get(institution: InstitutionRow, id: string) {
    return (await this.deps.db.manager.getRepository(CredentialingFileEntity).findOneBy({ id, institutionId: institution.id }))?.report
  }
}
