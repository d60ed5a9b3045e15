import { HolderWallet } from '../../src/holder/wallet.js'
import { verifyCredential } from '../../src/verification/verify-credential.js'
import { issueBenchLicense, timeIt, type BenchContext, type Row } from './harness.js'

/**
 * Issue 3: what the status check costs. The same credential verified in-process with the full context
 * (status list read from the database, its signature checked once per list version) and with no status
 * check; then after a revocation, when every verification must see the new list version.
 */
export async function benchStatus(ctx: BenchContext): Promise<Row[]> {
  const board = (await ctx.post('/institutions', { name: 'Bench Board', kind: 'board', jurisdiction: 'US-TX' }, ctx.adminToken)).body
  await ctx.post('/trust/issuers', { did: board.did, credentialTypes: ['ClinicianLicenseCredential'], jurisdictions: ['US-TX'] }, ctx.adminToken)
  const holder = await HolderWallet.create()
  const license = await issueBenchLicense(ctx, board.apiKey, holder.did)
  const full = ctx.medcred.verifyContext
  const { status: _status, ...withoutStatus } = full
  const mustVerify = (expected: boolean) => async (c: typeof full) => {
    const result = await verifyCredential(license, c)
    if (result.verified !== expected) throw new Error(`bench credential verified=${result.verified}, expected ${expected}`)
  }
  const withStatusMs = await timeIt(() => mustVerify(true)(full))
  const withoutStatusMs = await timeIt(() => mustVerify(true)(withoutStatus))
  const httpMs = await timeIt(() => ctx.post('/credentials/verify', { verifiableCredential: license }))

  // A second credential whose list changes between every verification: the worst case, a fresh list each time.
  const churn = await issueBenchLicense(ctx, board.apiKey, holder.did, 'B-2')
  let suspended = false
  const changedListMs = await timeIt(
    async () => {
      suspended = !suspended
      await ctx.post('/credentials/status', { credentialId: churn.id, credentialStatus: [{ type: 'StatusList2021Entry', status: suspended ? 'suspended' : 'active' }] }, board.apiKey)
      await verifyCredential(license, full)
    },
    40,
    4,
  )
  return [
    { name: 'verify license, with status check', ms: withStatusMs, baseline: 'verify license, no status check', baselineMs: withoutStatusMs },
    { name: 'POST /credentials/verify (HTTP, with status)', ms: httpMs, baseline: 'in-process verify, with status', baselineMs: withStatusMs },
    { name: 'status change + verify (list re-signed)', ms: changedListMs, baseline: 'verify, list unchanged', baselineMs: withStatusMs },
  ]
}
