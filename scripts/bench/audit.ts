import { randomUUID } from 'node:crypto'
import type { NewAuditEvent } from '../../src/audit/types.js'
import { IssuedCredentialEntity, type IssuedCredentialRow } from '../../src/issuance/issued-credential.entity.js'
import { HolderWallet } from '../../src/holder/wallet.js'
import { verifyCredential } from '../../src/verification/verify-credential.js'
import { issueBenchLicense, msPerOp, type BenchContext, type Figure } from './harness.js'

/**
 * Issue 5: what the audit trail adds. Each figure is timed with and without the audit append in the same run:
 * - issuance: the issuing transaction's own write (the credential row) alone, and with its event appended
 *   in the same transaction (the head row lock, one insert, one update, a SHA-256);
 * - the same, eight at a time, where the head row lock serialises appenders;
 * - verification: an in-process credential verification alone, and followed by recording its event.
 * Signing, status allocation and the chain are left out of the issuance figure on purpose: they are the
 * same with or without audit and would only hide the difference.
 */
export async function benchAudit(ctx: BenchContext): Promise<Figure[]> {
  const { medcred } = ctx
  const board = (await ctx.post('/institutions', { name: 'Audit Bench Board', kind: 'board', jurisdiction: 'US-TX' }, ctx.adminToken)).body
  const actor = { type: 'institution' as const, id: board.id as string, did: board.did as string }

  const row = (): IssuedCredentialRow => ({
    id: `urn:uuid:${randomUUID()}`,
    issuerInstitutionId: board.id,
    issuerDid: board.did,
    subjectDid: 'did:key:z6MkbenchBenchBenchBenchBenchBenchBenchBench',
    type: 'ClinicianLicenseCredential',
    jwt: 'e'.repeat(900), // about a license JWT's size
    digest: 'd'.repeat(64),
    issuedAt: new Date().toISOString(),
    expiresAt: null,
  })
  const issuedEvent = (id: string): NewAuditEvent => ({
    actor,
    action: 'credential.issued',
    subject: { type: 'credential', id, issuerInstitutionId: board.id },
    outcome: 'success',
    requestId: randomUUID(),
    detail: { credentialType: 'ClinicianLicenseCredential' },
  })
  const issue = (audited: boolean) => () =>
    medcred.store.transaction(async (m) => {
      const r = row()
      await m.getRepository(IssuedCredentialEntity).insert(r)
      if (audited) await medcred.audit.append(m, issuedEvent(r.id))
    })
  const eightAtOnce = (audited: boolean) => () => Promise.all(Array.from({ length: 8 }, issue(audited)))

  const issueBaseMs = await msPerOp(issue(false), 300)
  const issueMs = await msPerOp(issue(true), 300)
  const parallelBaseMs = (await msPerOp(eightAtOnce(false), 60)) / 8
  const parallelMs = (await msPerOp(eightAtOnce(true), 60)) / 8

  const holder = await HolderWallet.create()
  const license = await issueBenchLicense(ctx, board, holder.did)
  // The bench board is in no trust registry; who signed is judged the same with or without audit, so leave it out.
  const { trustedIssuer: _untrusted, ...verifyContext } = medcred.verifyContext
  const verify = (audited: boolean) => async () => {
    const result = await verifyCredential(license, verifyContext)
    if (!result.verified) throw new Error(`the bench credential did not verify: ${JSON.stringify(result.checks.filter((c) => !c.ok))}`)
    if (audited) {
      await medcred.audit.record({
        actor: { type: 'anonymous' },
        action: 'credential.verified',
        subject: { type: 'credential', id: license.id, issuerInstitutionId: board.id },
        outcome: 'success',
        requestId: randomUUID(),
      })
    }
  }
  const verifyBaseMs = await msPerOp(verify(false), 200)
  const verifyMs = await msPerOp(verify(true), 200)

  return [
    { name: 'issuance transaction + audit append', value: issueMs, unit: 'ms', baseline: { name: 'issuance transaction, no audit', value: issueBaseMs } },
    { name: 'same, 8 at once (per transaction)', value: parallelMs, unit: 'ms', baseline: { name: 'same, no audit', value: parallelBaseMs } },
    { name: 'verify a credential + audit record', value: verifyMs, unit: 'ms', baseline: { name: 'verify, no audit', value: verifyBaseMs } },
  ]
}
