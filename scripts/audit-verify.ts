/**
 * `npm run audit:verify [-- --did <audit DID>] [--json]`: re-walks the whole audit trail of the configured
 * deployment (same DATA_DIR / DATABASE_URL / ETHR_* settings as the service, running or not) and checks it
 * against the chain. Exit 0: intact. Exit 1: broken (the first break is printed first). Exit 2: could not
 * check (no database, chain unreachable, schema not migrated). `medcred audit verify` runs the same check
 * (src/audit/check-deployment.ts), with the CLI's exit codes.
 *
 * Pass `--did` with the audit DID you recorded when the deployment started: otherwise the checker trusts
 * the DID the database names, and someone who can rewrite the database and send transactions could
 * anchor a forged trail under a DID of their own.
 */
import { parseArgs } from 'node:util'
import { checkDeployment, describeTrail } from '../src/audit/check-deployment.js'
import { ConfigError, loadConfig } from '../src/config.js'

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { did: { type: 'string' }, json: { type: 'boolean', default: false } } })
  const checked = await checkDeployment(loadConfig(process.env), values.did)
  if (checked.outcome === 'unavailable') {
    console.error(checked.message)
    return 2
  }
  if (values.json) console.log(JSON.stringify(checked.report, null, 2))
  else console.log(describeTrail(checked.report, checked.where).join('\n'))
  return checked.outcome === 'intact' ? 0 : 1
}

main().then(
  (code) => process.exit(code),
  (e) => {
    if (e instanceof ConfigError) console.error(e.message)
    else console.error(`could not check the audit trail now: ${(e as Error)?.message ?? e}`)
    process.exit(2)
  },
)
