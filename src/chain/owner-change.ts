import { Contract, zeroPadValue } from 'ethers'
import type { Anchored } from './registry-writer.js'
import type { Chain } from './chain.js'
import { registryAbi } from './registry.js'

/**
 * The registry transaction that last made `owner` the owner of `identity` (an Ethereum address), found by
 * walking the identity's ERC-1056 events back from `changed(identity)`: each event names the block of the
 * identity's previous change, so every step reads one block's logs, as did:ethr resolvers do (no wide log
 * query that a public RPC would refuse). Undefined when no such change is on chain.
 *
 * This is the block to record for an ownership change found on chain after the fact: the current block,
 * or `changed(identity)` alone, can be later (another attribute written since).
 */
export async function lastOwnerChange(chain: Pick<Chain, 'registry' | 'provider'>, identity: string, owner: string): Promise<Anchored | undefined> {
  const registry = new Contract(chain.registry, registryAbi, chain.provider)
  const topic = zeroPadValue(identity, 32)
  let block = Number(await registry.getFunction('changed')(identity))
  while (block > 0) {
    const logs = await chain.provider.getLogs({ address: chain.registry, topics: [null, topic], fromBlock: block, toBlock: block })
    let previous = 0
    for (const log of logs.reverse()) {
      const event = registry.interface.parseLog(log)
      if (!event) continue
      if (event.name === 'DIDOwnerChanged' && String(event.args.owner).toLowerCase() === owner.toLowerCase()) {
        return { txHash: log.transactionHash, blockNumber: log.blockNumber }
      }
      // Within one block, later events point back at this block; the first points at the one before.
      const before = Number(event.args.previousChange)
      if (before < block) previous = Math.max(previous, before)
    }
    block = previous
  }
  return undefined
}
