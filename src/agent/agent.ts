import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { DataSource } from 'typeorm'
import type {
  ICredentialPlugin,
  IDIDManager,
  IKeyManager,
  IResolver,
  TAgent,
} from '@veramo/core'
import type { Chain } from '../chain/chain.js'
import type { DidResolver } from '../did/resolver.js'
import { loadAgentConfig } from './load-agent-config.js'

export type MedcredAgent = TAgent<IKeyManager & IDIDManager & IResolver & ICredentialPlugin>

export const AGENT_YML = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../agent.yml')

/** Builds the Veramo agent described by agent.yml, with medcred's runtime values injected. */
export async function createAgent(deps: {
  db: DataSource
  kmsSecretKey: string
  chain: Chain
  resolver: DidResolver
}): Promise<MedcredAgent> {
  const agent = await loadAgentConfig(AGENT_YML, '/agent', {
    DB_CONNECTION: deps.db,
    KMS_SECRET_KEY: deps.kmsSecretKey,
    ETHR_NETWORKS: [
      {
        name: deps.chain.network,
        chainId: deps.chain.chainId,
        registry: deps.chain.registry,
        provider: deps.chain.provider,
      },
    ],
    DID_RESOLVER: deps.resolver,
  })
  return agent as MedcredAgent
}

/**
 * Imports the operator's key into the KMS (encrypted like every other key) so that Veramo can send
 * ERC-1056 meta-transactions through it: the operator pays gas, DID controllers need no ether.
 * Returns the key's kid.
 */
export async function ensureOperatorKey(agent: MedcredAgent, chain: Chain): Promise<string> {
  const kid = `operator-${chain.operator.address.toLowerCase()}`
  try {
    await agent.keyManagerGet({ kid })
  } catch {
    await agent.keyManagerImport({
      kid,
      kms: 'local',
      type: 'Secp256k1',
      privateKeyHex: chain.operator.privateKey.slice(2),
    })
  }
  return kid
}
