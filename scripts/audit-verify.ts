/**
 * `npm run audit:verify [-- --did <audit DID>] [--json]`: re-walks the whole audit trail of the configured
 * deployment (same DATA_DIR / DATABASE_URL / ETHR_* settings as the service, running or not) and checks it
 * against the chain. Exit 0: intact. Exit 1: broken (the first break is printed first). Exit 2: could not
 * check (no database, chain unreachable, schema not migrated).
 *
 * Pass `--did` with the audit DID you recorded when the deployment started: otherwise the checker trusts
 * the DID the database names, and someone who can rewrite the database and send transactions could
 * anchor a forged trail under a DID of their own.
 */
import fs from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import type { DataSource } from 'typeorm'
import { verifyAuditTrail, type TrailReport } from '../src/audit/verify-trail.js'
import { connectChainForReading, type Chain } from '../src/chain/chain.js'
import { ConfigError, loadConfig } from '../src/config.js'
import { createDataSource, describeDatabase } from '../src/db/data-source.js'

function print(report: TrailReport, where: string): void {
  console.log(`audit trail in ${where}`)
  console.log(`  audit DID: ${report.did ?? '(nothing anchored yet)'}`)
  console.log(
    `  ${report.events} events checked (head at ${report.lastSeq}); batches: ${report.batches.anchored} anchored, ` +
      `${report.batches.pending} pending; ${report.unbatched} events not yet in a batch`,
  )
  if (report.ok) {
    console.log('  INTACT: every hash, link, batch root and anchor checks out')
    return
  }
  const at = (p: TrailReport['problems'][number]) =>
    p.seq !== undefined ? `event ${p.seq}` : p.batch ? `batch ${p.batch.fromSeq}-${p.batch.toSeq}` : 'trail'
  const first = report.firstBreak!
  console.log(`  BROKEN: first break at ${at(first)} [${first.check}]: ${first.detail}`)
  for (const p of report.problems.slice(1)) console.log(`    also at ${at(p)} [${p.check}]: ${p.detail}`)
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { did: { type: 'string' }, json: { type: 'boolean', default: false } } })
  const config = loadConfig(process.env)
  if (!config.databaseUrl && !fs.existsSync(path.join(config.dataDir, 'medcred.sqlite'))) {
    console.error(`no medcred database in ${config.dataDir}`)
    return 2
  }
  let chain: Chain | undefined
  let ds: DataSource | undefined
  try {
    chain = await connectChainForReading(config.chain, config.dataDir)
    ds = createDataSource(config)
    await ds.initialize()
    if (await ds.showMigrations()) {
      console.error('the database schema is not up to date (npm run migrate); nothing checked')
      return 2
    }
    const report = await verifyAuditTrail({
      manager: ds.manager,
      provider: chain.provider,
      registry: chain.registry,
      expectedDid: values.did,
    })
    if (values.json) console.log(JSON.stringify(report, null, 2))
    else print(report, `${describeDatabase(config)}, chain ${chain.chainId} (registry ${chain.registry})`)
    return report.ok ? 0 : 1
  } finally {
    await ds?.destroy().catch(() => undefined)
    await chain?.stop().catch(() => undefined)
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    if (e instanceof ConfigError) console.error(e.message)
    else console.error(`could not check the audit trail now: ${(e as Error)?.message ?? e}`)
    process.exit(2)
  },
)
