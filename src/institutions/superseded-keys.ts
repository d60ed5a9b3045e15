import type { Database } from '../db/database.js'
import type { DidResolver } from '../did/resolver.js'
import { credentialDigest } from '../credentials/digest.js'
import { IssuedCredentialEntity } from '../issuance/issued-credential.entity.js'
import { verifyJwtSignature } from '../verification/jwt-signature.js'
import { KeyRotationEntity } from './key-rotation.entity.js'

/**
 * The policy for keys retired as `superseded`: a credential they signed still verifies if medcred
 * recorded that exact credential (by the digest of its signed payload) before the rotation, and it
 * verifies against the issuer's DID document as it was on chain just before the rotation's block.
 *
 * The evidence is our record, not the credential's `iat`: whoever holds an old key could backdate `iat`,
 * but cannot add a row to this database dated before the rotation. Keys retired as `compromised` get no
 * such allowance: everything they signed stops verifying.
 */
export function supersededKeyCheck(deps: { db: Database; resolver: DidResolver }) {
  return async (jwt: string, issuer: string): Promise<string | undefined> => {
    const rotations = await deps.db.manager
      .getRepository(KeyRotationEntity)
      .find({ where: { did: issuer, status: 'done' }, order: { blockNumber: 'ASC' } })
    if (!rotations.length) return undefined
    const recorded = await deps.db.manager.getRepository(IssuedCredentialEntity).findOneBy({ digest: credentialDigest(jwt), issuerDid: issuer })
    if (!recorded) return undefined
    // Find the rotation that retired the signing key: the first one, after the credential was recorded,
    // just before which the signature verifies. Only a supersession keeps the credential valid.
    for (const rotation of rotations) {
      if (rotation.rotatedAt! < recorded.issuedAt) continue
      const before = await deps.resolver.resolveAt(issuer, rotation.blockNumber! - 1)
      if (!before.ok) return undefined
      try {
        const signer = await verifyJwtSignature(jwt, before.result, 'assertionMethod')
        if (rotation.reason !== 'superseded') return undefined
        return `signed by ${signer.id} as of block ${rotation.blockNumber! - 1}, a key superseded at block ${rotation.blockNumber}; this credential was recorded before that rotation`
      } catch {
        // not the key retired by this rotation: try the next
      }
    }
    return undefined
  }
}
