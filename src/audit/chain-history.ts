import { Contract, Interface, zeroPadValue, type Provider } from 'ethers'
import { registryAbi } from '../chain/registry.js'
import { decodeAnchorLog, didIdentity, type OnChainAnchor } from './anchor-record.js'

const registryInterface = new Interface(registryAbi)

/**
 * Every audit anchor the DID ever set, oldest first, read from the chain alone. ERC-1056 keeps, per
 * identity, the block of its last change, and each change event names the block of the one before
 * (`previousChange`), so the history is a linked list walked backwards one block at a time, no log scan.
 * The checker compares this with the database: an anchor the database does not know means batches
 * (and the events in them) were removed.
 */
export async function anchorsOnChain(
  provider: Provider,
  registry: string,
  did: string,
): Promise<{ anchors: OnChainAnchor[]; complete: boolean }> {
  const identity = didIdentity(did)
  const contract = new Contract(registry, registryAbi, provider)
  let block = Number(await contract.changed(identity))
  const blocks: OnChainAnchor[][] = []
  while (block > 0) {
    const logs = await provider.getLogs({
      address: registry,
      topics: [null, zeroPadValue(identity, 32)],
      fromBlock: block,
      toBlock: block,
    })
    let previous = 0
    const here: OnChainAnchor[] = []
    for (const log of logs) {
      const parsed = registryInterface.parseLog({ topics: [...log.topics], data: log.data })
      // several changes in one block: only the first points to an earlier block, the others to this one
      const prev = parsed ? Number(parsed.args.previousChange) : 0
      if (prev < block) previous = Math.max(previous, prev)
      const anchor = decodeAnchorLog(log, registry)
      if (anchor && anchor.identity === identity) here.push(anchor)
    }
    // the registry says a change is here but the node has no log (pruned?): the history is incomplete
    if (logs.length === 0) return { anchors: blocks.flat(), complete: false }
    blocks.unshift(here)
    block = previous
  }
  return { anchors: blocks.flat(), complete: true }
}
