import { EntitySchema } from 'typeorm'

/**
 * An OID4VCI credential offer (pre-authorized code flow). `offered` → `token-issued` → `credential-issued`,
 * each step a conditional update on the previous state, so an offer is redeemed once across replicas.
 * The pre-authorized code and the access token are stored as SHA-256 hashes only, the (6-digit) tx_code
 * as an HMAC under a server key.
 */
export interface OfferRow {
  id: string
  issuerInstitutionId: string
  codeHash: string
  txCodeHash: string | null
  txCodeFailures: number
  state: OfferState
  format: string
  configurationId: string
  /** The credential to issue (the `POST /credentials/issue` body without `credentialSubject.id`); null for a receipt offer. */
  credential: Record<string, any> | null
  /** A receipt offer hands out this already-signed acceptance receipt. */
  receiptId: string | null
  /** The only DID a key proof may come from (a receipt offer: the holder who presented). */
  boundDid: string | null
  accessTokenHash: string | null
  tokenExpiresAt: string | null
  credentialId: string | null
  subjectDid: string | null
  expiresAt: string
  createdAt: string
  tokenIssuedAt: string | null
  credentialIssuedAt: string | null
}

export type OfferState = 'offered' | 'token-issued' | 'credential-issued'

/** A c_nonce from an issuer's nonce endpoint: a key proof may carry it once, before it expires. */
export interface NonceRow {
  nonceHash: string
  issuerInstitutionId: string
  expiresAt: string
  usedAt: string | null
}

/** A hospital's OID4VP authorization request and, once answered, what came of it. */
export interface PresentationRequestRow {
  id: string
  institutionId: string
  clientId: string
  nonce: string
  stateHash: string
  purpose: string
  credentialTypes: string[]
  acceptReceipts: boolean
  requestJwt: string
  status: PresentationRequestStatus
  holderDid: string | null
  verificationId: string | null
  outcome: PresentationOutcome | null
  receiptOfferIds: string[] | null
  expiresAt: string
  createdAt: string
  respondedAt: string | null
}

/** `processing`: a response is being checked (shown as `pending`); the rest are final. */
export type PresentationRequestStatus = 'pending' | 'processing' | 'verified' | 'accepted-on-receipt' | 'failed'

export interface PresentationOutcome {
  checks: { check: string; ok: boolean; detail?: string }[]
  acceptance?: { id: string; reliedOn?: Record<string, any> }
}

const time = (nullable = false) => ({ type: 'varchar' as const, length: 30, nullable })
const hash = (nullable = false) => ({ type: 'varchar' as const, length: 64, nullable })

export const OfferEntity = new EntitySchema<OfferRow>({
  name: 'Oid4vciOffer',
  tableName: 'medcred_oid4vci_offer',
  columns: {
    id: { type: 'varchar', length: 36, primary: true },
    issuerInstitutionId: { type: 'varchar', length: 36 },
    codeHash: hash(),
    txCodeHash: hash(true),
    txCodeFailures: { type: 'integer', default: 0 },
    state: { type: 'varchar', length: 24 },
    format: { type: 'varchar', length: 32 },
    configurationId: { type: 'varchar', length: 100 },
    credential: { type: 'simple-json', nullable: true },
    receiptId: { type: 'varchar', length: 36, nullable: true },
    boundDid: { type: 'varchar', length: 300, nullable: true },
    accessTokenHash: hash(true),
    tokenExpiresAt: time(true),
    credentialId: { type: 'varchar', length: 300, nullable: true },
    subjectDid: { type: 'varchar', length: 300, nullable: true },
    expiresAt: time(),
    createdAt: time(),
    tokenIssuedAt: time(true),
    credentialIssuedAt: time(true),
  },
})

export const NonceEntity = new EntitySchema<NonceRow>({
  name: 'Oid4vciNonce',
  tableName: 'medcred_oid4vci_nonce',
  columns: {
    nonceHash: { ...hash(), primary: true },
    issuerInstitutionId: { type: 'varchar', length: 36 },
    expiresAt: time(),
    usedAt: time(true),
  },
})

export const PresentationRequestEntity = new EntitySchema<PresentationRequestRow>({
  name: 'Oid4vpRequest',
  tableName: 'medcred_oid4vp_request',
  columns: {
    id: { type: 'varchar', length: 36, primary: true },
    institutionId: { type: 'varchar', length: 36 },
    clientId: { type: 'varchar', length: 300 },
    nonce: { type: 'varchar', length: 64 },
    stateHash: hash(),
    purpose: { type: 'varchar', length: 32 },
    credentialTypes: { type: 'simple-json' },
    acceptReceipts: { type: 'boolean' },
    requestJwt: { type: 'text' },
    status: { type: 'varchar', length: 24 },
    holderDid: { type: 'varchar', length: 300, nullable: true },
    verificationId: { type: 'varchar', length: 36, nullable: true },
    outcome: { type: 'simple-json', nullable: true },
    receiptOfferIds: { type: 'simple-json', nullable: true },
    expiresAt: time(),
    createdAt: time(),
    respondedAt: time(true),
  },
})

export const oid4vcEntities = [OfferEntity, NonceEntity, PresentationRequestEntity]
