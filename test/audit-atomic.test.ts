import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AuditAnchorer } from '../src/audit/anchor-worker.js'
import { AuditEventEntity } from '../src/audit/audit-event.entity.js'
import { AuditLog } from '../src/audit/audit-log.js'
import { appendAuditEvent } from '../src/audit/append.js'
import { RegistryWriter } from '../src/chain/registry-writer.js'
import { createDataSource } from '../src/db/data-source.js'
import { Database } from '../src/db/database.js'
import { IssuedCredentialEntity, type IssuedCredentialRow } from '../src/issuance/issued-credential.entity.js'
import { TEST_DB } from './helpers/database.js'
import { auditEvent, batches, checkTrail, waitFor } from './helpers/audit.js'
import { startTestService, type TestService } from './helpers/service.js'

/**
 * The append contract: an event commits with the change it records or not at all, and sequence numbers
 * stay gap-free under concurrency (one process on SQLite; several "replicas" on PostgreSQL).
 */
describe('audit append: atomic with the change, gap-free', () => {
  let svc: TestService
  let board: { id: string; did: string }
  let n = 0

  const credentialRow = (): IssuedCredentialRow =>
    ({
      id: `urn:uuid:00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
      issuerInstitutionId: board.id,
      issuerDid: board.did,
      subjectDid: 'did:key:z6MkexampleExampleExample',
      type: 'ClinicianLicenseCredential',
      jwt: 'x.y.z',
      digest: 'd'.repeat(64),
      issuedAt: new Date().toISOString(),
      expiresAt: null,
    }) as IssuedCredentialRow

  /** An issuance-shaped transaction: the credential row, then its audit event, last. */
  const issueInTx = (row: IssuedCredentialRow, after?: () => void) =>
    svc.store.transaction(async (m) => {
      await m.getRepository(IssuedCredentialEntity).insert(row)
      const event = await svc.audit.append(m, {
        actor: { type: 'institution', id: board.id, did: board.did },
        action: 'credential.issued',
        subject: { type: 'credential', id: row.id, issuerInstitutionId: board.id },
        outcome: 'success',
      })
      after?.()
      return event
    })

  const eventCount = () => svc.db.getRepository(AuditEventEntity).count()
  const seqs = async () => (await svc.db.getRepository(AuditEventEntity).find({ order: { seq: 'ASC' } })).map((e) => e.seq)

  beforeAll(async () => {
    svc = await startTestService({ env: { AUDIT_ANCHOR_EVERY: '1000', AUDIT_ANCHOR_SECONDS: '3600' } })
    board = await svc.api.createInstitution({ name: 'Texas Medical Board', kind: 'board', jurisdiction: 'US-TX' })
  })
  afterAll(async () => {
    await svc?.dispose()
  })

  it('a committed issuance always has its event, with the next sequence number, chained to the last', async () => {
    const before = await eventCount()
    const row = credentialRow()
    const event = await issueInTx(row)
    expect(event.seq).toBe(before + 1)
    const stored = await svc.db.getRepository(AuditEventEntity).findOneByOrFail({ seq: event.seq })
    expect(stored).toMatchObject({ subjectId: row.id, action: 'credential.issued', hash: event.hash, prevHash: event.prevHash })
    expect(await svc.db.getRepository(IssuedCredentialEntity).existsBy({ id: row.id })).toBe(true)
  })

  it('an issuance whose transaction throws after appending leaves neither the credential nor the event', async () => {
    const before = await eventCount()
    const row = credentialRow()
    await expect(
      issueInTx(row, () => {
        throw new Error('signing store went away')
      }),
    ).rejects.toThrow(/signing store went away/)
    expect(await eventCount()).toBe(before)
    expect(await svc.db.getRepository(IssuedCredentialEntity).existsBy({ id: row.id })).toBe(false)
  })

  it('a change that fails in the database (duplicate id) takes its appended event down with it', async () => {
    const row = credentialRow()
    await issueInTx(row)
    const before = await eventCount()
    await expect(
      svc.store.transaction(async (m) => {
        await svc.audit.append(m, auditEvent(1))
        await m.getRepository(IssuedCredentialEntity).insert(row) // primary key violation
      }),
    ).rejects.toThrow()
    expect(await eventCount()).toBe(before)
  })

  it('a rolled-back transaction hands its sequence number back: no gap', async () => {
    const all = await seqs()
    expect(all).toEqual(all.map((_, i) => i + 1))
    const next = await svc.audit.record(auditEvent(2))
    expect(next.seq).toBe(all.length + 1)
  })

  it('a malformed event rolls the change back (it is a programming error), naming the field', async () => {
    const before = await eventCount()
    const row = credentialRow()
    await expect(
      svc.store.transaction(async (m) => {
        await m.getRepository(IssuedCredentialEntity).insert(row)
        await svc.audit.append(m, { ...auditEvent(3), action: 'Issued Credential' })
      }),
    ).rejects.toThrow(/invalid audit event: action/)
    expect(await eventCount()).toBe(before)
    expect(await svc.db.getRepository(IssuedCredentialEntity).existsBy({ id: row.id })).toBe(false)
  })

  it.each([
    ['an unknown actor type', { actor: { type: 'root' } }, /actor\.type/],
    ['an unknown outcome', { outcome: 'maybe' }, /outcome/],
    ['a nested detail (documents do not belong in the trail)', { detail: { patient: { name: 'Sam' } } }, /detail/],
    ['a NUL in an id', { subject: { type: 'credential', id: 'a\u0000b' } }, /subject\.id/],
    ['an extra member', { patientName: 'Sam' }, /unrecognized|patientName/i],
    ['a detail over 2000 characters', { detail: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, 'x'.repeat(250)])) }, /2000/],
  ])('refuses %s', async (_name, over, message) => {
    await expect(svc.audit.record({ ...auditEvent(4), ...(over as object) })).rejects.toThrow(message)
  })

  it('refuses to append outside a transaction, where the event could commit without its change', async () => {
    await expect(appendAuditEvent(svc.store, svc.db.manager, auditEvent(5))).rejects.toThrow(/open transaction/)
  })

  it('keeps sequence numbers gap-free and the chain intact under 40 concurrent appends, some rolled back', async () => {
    const before = await eventCount()
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) =>
        svc.store.transaction(async (m) => {
          await svc.audit.append(m, auditEvent(100 + i))
          if (i % 5 === 0) throw new Error('rolled back')
        }),
      ),
    )
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(8)
    expect(await eventCount()).toBe(before + 32)
    const all = await seqs()
    expect(all).toEqual(all.map((_, i) => i + 1))
    expect((await checkTrail(svc)).ok).toBe(true)
  })

  it.runIf(TEST_DB === 'postgres')('stays gap-free with two replicas (two connection pools) appending and cutting batches at once', async () => {
    const ds2 = createDataSource({ databaseUrl: svc.database.url, dataDir: svc.dataDir })
    await ds2.initialize()
    try {
      const replica2 = new AuditLog(new Database(ds2), { chainId: svc.chain.chainId, registry: svc.chain.registry })
      const before = await eventCount()
      await Promise.all(
        Array.from({ length: 30 }, (_, i) => (i % 2 ? svc.audit : replica2).record(auditEvent(200 + i, { requestId: `replica-${i % 2}` }))),
      )
      expect(await eventCount()).toBe(before + 30)
      const all = await seqs()
      expect(all).toEqual(all.map((_, i) => i + 1))

      // two anchorers, one per replica, racing over the same events: every batch cut once, anchored once, in order
      const rule = { every: 7, seconds: 3600 }
      const anchorer = (db: Database) =>
        new AuditAnchorer({ db, agent: svc.agent, chain: svc.chain, registry: new RegistryWriter({ agent: svc.agent, chain: svc.chain, db }), rule, log: { error: () => {} } })
      const a1 = anchorer(svc.store)
      const a2 = anchorer(new Database(ds2))
      await Promise.all([a1.runOnce(), a2.runOnce(), a1.runOnce(), a2.runOnce()])
      // An anchoring attempt may fail under load (a transaction not mined in time); it is released and the
      // next run retries it. What must hold is that every batch ends anchored, once, in order.
      const cut = await waitFor('every batch anchored', async () => {
        await a1.runOnce()
        await a2.runOnce()
        const now = await batches(svc)
        return now.length === Math.floor(all.length / 7) && now.every((b) => b.status === 'anchored') && now
      }, 45_000)
      cut.forEach((b, i) => expect([b.fromSeq, b.toSeq, b.status]).toEqual([i * 7 + 1, i * 7 + 7, 'anchored']))
      const report = await checkTrail(svc)
      expect(report.problems).toEqual([])
    } finally {
      await ds2.destroy()
    }
  }, 60_000)
})
