import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { DataSource } from 'typeorm'
import { createAgent, type MedcredAgent } from './agent/agent.js'
import { createApp } from './api/app.js'
import type { Logger } from './api/problem.js'
import type { HealthReport } from './api/routes/health.js'
import { connectChain, type Chain } from './chain/chain.js'
import { RegistryWriter } from './chain/registry-writer.js'
import { Database } from './db/database.js'
import type { Config } from './config.js'
import { openDatabase } from './db/data-source.js'
import { createDidResolver } from './did/resolver.js'
import { InstitutionService } from './institutions/service.js'
import { IssuanceService } from './issuance/service.js'
import { jsonLogger } from './log.js'
import { ensureSecrets, type Secrets } from './secrets.js'

export interface Medcred {
  url: string
  port: number
  config: Config
  secrets: Secrets
  chain: Chain
  db: DataSource
  agent: MedcredAgent
  stop(): Promise<void>
}

/**
 * The composition root: secrets, chain, database, agent, capabilities, HTTP server, in that order.
 * `main.ts` and the tests both start medcred through here.
 */
export async function startMedcred(config: Config, log: Logger = jsonLogger()): Promise<Medcred> {
  const secrets = ensureSecrets(config.dataDir, config)
  const chain = await connectChain(config.chain, config.dataDir)
  let db: DataSource | undefined
  try {
    db = await openDatabase(config)
    const resolver = createDidResolver(chain)
    const agent = await createAgent({ db, kmsSecretKey: secrets.kmsSecretKey, chain, resolver })
    const database = new Database(db)
    const registry = new RegistryWriter({ agent, chain })
    const institutions = new InstitutionService({ db: database, agent, chain, registry, publicUrl: config.publicUrl })
    const issuance = new IssuanceService({ db: database, agent })
    const health = healthCheck(db, chain)

    const app = createApp({
      limits: config.limits,
      adminToken: secrets.adminToken,
      institutions,
      issuance,
      resolver,
      verifyContext: { resolver, skewSeconds: config.clockSkewSeconds },
      health,
      log,
    })
    const server = await listen(app.callback(), config.port)
    const port = (server.address() as AddressInfo).port
    const openDb = db
    return {
      url: `http://127.0.0.1:${port}`,
      port,
      config,
      secrets,
      chain,
      db: openDb,
      agent,
      async stop() {
        await new Promise<void>((resolve) => server.close(() => resolve()))
        server.closeAllConnections?.()
        await openDb.destroy()
        await chain.stop()
      },
    }
  } catch (e) {
    await db?.destroy().catch(() => undefined)
    await chain.stop()
    throw e
  }
}

async function listen(handler: Parameters<typeof import('node:http').createServer>[1], port: number): Promise<Server> {
  const { createServer } = await import('node:http')
  const server = createServer(handler)
  server.keepAliveTimeout = 5000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, () => resolve())
  })
  return server
}

function healthCheck(db: DataSource, chain: Chain): () => Promise<HealthReport> {
  return async () => {
    const dbOk = await db.query('SELECT 1').then(() => true, () => false)
    const blockNumber = await chain.provider.getBlockNumber().catch(() => null)
    return {
      status: dbOk && blockNumber !== null ? 'ok' : 'degraded',
      db: dbOk ? 'ok' : 'unreachable',
      chain: { chainId: chain.chainId, registry: chain.registry, blockNumber, status: blockNumber !== null ? 'ok' : 'unreachable' },
    }
  }
}
