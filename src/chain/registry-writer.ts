import { Interface, Signature, encodeBytes32String, formatUnits, isError } from 'ethers'
import { EthrDidController, interpretIdentifier } from 'ethr-did-resolver'
import type { MedcredAgent } from '../agent/agent.js'
import type { Database } from '../db/database.js'
import { AppError } from '../errors.js'
import type { Chain } from './chain.js'
import { OperatorSender, feeCap, type Fees, type Resend } from './operator-send.js'
import { registryAbi } from './registry.js'

export interface Anchored {
  txHash: string
  blockNumber: number
}

/** The part of the service logger the writer uses (structurally the API's Logger; chain/ does not import api/). */
export interface ChainLogger {
  info(message: string, fields?: Record<string, unknown>): void
}

/** Registry attributes medcred writes live for a century: ERC-1056 attributes always carry a validity. */
const ATTRIBUTE_VALIDITY_SECONDS = 100 * 365 * 86400
const GAS_LIMIT = 200_000n
const registry = new Interface(registryAbi)

/**
 * Writes to the ERC-1056 registry as signed meta-transactions: the DID's current owner key (held in the
 * KMS) signs the registry's hash, the operator account sends the transaction and pays the gas, so DID
 * controllers never need ether. Every send holds the operator's lock, one nonce at a time, and returns
 * once mined: in this process through the operator's queue, and across replicas sharing one operator key
 * through the database (`db.exclusive`, an advisory lock on PostgreSQL), so each send reads its nonce only
 * after every earlier one is mined or given up. A transaction left pending or dropped is sent again with
 * higher fees (OperatorSender). A chain that does not answer or confirm within `txTimeoutMs` becomes a 503
 * `chain-unavailable`; a transaction the registry refuses (reverted: the DID's owner or nonce changed
 * meanwhile) a 409 `conflict`.
 */
export class RegistryWriter {
  private readonly sender: OperatorSender
  private readonly resendListeners: ((r: Resend) => void)[] = []

  constructor(private readonly deps: { agent: MedcredAgent; chain: Chain; db: Database; log?: ChainLogger }) {
    const { chain } = deps
    this.sender = new OperatorSender({
      wallet: chain.operator,
      provider: chain.provider,
      chainId: chain.chainId,
      policy: { resendAfterMs: chain.txResendAfterMs, maxFeePerGas: chain.maxFeePerGas },
      onResend: (r) => this.resent(r),
    })
  }

  /** Calls `listener` each time an operator transaction is sent again (the metrics count them). */
  onResend(listener: (r: Resend) => void): void {
    this.resendListeners.push(listener)
  }

  /** Sets a DID attribute, e.g. `did/svc/<type>` = endpoint, `did/pub/Secp256k1/veriKey/hex` = key. */
  setAttribute(did: string, ownerKid: string, name: string, value: string): Promise<Anchored> {
    return this.send(did, async (controller) => {
      const hash = await controller.createSetAttributeHash(name, value, ATTRIBUTE_VALIDITY_SECONDS)
      const { v, r, s } = await this.sign(ownerKid, hash)
      // Encoded exactly as the hash above encodes them, so the registry recomputes the same hash.
      return registry.encodeFunctionData('setAttributeSigned', [
        interpretIdentifier(did).address, v, r, s, encodeBytes32String(name), controller.encodeAttributeValue(value), ATTRIBUTE_VALIDITY_SECONDS,
      ])
    })
  }

  /** Hands control of the DID to `newOwner`; the old owner's key leaves the DID document. */
  changeOwner(did: string, ownerKid: string, newOwner: string): Promise<Anchored> {
    return this.send(did, async (controller) => {
      const hash = await controller.createChangeOwnerHash(newOwner)
      const { v, r, s } = await this.sign(ownerKid, hash)
      return registry.encodeFunctionData('changeOwnerSigned', [interpretIdentifier(did).address, v, r, s, newOwner])
    })
  }

  private async sign(kid: string, hash: string) {
    return Signature.from(
      await this.deps.agent.keyManagerSign({ keyRef: kid, data: hash, algorithm: 'eth_rawSign', encoding: 'hex' }),
    )
  }

  /**
   * Under the operator's lock: builds the calldata (reading the registry's nonce for the DID, so no other
   * write of ours can interleave), then sends it and waits until `txTimeoutMs` from taking the lock.
   */
  private send(did: string, calldata: (controller: EthrDidController) => Promise<string>): Promise<Anchored> {
    const { chain, db } = this.deps
    return chain.operatorQueue.run(() => db.exclusive(`operator:${chain.operator.address.toLowerCase()}`, async () => {
      const deadline = Date.now() + chain.txTimeoutMs
      // The controller builds the meta-transaction hashes only; the operator sends (OperatorSender).
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
        const data = await calldata(controller)
        const receipt = await this.sender.send({ to: chain.registry, data, gasLimit: GAS_LIMIT }, deadline)
        if (receipt.status !== 1) throw reverted(did)
        return { txHash: receipt.hash, blockNumber: receipt.blockNumber }
      } catch (e) {
        throw await classifyChainError(chain, e, did)
      }
    }))
  }

  /** Logs one resend: higher fees for `stuck`/`underpriced`, the same signed transaction for `dropped`. */
  private resent(r: Resend): void {
    this.deps.log?.info('operator transaction sent again', {
      nonce: r.nonce,
      reason: r.reason,
      attempt: r.attempt,
      feeGwei: gwei(r.fees),
      previousFeeGwei: gwei(r.previous),
    })
    for (const listener of this.resendListeners) listener(r)
  }
}

/** The fee cap a transaction offers (maxFeePerGas, or a legacy gasPrice), in gwei, for logs. */
function gwei(fees: Fees): string {
  return formatUnits(feeCap(fees), 'gwei')
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
