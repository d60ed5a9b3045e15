import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import { createTestDatabase, type TestDatabase } from './database.js'
import { ExternalChain } from './external-chain.js'
import { startTestService, type TestService } from './service.js'

export interface ReplicaPair {
  a: TestService
  b: TestService
  chain: ExternalChain
  database: TestDatabase
  dispose(): Promise<void>
}

/**
 * Two replicas as a deployment runs them: one PostgreSQL database, one chain neither of them owns, the
 * same KMS secret and admin token (PostgreSQL only: SQLite is one process by nature).
 */
export async function startReplicaPair(env: Record<string, string> = {}): Promise<ReplicaPair> {
  const chain = await ExternalChain.start()
  const database = await createTestDatabase()
  const shared = { ...chain.env(), ...env, KMS_SECRET_KEY: randomBytes(32).toString('hex'), ADMIN_TOKEN: `admin-${randomBytes(24).toString('hex')}` }
  const a = await startTestService({ database, env: shared })
  const b = await startTestService({ database, env: shared })
  return {
    a,
    b,
    chain,
    database,
    async dispose() {
      await a.stop()
      await b.stop()
      await database.drop()
      for (const svc of [a, b]) fs.rmSync(svc.dataDir, { recursive: true, force: true })
      await chain.dispose()
    },
  }
}
