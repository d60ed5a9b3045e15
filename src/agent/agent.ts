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

