import { HolderWallet } from '../../src/holder/wallet.js'
import { InstitutionEntity } from '../../src/institutions/institution.entity.js'
import { benchLicense, opsPerSecond, trustedBenchBoard, type BenchContext, type Figure } from './harness.js'

/**
 * Issuance in process, all of it (validation, status entries allocated in the transaction, signing in the
 * KMS, the stored row, the audit event), against signing alone with the same Veramo agent and key.
 */
export async function benchIssuance(ctx: BenchContext): Promise<Figure[]> {
  const { medcred } = ctx
  const board = await trustedBenchBoard(ctx, 'Issuance Bench Board')
  const row = await medcred.db.getRepository(InstitutionEntity).findOneByOrFail({ id: board.id })
  const holder = await HolderWallet.create()
  const actor = { type: 'institution' as const, id: row.id, did: row.did }
  const issue = await opsPerSecond(() =>
    medcred.services.issuance.issue(row, benchLicense(holder.did, row.did) as never, { actor }),
  )
  const unsigned = { ...benchLicense(holder.did, row.did), issuer: { id: row.did }, issuanceDate: new Date().toISOString() }
  const signOnly = await opsPerSecond(() => medcred.agent.createVerifiableCredential({ credential: unsigned as never, proofFormat: 'jwt', keyRef: row.signingKid ?? undefined }))
  return [
    { name: 'issuance in process: status entry, signature, row, audit event', value: issue, unit: 'ops/s', baseline: { name: 'Veramo signing alone, same key', value: signOnly }, target: '≥ 3,000/s' },
  ]
}
