import { HolderWallet } from '../../src/holder/wallet.js'
import { verifyCredential } from '../../src/verification/verify-credential.js'
import { issueBenchLicense, msPerOp, opsPerSecond, trustedBenchBoard, type BenchContext, type Figure } from './harness.js'

/**
 * What the status check costs: the same credential verified in process with the full context (the list's
 * version read from the database, each version verified once) and with no status check; then when the
 * list changes before every verification (each must see the new version).
 */
export async function benchStatus(ctx: BenchContext): Promise<Figure[]> {
  const board = await trustedBenchBoard(ctx, 'Status Bench Board')
  const holder = await HolderWallet.create()
  const license = await issueBenchLicense(ctx, board, holder.did)
  const full = ctx.medcred.verifyContext
  const { status: _status, ...withoutStatus } = full
  const mustVerify = (c: typeof full) => async () => {
    const result = await verifyCredential(license, c)
    if (!result.verified) throw new Error('bench credential did not verify')
  }
  const withStatus = await opsPerSecond(mustVerify(full))
  const noStatus = await opsPerSecond(mustVerify(withoutStatus))
  const churn = await issueBenchLicense(ctx, board, holder.did, 'B-2')
  let suspended = false
  const changed = await msPerOp(async () => {
    suspended = !suspended
    const res = await ctx.post('/credentials/status', { credentialId: churn.id, credentialStatus: [{ type: 'StatusList2021Entry', status: suspended ? 'suspended' : 'active' }] }, board.apiKey)
    if (res.status !== 200) throw new Error(`bench status change failed: ${JSON.stringify(res.body)}`)
    await mustVerify(full)()
  }, 20)
  return [
    { name: 'verify a license with its status check', value: withStatus, unit: 'ops/s', baseline: { name: 'no status check', value: noStatus } },
    { name: 'status change (list re-signed) then verify', value: changed, unit: 'ms', baseline: { name: 'verify alone', value: 1000 / withStatus } },
  ]
}
