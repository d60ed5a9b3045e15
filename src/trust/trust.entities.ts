import { EntitySchema } from 'typeorm'

/** Governance says: this DID may issue these credential types for these jurisdictions, in this window. */
export interface TrustedIssuerRow {
  did: string
  credentialTypes: string[]
  /** ISO 3166-2 codes; empty = any jurisdiction (e.g. patient identity has none). */
  jurisdictions: string[]
  validFrom: string | null
  validUntil: string | null
  createdAt: string
}

/** Governance says: this institution's acceptance receipts may be relied on by others. */
export interface TrustedVerifierRow {
  did: string
  createdAt: string
}

export const TrustedIssuerEntity = new EntitySchema<TrustedIssuerRow>({
  name: 'TrustedIssuer',
  tableName: 'medcred_trusted_issuer',
  columns: {
    did: { type: 'varchar', length: 200, primary: true },
    credentialTypes: { type: 'simple-json' },
    jurisdictions: { type: 'simple-json' },
    validFrom: { type: 'varchar', length: 30, nullable: true },
    validUntil: { type: 'varchar', length: 30, nullable: true },
    createdAt: { type: 'varchar', length: 30 },
  },
})

export const TrustedVerifierEntity = new EntitySchema<TrustedVerifierRow>({
  name: 'TrustedVerifier',
  tableName: 'medcred_trusted_verifier',
  columns: {
    did: { type: 'varchar', length: 200, primary: true },
    createdAt: { type: 'varchar', length: 30 },
  },
})
