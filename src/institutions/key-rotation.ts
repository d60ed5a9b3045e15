import { randomUUID } from 'node:crypto'
import { computeAddress } from 'ethers'
import type { EntityManager } from 'typeorm'
import type { MedcredAgent } from '../agent/agent.js'
import type { Chain } from '../chain/chain.js'
import type { RegistryWriter } from '../chain/registry-writer.js'
import type { Database } from '../db/database.js'
import type { DidResolver } from '../did/resolver.js'
import type { StatusService } from '../status/service.js'
import { InstitutionEntity, type InstitutionRow } from './institution.entity.js'
import { KeyRotationEntity, type KeyRotationRow, type RotationReason } from './key-rotation.entity.js'

/**
 * Rotates an institution's signing key on chain: a new key is created in the KMS, the DID's ownership
 * moves to it through the registry (a signed meta-transaction), so the old key leaves the DID document;
 * new credentials and every status list are signed with the new key.
 *
 * Policy for what the old key signed (see SupersededKeys): after `superseded` it stays valid for
 * credentials medcred recorded before the rotation; after `compromised` nothing it signed verifies.
 *
 * The rotation is recorded as `pending` before the transaction is sent, so a crash or a dead RPC in
 * between is finished by the next call (which checks the chain's owner) rather than left half-done.
 */
export class KeyRotationService {
  constructor(
    private readonly deps: {
      db: Database
      agent: MedcredAgent
      chain: Chain
      registry: RegistryWriter
      resolver: DidResolver
      status: StatusService
    },
  ) {}

  async rotate(
    institution: InstitutionRow,
    reason: RotationReason,
    audit?: (m: EntityManager, rotation: KeyRotationRow) => Promise<unknown>,
  ): Promise<KeyRotationRow> {
    const { db, agent } = this.deps
    const pending = await db.manager.getRepository(KeyRotationEntity).findOneBy({ institutionId: institution.id, status: 'pending' })
    if (pending) await this.finish(pending, audit)

    const current = await db.manager.getRepository(InstitutionEntity).findOneByOrFail({ id: institution.id })
    const oldKid = current.signingKid ?? (await agent.didManagerGet({ did: current.did })).controllerKeyId!
    const rotation = await db.write(async () => {
      const key = await agent.keyManagerCreate({ kms: 'local', type: 'Secp256k1' })
      await agent.didManagerAddKey({ did: current.did, key, options: { localOnly: true } })
      const row: KeyRotationRow = {
        id: randomUUID(),
        institutionId: current.id,
        did: current.did,
        oldKid,
        newKid: key.kid,
        reason,
        status: 'pending',
        txHash: null,
        blockNumber: null,
        requestedAt: new Date().toISOString(),
        rotatedAt: null,
      }
      await db.manager.getRepository(KeyRotationEntity).insert(row)
      return row
    })
    return this.finish(rotation, audit)
  }

  /** Sends (or confirms) the ownership change, then switches signing to the new key in one transaction. */
  private async finish(rotation: KeyRotationRow, audit?: (m: EntityManager, rotation: KeyRotationRow) => Promise<unknown>): Promise<KeyRotationRow> {
    const { db, agent, chain, registry, resolver, status } = this.deps
    const newKey = await agent.keyManagerGet({ kid: rotation.newKid })
    const newOwner = computeAddress(`0x${newKey.publicKeyHex}`)
    const address = rotation.did.split(':').at(-1)!
    const ownerNow = await chain.provider
      .call({ to: chain.registry, data: ownerCall(address.length === 42 ? address : computeAddress(address)) })
      .then((r) => `0x${r.slice(-40)}`)
    let anchored: { txHash: string; blockNumber: number }
    if (ownerNow.toLowerCase() === newOwner.toLowerCase() && rotation.txHash) {
      anchored = { txHash: rotation.txHash, blockNumber: rotation.blockNumber! }
    } else if (ownerNow.toLowerCase() === newOwner.toLowerCase()) {
      const block = await chain.provider.getBlockNumber()
      anchored = { txHash: 'unknown (found on chain)', blockNumber: block }
    } else {
      anchored = await registry.changeOwner(rotation.did, rotation.oldKid, newOwner)
    }
    resolver.invalidate(rotation.did)
    const done: KeyRotationRow = { ...rotation, status: 'done', txHash: anchored.txHash, blockNumber: anchored.blockNumber, rotatedAt: new Date().toISOString() }
    await db.transaction(async (m) => {
      await m.getRepository(InstitutionEntity).update({ id: rotation.institutionId }, { signingKid: rotation.newKid })
      await m.getRepository(KeyRotationEntity).update({ id: rotation.id }, done)
      const institution = await m.getRepository(InstitutionEntity).findOneByOrFail({ id: rotation.institutionId })
      await status.resignAll(m, institution)
      await audit?.(m, done)
    })
    return done
  }
}

/** ABI-encoded `identityOwner(address)` call. */
function ownerCall(address: string): string {
  return `0x8733d4e8${address.slice(2).toLowerCase().padStart(64, '0')}`
}
