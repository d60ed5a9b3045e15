import type { PruneRule } from '../db/pruner.js'

const iso = (cutoff: Date) => cutoff.toISOString()

/**
 * The wallet protocols' single-use rows that no request can use any more. Kept for good: an offer redeemed
 * into a credential (it records which credential, and the issuance's audit event names it as `offerId`),
 * an OID4VP request that was answered (its outcome is what the hospital's page shows) or is being checked.
 */
export const oid4vcPruneRules: PruneRule[] = [
  // A c_nonce is spent or useless once expired; the nonce endpoint is anonymous, so these pile up fastest.
  { name: 'oid4vci-nonce', table: 'medcred_oid4vci_nonce', key: 'nonceHash', where: '"expiresAt" < $1', params: (c) => [iso(c)] },
  // Never redeemed before the offer expired, or redeemed for an access token that then expired unused.
  {
    name: 'oid4vci-offer',
    table: 'medcred_oid4vci_offer',
    key: 'id',
    where: `("state" = 'offered' AND "expiresAt" < $1) OR ("state" = 'token-issued' AND "tokenExpiresAt" < $2)`,
    params: (c) => [iso(c), iso(c)],
  },
  // Never answered before it expired.
  { name: 'oid4vp-request', table: 'medcred_oid4vp_request', key: 'id', where: `"status" = 'pending' AND "expiresAt" < $1`, params: (c) => [iso(c)] },
]
