import type { JsonRpcClient } from '../chain/json-rpc.js'

interface Log {
  topics: string[]
  blockNumber: string
}

/**
 * Follows the ERC-1056 registry's events (DIDOwnerChanged, DIDDelegateChanged, DIDAttributeChanged: each
 * names the identity as its first indexed topic) block by block, and reports every identity touched, so
 * the DID cache can drop it. While it keeps up, a cached document needs no chain call at all; when it
 * falls behind (RPC down), `fresh()` says so and the cache re-checks each DID's `changed` block instead.
 */
export class RegistryWatcher {
  private lastBlock: bigint | undefined
  private lastOkAt = 0
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined

  constructor(
    private readonly deps: {
      rpc: JsonRpcClient
      registry: string
      pollMs: number
      onIdentityChanged: (address: string) => void
    },
  ) {}

  start(): void {
    if (this.timer) return
    this.timer = setInterval(() => void this.poll(), this.deps.pollMs)
    this.timer.unref()
    void this.poll()
  }

  async stop(): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
    await this.running
  }

  /** True while the watcher has read the chain within the last two poll intervals. */
  fresh(): boolean {
    return this.lastBlock !== undefined && Date.now() - this.lastOkAt < 2 * this.deps.pollMs + 50
  }

  /** Reads new blocks once (no overlapping runs). */
  poll(): Promise<void> {
    this.running ??= this.readNewBlocks().finally(() => (this.running = undefined))
    return this.running
  }

  private async readNewBlocks(): Promise<void> {
    try {
      const head = BigInt((await this.deps.rpc.call('eth_blockNumber', [])) as string)
      if (this.lastBlock !== undefined && head > this.lastBlock) {
        const logs = (await this.deps.rpc.call('eth_getLogs', [
          { address: this.deps.registry, fromBlock: `0x${(this.lastBlock + 1n).toString(16)}`, toBlock: `0x${head.toString(16)}` },
        ])) as Log[]
        for (const log of logs) {
          const topic = log.topics[1]
          if (topic) this.deps.onIdentityChanged(`0x${topic.slice(-40)}`.toLowerCase())
        }
      }
      if (this.lastBlock === undefined || head >= this.lastBlock) this.lastBlock = head
      this.lastOkAt = Date.now()
    } catch {
      // The chain did not answer: fresh() turns false and the cache falls back to per-read checks.
    }
  }
}
