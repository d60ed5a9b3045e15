import fs from 'node:fs'
import path from 'node:path'
import { Wallet, type JsonRpcProvider } from 'ethers'
import type { ChainConfig } from '../config.js'
import { findRunningNode, startLocalNode } from './anvil.js'
import { createProvider } from './provider.js'
import { checkRegistry, ensureLocalRegistry } from './registry.js'
import { SerialQueue } from './serial-queue.js'

/** anvil's first development account: public knowledge, funded only on the local node. */
const LOCAL_OPERATOR_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'

/** The EVM chain medcred anchors DIDs on, and the operator account that pays for registry writes. */
export interface Chain {
  rpcUrl: string
  chainId: number
  /** did:ethr network name used in DIDs, e.g. `did:ethr:0x7a69:0x02…`. */
  network: string
  registry: string
  provider: JsonRpcProvider
  operator: Wallet
  /**
   * Every transaction the operator sends in this process goes through this queue (one nonce at a time).
   * Replicas sharing the operator key also take turns through the database (RegistryWriter, `db.exclusive`).
   */
  operatorQueue: SerialQueue
  local: boolean
  txTimeoutMs: number
  /** An operator transaction unmined this long is sent again with higher fees (see OperatorSender). */
  txResendAfterMs: number
  /** The most the operator offers per gas, in wei; unset = ten times the market's fees at each send's start. */
  maxFeePerGas?: bigint
  stop(): Promise<void>
}

export async function connectChain(config: ChainConfig, dataDir: string): Promise<Chain> {
  if (config.rpcUrl) {
    const probe = createProvider(config.rpcUrl, config.chainId ?? 1)
    const chainId = config.chainId ?? Number((await probe.send('eth_chainId', [])) as string)
    probe.destroy()
    const provider = createProvider(config.rpcUrl, chainId)
    const registry = await checkRegistry(provider, config.registry!)
    return assemble({ config, rpcUrl: config.rpcUrl, chainId, provider, registry, local: false, stop: async () => {} })
  }
  const stateDir = path.join(dataDir, 'chain')
  const node = await startLocalNode(stateDir)
  try {
    const provider = createProvider(node.rpcUrl, node.chainId)
    const operator = new Wallet(config.operatorPrivateKey ?? LOCAL_OPERATOR_KEY, provider)
    const registry = await ensureLocalRegistry(stateDir, operator)
    return assemble({ config, rpcUrl: node.rpcUrl, chainId: node.chainId, provider, registry, local: true, stop: node.stop })
  } catch (e) {
    await node.stop()
    throw e
  }
}

/**
 * For tools that read the chain beside a running service (the audit checker): on the local node, use the
 * node the service is running on DATA_DIR if there is one; only otherwise start one (connectChain).
 */
export async function connectChainForReading(config: ChainConfig, dataDir: string): Promise<Chain> {
  const stateDir = path.join(dataDir, 'chain')
  const running = config.rpcUrl ? undefined : await findRunningNode(stateDir)
  if (!running) return connectChain(config, dataDir)
  const file = path.join(stateDir, 'registry.json')
  const { address } = JSON.parse(fs.readFileSync(file, 'utf8')) as { address: string }
  const provider = createProvider(running.rpcUrl, running.chainId)
  try {
    const registry = await checkRegistry(provider, address)
    return assemble({ config, rpcUrl: running.rpcUrl, chainId: running.chainId, provider, registry, local: true, stop: async () => {} })
  } catch (e) {
    provider.destroy()
    throw e
  }
}

function assemble(a: {
  config: ChainConfig
  rpcUrl: string
  chainId: number
  provider: JsonRpcProvider
  registry: string
  local: boolean
  stop: () => Promise<void>
}): Chain {
  const operator = new Wallet(a.config.operatorPrivateKey ?? LOCAL_OPERATOR_KEY, a.provider)
  return {
    rpcUrl: a.rpcUrl,
    chainId: a.chainId,
    network: a.config.network ?? `0x${a.chainId.toString(16)}`,
    registry: a.registry,
    provider: a.provider,
    operator,
    operatorQueue: new SerialQueue(),
    local: a.local,
    txTimeoutMs: a.config.txTimeoutMs,
    txResendAfterMs: a.config.txResendAfterMs,
    maxFeePerGas: a.config.maxFeePerGas,
    async stop() {
      a.provider.destroy()
      await a.stop()
    },
  }
}
