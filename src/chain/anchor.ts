import type { IService } from '@veramo/core'
import type { MedcredAgent } from '../agent/agent.js'
import { AppError } from '../errors.js'
import type { Chain } from './chain.js'

export interface Anchored {
  txHash: string
  blockNumber: number
}

/**
 * Writes a service endpoint for `did` into the ERC-1056 registry as a signed meta-transaction:
 * the DID's key signs, the operator sends and pays. Waits until the transaction is mined.
 * Sends go through the operator's queue so each reads a fresh nonce.
 */
export async function anchorService(
  deps: { agent: MedcredAgent; chain: Chain; operatorKid: string },
  did: string,
  service: IService,
): Promise<Anchored> {
  const { agent, chain, operatorKid } = deps
  return chain.operatorQueue.run(async () => {
    try {
      const txHash = (await agent.didManagerAddService({
        did,
        service,
        options: { metaIdentifierKeyId: operatorKid },
      })) as string
      return await waitMined(chain, txHash)
    } catch (e) {
      throw await classifyChainError(chain, e)
    }
  })
}

export async function waitMined(chain: Chain, txHash: string): Promise<Anchored> {
  const receipt = await chain.provider.waitForTransaction(txHash, 1, chain.txTimeoutMs)
  if (!receipt) throw new AppError('chain-unavailable', `transaction ${txHash} was not mined within ${chain.txTimeoutMs} ms`)
  if (receipt.status !== 1) throw new Error(`transaction ${txHash} reverted`)
  return { txHash, blockNumber: receipt.blockNumber }
}

/** An error while the chain does not answer is "retry later" (503); anything else is ours to fix. */
export async function classifyChainError(chain: Chain, e: unknown): Promise<unknown> {
  if (e instanceof AppError) return e
  try {
    await chain.provider.getBlockNumber()
    return e
  } catch {
    return new AppError('chain-unavailable', 'the chain RPC does not answer; nothing was changed, retry later', {}, { cause: e })
  }
}
