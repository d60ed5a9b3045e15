import { EntitySchema } from 'typeorm'

export type InstitutionKind = 'board' | 'hospital' | 'identity-provider'
export const INSTITUTION_KINDS: readonly InstitutionKind[] = ['board', 'hospital', 'identity-provider']

export interface InstitutionRow {
  id: string
  name: string
  kind: InstitutionKind
  jurisdiction: string | null
  did: string
  /** SHA-256 (hex) of the API key; the key itself is shown once and never stored. */
  apiKeyHash: string
  /** Transaction that anchored the DID's service endpoint in the registry. */
  anchorTx: string
  createdAt: string
  /** The KMS key the institution signs with now; null = the DID's original controller key. */
  signingKid: string | null
  /** How old another institution's acceptance receipt may be for this one to rely on it; null = the default. */
  receiptWindowDays: number | null
}

export const InstitutionEntity = new EntitySchema<InstitutionRow>({
  name: 'Institution',
  tableName: 'medcred_institution',
  columns: {
    id: { type: 'varchar', length: 36, primary: true },
    name: { type: 'varchar', length: 200 },
    kind: { type: 'varchar', length: 32 },
    jurisdiction: { type: 'varchar', length: 16, nullable: true },
    did: { type: 'varchar', length: 200, unique: true },
    apiKeyHash: { type: 'varchar', length: 64, unique: true },
    anchorTx: { type: 'varchar', length: 66 },
    createdAt: { type: 'varchar', length: 30 },
    signingKid: { type: 'varchar', length: 200, nullable: true },
    receiptWindowDays: { type: 'integer', nullable: true },
  },
})
