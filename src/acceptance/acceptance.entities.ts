import { EntitySchema } from 'typeorm'

/** Credentialing purposes (clinicians), then the patient purposes a consent can grant (treatment, payment, operations, research). */
export const VERIFICATION_PURPOSES = ['onboarding', 'recredentialing', 'privileging', 'ongoing-monitoring', 'other', 'treatment', 'payment', 'operations', 'research'] as const
export type VerificationPurpose = (typeof VERIFICATION_PURPOSES)[number]

/** A challenge a hospital asked for; a presentation may answer it once, before it expires. */
export interface ChallengeRow {
  challenge: string
  institutionId: string
  domain: string
  expiresAt: string
  usedAt: string | null
}

/** One full verification a hospital ran, with every check's outcome, passed or not. */
export interface VerificationRow {
  id: string
  institutionId: string
  holderDid: string | null
  purpose: VerificationPurpose
  verified: boolean
  checks: { check: string; ok: boolean; detail?: string }[]
  credentialIds: string[]
  createdAt: string
}

/** The signed acceptance receipt a verification produced for one credential. */
export interface ReceiptRow {
  id: string
  verificationId: string
  verifierInstitutionId: string
  credentialId: string
  credentialDigest: string
  issuerDid: string
  subjectDid: string | null
  jwt: string
  createdAt: string
}

/**
 * An institution relied on a credential: verified it in full, or accepted it on another's receipt.
 * Who relied on what is how relying parties learn of a revocation.
 */
export interface RelianceRow {
  id: string
  institutionId: string
  credentialId: string
  credentialDigest: string
  issuerDid: string
  via: 'verification' | 'receipt'
  receiptId: string | null
  createdAt: string
}

/** A credentialing committee's checklist for one clinician, as filed. */
export interface CredentialingFileRow {
  id: string
  institutionId: string
  holderDid: string | null
  report: Record<string, unknown>
  createdAt: string
}

export const ChallengeEntity = new EntitySchema<ChallengeRow>({
  name: 'VerificationChallenge',
  tableName: 'medcred_challenge',
  columns: {
    challenge: { type: 'varchar', length: 64, primary: true },
    institutionId: { type: 'varchar', length: 36 },
    domain: { type: 'varchar', length: 200 },
    expiresAt: { type: 'varchar', length: 30 },
    usedAt: { type: 'varchar', length: 30, nullable: true },
  },
})

export const VerificationEntity = new EntitySchema<VerificationRow>({
  name: 'Verification',
  tableName: 'medcred_verification',
  columns: {
    id: { type: 'varchar', length: 36, primary: true },
    institutionId: { type: 'varchar', length: 36 },
    holderDid: { type: 'varchar', length: 300, nullable: true },
    purpose: { type: 'varchar', length: 32 },
    verified: { type: 'boolean' },
    checks: { type: 'simple-json' },
    credentialIds: { type: 'simple-json' },
    createdAt: { type: 'varchar', length: 30 },
  },
})

export const ReceiptEntity = new EntitySchema<ReceiptRow>({
  name: 'AcceptanceReceipt',
  tableName: 'medcred_receipt',
  columns: {
    id: { type: 'varchar', length: 36, primary: true },
    verificationId: { type: 'varchar', length: 36 },
    verifierInstitutionId: { type: 'varchar', length: 36 },
    credentialId: { type: 'varchar', length: 300 },
    credentialDigest: { type: 'varchar', length: 64 },
    issuerDid: { type: 'varchar', length: 200 },
    subjectDid: { type: 'varchar', length: 300, nullable: true },
    jwt: { type: 'text' },
    createdAt: { type: 'varchar', length: 30 },
  },
})

export const RelianceEntity = new EntitySchema<RelianceRow>({
  name: 'Reliance',
  tableName: 'medcred_reliance',
  columns: {
    id: { type: 'varchar', length: 36, primary: true },
    institutionId: { type: 'varchar', length: 36 },
    credentialId: { type: 'varchar', length: 300 },
    credentialDigest: { type: 'varchar', length: 64 },
    issuerDid: { type: 'varchar', length: 200 },
    via: { type: 'varchar', length: 16 },
    receiptId: { type: 'varchar', length: 36, nullable: true },
    createdAt: { type: 'varchar', length: 30 },
  },
})

export const CredentialingFileEntity = new EntitySchema<CredentialingFileRow>({
  name: 'CredentialingFile',
  tableName: 'medcred_credentialing_file',
  columns: {
    id: { type: 'varchar', length: 36, primary: true },
    institutionId: { type: 'varchar', length: 36 },
    holderDid: { type: 'varchar', length: 300, nullable: true },
    report: { type: 'simple-json' },
    createdAt: { type: 'varchar', length: 30 },
  },
})
