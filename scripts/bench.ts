/**
 * `npm run bench`: the figures the issues ask for, each beside its baseline measured in the same run.
 * Runs against a real service (local anvil chain, SQLite in a temporary DATA_DIR).
 */
import { printRows, startBenchService } from './bench/harness.js'
import { benchStatus } from './bench/status.js'
import { benchAcceptOnce } from './bench/accept-once.js'
import { benchAudit } from './bench/audit.js'

const ctx = await startBenchService()
try {
  console.log(`medcred bench: node ${process.version}, ${(await import('node:os')).cpus().length} cores, SQLite, local anvil`)
  printRows('Status checks (issue 3)', await benchStatus(ctx))
  printRows('Accept once (issue 4)', await benchAcceptOnce(ctx))
  printRows('Audit trail (issue 5)', await benchAudit(ctx))
} finally {
  await ctx.dispose()
}
