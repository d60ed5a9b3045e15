import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Wallet } from 'ethers'
import { startLocalNode, type LocalNode } from '../../src/chain/anvil.js'
import { createProvider } from '../../src/chain/provider.js'
import { ensureLocalRegistry } from '../../src/chain/registry.js'

/** anvil dev account 1: the operator of a chain medcred is pointed at (not the local default). */
export const EXTERNAL_OPERATOR_KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d'

/**
 * A chain the test owns and medcred is configured to use (ETHR_RPC_URL + ETHR_REGISTRY), so the test can
 * stop it and start it again on the same port and state to play an RPC outage.
 */
export class ExternalChain {
  private constructor(
    private node: LocalNode,
    readonly dir: string,
    readonly port: number,
    readonly registry: string,
  ) {}

  static async start(): Promise<ExternalChain> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'medcred-extchain-'))
    const node = await startLocalNode(dir)
    const provider = createProvider(node.rpcUrl, node.chainId)
    const registry = await ensureLocalRegistry(dir, new Wallet(EXTERNAL_OPERATOR_KEY, provider))
    provider.destroy()
    return new ExternalChain(node, dir, Number(new URL(node.rpcUrl).port), registry)
  }

  get rpcUrl(): string {
    return this.node.rpcUrl
  }

  /** The settings that point medcred at this chain. */
  env(): Record<string, string> {
    return { ETHR_RPC_URL: this.node.rpcUrl, ETHR_REGISTRY: this.registry, ETHR_OPERATOR_KEY: EXTERNAL_OPERATOR_KEY }
  }

  stop(): Promise<void> {
    return this.node.stop()
  }

  /** Starts the node again on the same port and state. */
  async restart(): Promise<void> {
    this.node = await startLocalNode(this.dir, { port: this.port })
  }

  async dispose(): Promise<void> {
    await this.node.stop()
    fs.rmSync(this.dir, { recursive: true, force: true })
  }
}
