import { credentialFromJwt, decodeJwt } from '../credentials/jwt.js'
import type { InstitutionRow } from '../institutions/institution.entity.js'
import { asArray } from '../credentials/w3c.js'
import { RESERVED_CREDENTIAL_TYPES } from '../credentials/reserved-types.js'
import type { VerificationPurpose } from './acceptance.entities.js'

export const RECEIPT_TYPE = RESERVED_CREDENTIAL_TYPES.receipt
/** Names the checks a receipt attests; bump it when what "verified" means changes. */
export const RECEIPT_POLICY = 'medcred-primary-source-verification/1'

/** What a receipt says was accepted: the credential by id and by the digest of its signed payload. */
export interface AcceptedCredential {
  id: string
  type: string
  issuer: string
  digest: string
  expirationDate?: string
}

/** The unsigned receipt a verifier signs after a full verification passed. */
export function receiptCredential(args: {
  url: string
  verifier: InstitutionRow
  holder: string
  accepted: AcceptedCredential
  verificationId: string
  purpose: VerificationPurpose
  checksPassed: string[]
  verifiedAt: string
}): Record<string, unknown> {
  return {
    id: args.url,
    type: ['VerifiableCredential', RECEIPT_TYPE],
    issuanceDate: args.verifiedAt.replace(/\.\d{3}Z$/, 'Z'),
    credentialSubject: {
      id: args.holder,
      acceptedCredential: args.accepted,
      verification: {
        id: args.verificationId,
        verifier: args.verifier.did,
        verifierName: args.verifier.name,
        verifiedAt: args.verifiedAt,
        purpose: args.purpose,
        policy: RECEIPT_POLICY,
        checksPassed: args.checksPassed,
      },
    },
  }
}

export interface ParsedReceipt {
  id?: string
  verifier: string
  holder?: string
  accepted: AcceptedCredential
  verifiedAt: string
  purpose?: string
}

/**
 * Reads a receipt JWT's claims (its signature is checked separately). The verifier is the JWT's `iss`, the
 * key that signed: a receipt whose `issuer` claim names someone else is no receipt.
 */
export function parseReceipt(jwt: string): ParsedReceipt | undefined {
  try {
    const { payload } = decodeJwt(jwt)
    const iss = payload.iss
    const vc = credentialFromJwt(jwt, payload) as Record<string, any>
    if (!asArray(vc.type).includes(RECEIPT_TYPE)) return undefined
    const claimed = typeof vc.issuer === 'string' ? vc.issuer : vc.issuer?.id
    if (typeof iss !== 'string' || claimed !== iss) return undefined
    const subject = vc.credentialSubject
    const accepted = subject?.acceptedCredential
    const verification = subject?.verification
    if (typeof accepted?.digest !== 'string' || typeof accepted?.id !== 'string' || typeof verification?.verifiedAt !== 'string') return undefined
    return {
      id: vc.id,
      verifier: iss,
      holder: subject.id,
      accepted,
      verifiedAt: verification.verifiedAt,
      purpose: verification.purpose,
    }
  } catch {
    return undefined
  }
}
