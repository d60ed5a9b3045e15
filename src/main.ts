import cluster from 'node:cluster'
import { ConfigError, loadConfig, type Config } from './config.js'
import { describeDatabase } from './db/data-source.js'
import { jsonLogger } from './log.js'
import { ensureAuditIdentity } from './audit/anchor-identity.js'
import { superviseWorkers, workerAssignment, workerConfig } from './cluster.js'
import { startMedcred } from './service.js'

const log = jsonLogger()

/**
 * One process (the default on SQLite), or with WEB_CONCURRENCY > 1 a primary that forks that many HTTP
 * workers (src/cluster.ts); this file runs as both.
 */
async function main(): Promise<void> {
  const config = loadConfig(process.env)
  if (config.webConcurrency > 1 && cluster.isPrimary) return superviseWorkers(config, log)
  const assignment = workerAssignment()
  await serve(assignment ? workerConfig(config, assignment) : config, assignment?.index, assignment?.localNode)
}

/** Starts medcred and serves until SIGTERM/SIGINT; `worker` is its index among several, if it is one. */
async function serve(config: Config, worker?: number, primaryRunsLocalNode = false): Promise<void> {
  const started = Date.now()
  const primaryWorker = worker === undefined || worker === 0
  const medcred = await startMedcred(config, log, { background: primaryWorker, worker })
  const { secrets, chain } = medcred
  if (primaryWorker) {
    console.log(`medcred listening on http://localhost:${medcred.port} (public URL ${config.publicUrl})${worker === undefined ? '' : `, ${config.webConcurrency} workers`}`)
    console.log(`  database: ${describeDatabase(config)}`)
    console.log(`  chain:    ${chain.local || primaryRunsLocalNode ? 'local anvil node' : chain.rpcUrl} (chain id ${chain.chainId}), registry ${chain.registry}`)
    if (secrets.file) console.log(`  admin token: in ${secrets.file} (field adminToken)`)
    else console.log('  admin token: from ADMIN_TOKEN')
    if (secrets.adminTokenGenerated) console.log(`  generated a new admin token: ${secrets.adminToken}`)
    // The audit roots are anchored under this DID; pinning it keeps a rewritten database from naming another.
    const audit = await ensureAuditIdentity(medcred.agent, medcred.store, chain.network)
    console.log(`  audit DID: ${audit.did} (check the trail with: npm run audit:verify -- --did ${audit.did})`)
    console.log(`  ready in ${Date.now() - started} ms`)
  }

  let stopping = false
  const shutdown = async (signal: string) => {
    if (stopping) return
    stopping = true
    log.info('stopping', { signal, ...(worker !== undefined ? { worker } : {}) })
    const started = Date.now()
    await medcred.stop()
    log.info('stopped', { signal, ms: Date.now() - started, ...(worker !== undefined ? { worker } : {}) })
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
