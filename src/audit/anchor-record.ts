import {
  Interface,
  computeAddress,
  decodeBytes32String,
  getAddress,
  toUtf8String,
  type Log,
  type Provider,
} from 'ethers'
import { registryAbi } from '../chain/registry.js'

/**
 * How a batch root sits on chain: an ERC-1056 attribute on the audit DID, named `medcred/audit/root`
 * (18 bytes: it fits the registry's bytes32 name as is, so nobody has to guess a hash), valued
 * `<fromSeq>-<toSeq>:0x<root>` in UTF-8. The range binds the root to the events it covers. The registry
 * accepts the change only when signed by the DID's owner, and the event log carries it for good.
 */
export const ANCHOR_ATTRIBUTE = 'medcred/audit/root'

export interface AnchorClaim {
  fromSeq: number
  toSeq: number
  root: string
}

/** One anchor found on chain. */
export interface OnChainAnchor extends AnchorClaim {
  /** The ERC-1056 identity (address) whose attribute it is. */
  identity: string
  txHash: string
  blockNumber: number
}

const registryInterface = new Interface(registryAbi)
const VALUE = /^(\d+)-(\d+):0x([0-9a-f]{64})$/

export function anchorValue(c: AnchorClaim): string {
  return `${c.fromSeq}-${c.toSeq}:0x${c.root}`
}

export function parseAnchorValue(value: string): AnchorClaim | undefined {
  const m = VALUE.exec(value)
  return m ? { fromSeq: Number(m[1]), toSeq: Number(m[2]), root: m[3] } : undefined
}

/** The registry identity of a did:ethr, in address or public-key form. */
export function didIdentity(did: string): string {
  const last = did.split(':').at(-1) ?? ''
  if (/^0x[0-9a-fA-F]{40}$/.test(last)) return getAddress(last)
  if (/^0x0[23][0-9a-fA-F]{64}$/.test(last)) return computeAddress(last)
  throw new Error(`not a did:ethr with an address or compressed public key: ${did}`)
}

/** Decodes a registry log as an audit anchor, or undefined when it is something else. */
export function decodeAnchorLog(log: Log, registry: string): OnChainAnchor | undefined {
  if (getAddress(log.address) !== getAddress(registry)) return undefined
  let parsed
  try {
    parsed = registryInterface.parseLog({ topics: [...log.topics], data: log.data })
  } catch {
    return undefined
  }
  if (!parsed || parsed.name !== 'DIDAttributeChanged') return undefined
  let name: string
  let value: string
  try {
    name = decodeBytes32String(parsed.args.name)
    value = toUtf8String(parsed.args.value)
  } catch {
    return undefined
  }
  const claim = name === ANCHOR_ATTRIBUTE ? parseAnchorValue(value) : undefined
  if (!claim) return undefined
  return { ...claim, identity: getAddress(parsed.args.identity), txHash: log.transactionHash, blockNumber: log.blockNumber }
}

export type AnchorCheck = { ok: true; anchor: OnChainAnchor } | { ok: false; detail: string }

/**
 * Reads the anchoring transaction's receipt from the chain and checks it carries exactly this batch, set on
 * `did` in `registry`, in `blockNumber`. Needs the chain only. Throws when the chain does not answer
 * (cannot check now), which is not the same as a failed check.
 */
export async function checkAnchorOnChain(
  provider: Provider,
  expected: AnchorClaim & { registry: string; did: string; txHash: string; blockNumber: number },
): Promise<AnchorCheck> {
  const receipt = await provider.getTransactionReceipt(expected.txHash)
  if (!receipt) return { ok: false, detail: `transaction ${expected.txHash} is not on the chain` }
  if (receipt.status !== 1) return { ok: false, detail: `transaction ${expected.txHash} reverted` }
  if (receipt.blockNumber !== expected.blockNumber) {
    return { ok: false, detail: `transaction ${expected.txHash} is in block ${receipt.blockNumber}, not ${expected.blockNumber}` }
  }
  const identity = didIdentity(expected.did)
  const anchors = receipt.logs.map((l) => decodeAnchorLog(l, expected.registry)).filter((a) => a !== undefined)
  const match = anchors.find(
    (a) => a.identity === identity && a.fromSeq === expected.fromSeq && a.toSeq === expected.toSeq && a.root === expected.root,
  )
  if (match) return { ok: true, anchor: match }
  const found = anchors.map((a) => `${a.identity} ${anchorValue(a)}`).join(', ') || 'no audit anchor'
  return {
    ok: false,
    detail: `transaction ${expected.txHash} does not anchor ${anchorValue(expected)} for ${expected.did} in registry ${expected.registry} (it holds: ${found})`,
  }
}
