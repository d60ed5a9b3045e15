import { ConfigError, loadConfig } from './config.js'
import { describeDatabase } from './db/data-source.js'
import { jsonLogger } from './log.js'
import { ensureAuditIdentity } from './audit/anchor-identity.js'
import { startMedcred } from './service.js'

const log = jsonLogger()

async function main(): Promise<void> {
  const started = Date.now()
  const config = loadConfig(process.env)
  const medcred = await startMedcred(config, log)
  const { secrets, chain } = medcred
  console.log(`medcred listening on http://localhost:${medcred.port} (public URL ${config.publicUrl})`)
  console.log(`  database: ${describeDatabase(config)}`)
  console.log(`  chain:    ${chain.local ? 'local anvil node' : chain.rpcUrl} (chain id ${chain.chainId}), registry ${chain.registry}`)
  if (secrets.file) console.log(`  admin token: in ${secrets.file} (field adminToken)`)
  else console.log('  admin token: from ADMIN_TOKEN')
  if (secrets.adminTokenGenerated) console.log(`  generated a new admin token: ${secrets.adminToken}`)
  // The audit roots are anchored under this DID; pinning it keeps a rewritten database from naming another.
  const audit = await ensureAuditIdentity(medcred.agent, medcred.store, chain.network)
  console.log(`  audit DID: ${audit.did} (check the trail with: npm run audit:verify -- --did ${audit.did})`)
  console.log(`  ready in ${Date.now() - started} ms`)

  let stopping = false
  const shutdown = async (signal: string) => {
    if (stopping) return
    stopping = true
    log.info('stopping', { signal })
    await medcred.stop()
    process.exit(0)
  }
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
  process.on('SIGINT', () => void shutdown('SIGINT'))
}

main().catch((e) => {
  if (e instanceof ConfigError) console.error(e.message)
  else log.error('failed to start', { error: (e as Error)?.stack ?? String(e) })
  process.exit(1)
})
