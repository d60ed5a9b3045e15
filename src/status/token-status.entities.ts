import { EntitySchema } from 'typeorm'

/**
 * One IETF Token Status List (draft-ietf-oauth-status-list) of one issuer: the statuses of its SD-JWT VCs,
 * one bit each (0 valid, 1 invalid), published as a signed `statuslist+jwt`.
 */
export interface TokenStatusListRow {
  id: string
  issuerInstitutionId: string
  size: number
  /** How many indexes were handed out; the n-th gets `permutedIndex(n)`, as for the W3C lists. */
  allocated: number
  permutationKey: string
  /** The list as the token carries it: DEFLATE (zlib), base64url (`status_list.lst`). */
  lst: string
  version: number
  /** The signed Status List Token for this version. */
  jwt: string
  updatedAt: string
}

/** The entry an SD-JWT VC holds (`status.status_list.idx`) and its state. */
export interface TokenStatusEntryRow {
  listId: string
  idx: number
  /** Credential ids are unique per issuer, not across issuers. */
  issuerInstitutionId: string
  credentialId: string
  state: 'active' | 'revoked'
}

export const TokenStatusListEntity = new EntitySchema<TokenStatusListRow>({
  name: 'TokenStatusList',
  tableName: 'medcred_token_status_list',
  columns: {
    id: { type: 'varchar', length: 36, primary: true },
    issuerInstitutionId: { type: 'varchar', length: 36 },
    size: { type: 'integer' },
    allocated: { type: 'integer' },
    permutationKey: { type: 'varchar', length: 64 },
    lst: { type: 'text' },
    version: { type: 'integer' },
    jwt: { type: 'text' },
    updatedAt: { type: 'varchar', length: 30 },
  },
})

export const TokenStatusEntryEntity = new EntitySchema<TokenStatusEntryRow>({
  name: 'TokenStatusEntry',
  tableName: 'medcred_token_status_entry',
  columns: {
    listId: { type: 'varchar', length: 36, primary: true },
    idx: { type: 'integer', primary: true },
    issuerInstitutionId: { type: 'varchar', length: 36 },
    credentialId: { type: 'varchar', length: 300 },
    state: { type: 'varchar', length: 16 },
  },
  indices: [{ name: 'IDX_token_status_entry_credential', columns: ['issuerInstitutionId', 'credentialId'], unique: true }],
})
