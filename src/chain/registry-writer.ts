import { Signature, isError } from 'ethers'
import { EthrDidController } from 'ethr-did-resolver'
import type { MedcredAgent } from '../agent/agent.js'
import type { Database } from '../db/database.js'
import { AppError } from '../errors.js'
import type { Chain } from './chain.js'

export interface Anchored {
  txHash: string
  blockNumber: number
}

/** Registry attributes medcred writes live for a century: ERC-1056 attributes always carry a validity. */
const ATTRIBUTE_VALIDITY_SECONDS = 100 * 365 * 86400

/**
 * Writes to the ERC-1056 registry as signed meta-transactions: the DID's current owner key (held in the
 * KMS) signs the registry's hash, the operator account sends the transaction and pays the gas, so DID
 * controllers never need ether. Every send holds the operator's lock, one nonce at a time, and returns
 * once mined: in this process through the operator's queue, and across replicas sharing one operator key
 * through the database (`db.exclusive`, an advisory lock on PostgreSQL), so each send reads its nonce only
 * after every earlier one is mined. A chain that does not answer becomes a 503 `chain-unavailable`; a
 * transaction the registry refuses (reverted: the DID's owner or nonce changed meanwhile) a 409 `conflict`.
 */
export class RegistryWriter {
  constructor(private readonly deps: { agent: MedcredAgent; chain: Chain; db: Database }) {}

  /** Sets a DID attribute, e.g. `did/svc/<type>` = endpoint, `did/pub/Secp256k1/veriKey/hex` = key. */
  setAttribute(did: string, ownerKid: string, name: string, value: string): Promise<Anchored> {
    return this.send(did, async (controller) => {
      const hash = await controller.createSetAttributeHash(name, value, ATTRIBUTE_VALIDITY_SECONDS)
      return controller.setAttributeSigned(name, value, ATTRIBUTE_VALIDITY_SECONDS, await this.sign(ownerKid, hash), {
        gasLimit: 200_000,
      })
    })
  }

  /** Hands control of the DID to `newOwner`; the old owner's key leaves the DID document. */
  changeOwner(did: string, ownerKid: string, newOwner: string): Promise<Anchored> {
    return this.send(did, async (controller) => {
      const hash = await controller.createChangeOwnerHash(newOwner)
      return controller.changeOwnerSigned(newOwner, await this.sign(ownerKid, hash), { gasLimit: 200_000 })
    })
  }

  private async sign(kid: string, hash: string) {
    const signature = Signature.from(
      await this.deps.agent.keyManagerSign({ keyRef: kid, data: hash, algorithm: 'eth_rawSign', encoding: 'hex' }),
    )
    return { sigV: signature.v, sigR: signature.r, sigS: signature.s }
  }

  private send(
    did: string,
    fn: (controller: EthrDidController) => Promise<{ hash: string; blockNumber: number; status: number | null } | null>,
  ): Promise<Anchored> {
    const { chain, db } = this.deps
    return chain.operatorQueue.run(() => db.exclusive(`operator:${chain.operator.address.toLowerCase()}`, async () => {
      const controller = new EthrDidController(
        did,
        undefined,
        chain.operator as never,
        chain.network,
        chain.provider as never,
        undefined,
        chain.registry,
      )
      try {
        const receipt = await withTimeout(fn(controller), chain.txTimeoutMs)
        if (!receipt || receipt.status !== 1) throw reverted(did)
        return { txHash: receipt.hash, blockNumber: receipt.blockNumber }
      } catch (e) {
        throw await classifyChainError(chain, e, did)
      }
    }))
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AppError('chain-unavailable', `the chain did not confirm within ${ms} ms; retry later`)), ms)
  })
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer))
}

function reverted(did: string, cause?: unknown): AppError {
  return new AppError(
    'conflict',
    `the registry refused the change to ${did} (the transaction reverted): the DID's owner or nonce changed meanwhile; nothing was changed, retry`,
    {},
    { cause },
  )
}

/**
 * An error while the chain does not answer is "retry later" (503); a transaction the chain mined or
 * simulated and refused is a conflict with its state (409); anything else is ours to fix.
 */
export async function classifyChainError(chain: Chain, e: unknown, did: string): Promise<unknown> {
  if (e instanceof AppError) return e
  try {
    await chain.provider.getBlockNumber()
    // ethr-did-resolver uses ethers' CommonJS build: its errors are told apart by their `code`, as here.
    return isError(e, 'CALL_EXCEPTION') ? reverted(did, e) : e
  } catch {
    return new AppError('chain-unavailable', 'the chain RPC does not answer; nothing was changed, retry later', {}, { cause: e })
  }
}
