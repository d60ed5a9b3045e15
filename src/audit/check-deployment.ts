import fs from 'node:fs'
import path from 'node:path'
import type { DataSource } from 'typeorm'
import { connectChainForReading, type Chain } from '../chain/chain.js'
import type { Config } from '../config.js'
import { createDataSource, describeDatabase } from '../db/data-source.js'
import { verifyAuditTrail, type TrailReport } from './verify-trail.js'

export type DeploymentCheck =
  | { outcome: 'intact' | 'broken'; report: TrailReport; where: string }
  | { outcome: 'unavailable'; message: string }

/**
 * Re-walks the whole audit trail of the deployment `config` describes (its database and chain, the service
 * running or not) against the chain: the one code path of `npm run audit:verify` and `medcred audit verify`.
 * `expectedDid` is the audit DID recorded at the deployment's start (otherwise the database's own is trusted).
 */
export async function checkDeployment(config: Config, expectedDid?: string): Promise<DeploymentCheck> {
  if (!config.databaseUrl && !fs.existsSync(path.join(config.dataDir, 'medcred.sqlite'))) {
    return { outcome: 'unavailable', message: `no medcred database in ${config.dataDir}` }
  }
  let chain: Chain | undefined
  let ds: DataSource | undefined
  try {
    chain = await connectChainForReading(config.chain, config.dataDir)
    ds = createDataSource(config)
    await ds.initialize()
    if (await ds.showMigrations()) return { outcome: 'unavailable', message: 'the database schema is not up to date (npm run migrate); nothing checked' }
    const report = await verifyAuditTrail({ manager: ds.manager, provider: chain.provider, registry: chain.registry, expectedDid })
    return { outcome: report.ok ? 'intact' : 'broken', report, where: `${describeDatabase(config)}, chain ${chain.chainId} (registry ${chain.registry})` }
  } catch (e) {
    return { outcome: 'unavailable', message: `could not check the audit trail now: ${(e as Error)?.message ?? e}` }
  } finally {
    await ds?.destroy().catch(() => undefined)
    await chain?.stop().catch(() => undefined)
  }
}

/** The human report of a checked trail: counts, then INTACT or the first break and the others. */
export function describeTrail(report: TrailReport, where: string): string[] {
  const out = [
    `audit trail in ${where}`,
    `  audit DID: ${report.did ?? '(nothing anchored yet)'}`,
    `  ${report.events} events checked (head at ${report.lastSeq}); batches: ${report.batches.anchored} anchored, ` +
      `${report.batches.pending} pending; ${report.unbatched} events not yet in a batch`,
  ]
  if (report.ok) return [...out, '  INTACT: every hash, link, batch root and anchor checks out']
  const at = (p: TrailReport['problems'][number]) => (p.seq !== undefined ? `event ${p.seq}` : p.batch ? `batch ${p.batch.fromSeq}-${p.batch.toSeq}` : 'trail')
  const first = report.firstBreak!
  out.push(`  BROKEN: first break at ${at(first)} [${first.check}]: ${first.detail}`)
  for (const p of report.problems.slice(1)) out.push(`    also at ${at(p)} [${p.check}]: ${p.detail}`)
  return out
}
