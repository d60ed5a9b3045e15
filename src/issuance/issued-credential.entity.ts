import { EntitySchema } from 'typeorm'

/** A credential medcred signed for an issuer institution. */
export interface IssuedCredentialRow {
  /** The credential's `id` (`urn:uuid:…` unless the issuer chose one): unique per issuer, not globally. */
  id: string
  issuerInstitutionId: string
  issuerDid: string
  subjectDid: string | null
  /** The most specific type, e.g. `ClinicianLicenseCredential`. */
  type: string
  jwt: string
  /** SHA-256 (hex) of the JWT's signed payload: stable across the several valid signature encodings. */
  digest: string
  /** When medcred signed and recorded it (server time; the credential's own issuanceDate may differ). */
  issuedAt: string
  expiresAt: string | null
}

export const IssuedCredentialEntity = new EntitySchema<IssuedCredentialRow>({
  name: 'IssuedCredential',
  tableName: 'medcred_issued_credential',
  columns: {
    issuerInstitutionId: { type: 'varchar', length: 36, primary: true },
    id: { type: 'varchar', length: 300, primary: true },
    issuerDid: { type: 'varchar', length: 200 },
    subjectDid: { type: 'varchar', length: 300, nullable: true },
    type: { type: 'varchar', length: 100 },
    jwt: { type: 'text' },
    digest: { type: 'varchar', length: 64 },
    issuedAt: { type: 'varchar', length: 30 },
    expiresAt: { type: 'varchar', length: 30, nullable: true },
  },
  indices: [
    { name: 'IDX_issued_credential_issuer', columns: ['issuerInstitutionId'] },
    { name: 'IDX_issued_credential_subject', columns: ['subjectDid'] },
    { name: 'IDX_issued_credential_issuer_did_id', columns: ['issuerDid', 'id'] },
  ],
})
