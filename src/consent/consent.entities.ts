import { EntitySchema } from 'typeorm'

export const PATIENT_PURPOSES = ['treatment', 'payment', 'operations', 'research'] as const
export type PatientPurpose = (typeof PATIENT_PURPOSES)[number]

/**
 * A patient's consent as granted: the terms of the PatientConsentCredential the patient signed, and the
 * signed JWT itself. Identifiers only (DIDs, types, purposes): no patient data.
 */
export interface ConsentRow {
  id: string
  patientDid: string
  granteeDid: string
  purposes: PatientPurpose[]
  credentialTypes: string[]
  /** SHA-256 (hex) of the consent JWT's signed payload: one stored consent per signed consent. */
  digest: string
  jwt: string
  issuedAt: string
  expiresAt: string
  createdAt: string
  /** Set once, by a revocation the patient signed; final. */
  revokedAt: string | null
}

/**
 * A short JWT a patient signed (a revocation, a bearer token) that was used: its issuer and nonce
 * (`jti`/`nonce`), so it serves once. Rows may be dropped once `expiresAt` has passed.
 */
export interface PatientTokenUseRow {
  did: string
  nonce: string
  purpose: string
  usedAt: string
  expiresAt: string
}

export const ConsentEntity = new EntitySchema<ConsentRow>({
  name: 'PatientConsent',
  tableName: 'medcred_consent',
  columns: {
    id: { type: 'varchar', length: 36, primary: true },
    patientDid: { type: 'varchar', length: 300 },
    granteeDid: { type: 'varchar', length: 300 },
    purposes: { type: 'simple-json' },
    credentialTypes: { type: 'simple-json' },
    digest: { type: 'varchar', length: 64, unique: true },
    jwt: { type: 'text' },
    issuedAt: { type: 'varchar', length: 30 },
    expiresAt: { type: 'varchar', length: 30 },
    createdAt: { type: 'varchar', length: 30 },
    revokedAt: { type: 'varchar', length: 30, nullable: true },
  },
  indices: [
    { name: 'IDX_consent_patient', columns: ['patientDid'] },
    { name: 'IDX_consent_grantee', columns: ['granteeDid'] },
  ],
})

export const PatientTokenUseEntity = new EntitySchema<PatientTokenUseRow>({
  name: 'PatientTokenUse',
  tableName: 'medcred_patient_token_use',
  columns: {
    did: { type: 'varchar', length: 300, primary: true },
    nonce: { type: 'varchar', length: 200, primary: true },
    purpose: { type: 'varchar', length: 32 },
    usedAt: { type: 'varchar', length: 30 },
    expiresAt: { type: 'varchar', length: 30 },
  },
})
