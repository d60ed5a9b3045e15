import { EntitySchema } from 'typeorm'

export type StatusPurpose = 'revocation' | 'suspension'

/** A list's format: StatusList2021 (VC 1.1 credentials, VC-JWT) or Bitstring Status List v1.0 (VC 2.0, vc+jwt). */
export type StatusListFormat = 'StatusList2021' | 'BitstringStatusList'

/** One status list of one issuer for one purpose: the bitstring, its signed credential, its allocation counter. */
export interface StatusListRow {
  id: string
  issuerInstitutionId: string
  purpose: StatusPurpose
  format: StatusListFormat
  /** Number of entries (bits); 131,072 = 2^17. */
  size: number
  /** How many indexes were handed out; the n-th gets `permutedIndex(n)`. Full when equal to size. */
  allocated: number
  /** Hex key of the index permutation; never leaves the database. */
  permutationKey: string
  /** The raw bitstring, base64. */
  bits: string
  /** Bumped on every change; the ETag of the published list. */
  version: number
  /** The signed status list credential (VC-JWT) for this version. */
  jwt: string
  updatedAt: string
}

/** The status entry a credential holds in a list, and its current state for that purpose. */
export interface StatusEntryRow {
  listId: string
  index: number
  /** The list's issuer: credential ids are unique per issuer, so an entry is found by (issuer, credential id). */
  issuerInstitutionId: string
  credentialId: string
  purpose: StatusPurpose
  /** `revocation`: active | revoked; `suspension`: active | suspended. */
  state: 'active' | 'revoked' | 'suspended'
}

/** Who changed a credential's status, when, and why. */
export interface StatusChangeRow {
  id: string
  credentialId: string
  purpose: StatusPurpose
  from: string
  to: string
  actorInstitutionId: string
  reason: string
  at: string
}

export const StatusListEntity = new EntitySchema<StatusListRow>({
  name: 'StatusList',
  tableName: 'medcred_status_list',
  columns: {
    id: { type: 'varchar', length: 36, primary: true },
    issuerInstitutionId: { type: 'varchar', length: 36 },
    purpose: { type: 'varchar', length: 16 },
    format: { type: 'varchar', length: 32, default: 'StatusList2021' },
    size: { type: 'integer' },
    allocated: { type: 'integer' },
    permutationKey: { type: 'varchar', length: 64 },
    bits: { type: 'text' },
    version: { type: 'integer' },
    jwt: { type: 'text' },
    updatedAt: { type: 'varchar', length: 30 },
  },
})

export const StatusEntryEntity = new EntitySchema<StatusEntryRow>({
  name: 'StatusEntry',
  tableName: 'medcred_status_entry',
  columns: {
    listId: { type: 'varchar', length: 36, primary: true },
    index: { type: 'integer', primary: true },
    issuerInstitutionId: { type: 'varchar', length: 36 },
    credentialId: { type: 'varchar', length: 300 },
    purpose: { type: 'varchar', length: 16 },
    state: { type: 'varchar', length: 16 },
  },
})

export const StatusChangeEntity = new EntitySchema<StatusChangeRow>({
  name: 'StatusChange',
  tableName: 'medcred_status_change',
  columns: {
    id: { type: 'varchar', length: 36, primary: true },
    credentialId: { type: 'varchar', length: 300 },
    purpose: { type: 'varchar', length: 16 },
    from: { type: 'varchar', length: 16 },
    to: { type: 'varchar', length: 16 },
    actorInstitutionId: { type: 'varchar', length: 36 },
    reason: { type: 'varchar', length: 40 },
    at: { type: 'varchar', length: 30 },
  },
})
