import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AuditAnchorEntity, type AuditAnchorRow } from '../src/audit/audit-anchor.entity.js'
import { AuditEventEntity, type AuditEventRow } from '../src/audit/audit-event.entity.js'
import { AUDIT_HEAD_ID, AuditHeadEntity } from '../src/audit/audit-head.entity.js'
import { eventHash } from '../src/audit/event-hash.js'
import { merkleRoot } from '../src/audit/merkle.js'
import { fromRow } from '../src/audit/new-event.js'
import { batches, checkTrail, recordEvents, runAuditVerifyCli } from './helpers/audit.js'
import { startTestService, type TestService } from './helpers/service.js'

/**
 * Someone with write access to the database edits or deletes audit rows behind the service's back.
 * The checker (in process and as `npm run audit:verify`, beside the running service) says exactly where.
 * Each test restores what it changed.
 */
describe('tampering with stored audit events', () => {
  let svc: TestService
  const events = () => svc.db.getRepository(AuditEventEntity)
  /** Direct writes, through the service's write gate so SQLite's one connection is not shared mid-transaction. */
  const tamper = (fn: () => Promise<unknown>) => svc.store.write(fn)

  beforeAll(async () => {
    svc = await startTestService({ env: { AUDIT_ANCHOR_EVERY: '5', AUDIT_ANCHOR_SECONDS: '3600' } })
    await recordEvents(svc, 12)
    await svc.auditAnchorer.runOnce()
    const cut = await batches(svc)
    expect(cut.map((b) => [b.fromSeq, b.toSeq, b.status])).toEqual([
      [1, 5, 'anchored'],
      [6, 10, 'anchored'],
    ])
  })
  afterAll(async () => {
    await svc?.dispose()
  })

  it('finds the untouched trail intact: 12 events, two anchored batches, two events waiting', async () => {
    const report = await checkTrail(svc)
    expect(report).toMatchObject({ ok: true, events: 12, lastSeq: 12, batches: { anchored: 2, pending: 0 }, unbatched: 2, problems: [] })
    expect(report.did).toMatch(/^did:ethr:/)
  })

  it('reports the edited event, and only it, when one stored row is edited', async () => {
    const original = await events().findOneByOrFail({ seq: 7 })
    await tamper(() => events().update({ seq: 7 }, { action: 'credential.revoked' }))
    try {
      const report = await checkTrail(svc)
      expect(report.ok).toBe(false)
      expect(report.firstBreak).toMatchObject({ check: 'event-hash', seq: 7 })
      expect(report.problems).toHaveLength(1)
    } finally {
      await tamper(() => events().update({ seq: 7 }, { action: original.action }))
    }
    expect((await checkTrail(svc)).ok).toBe(true)
  })

  it('reports an edit to a column that only scopes reads (the subject issuer), too', async () => {
    await tamper(() => events().update({ seq: 11 }, { subjectIssuerInstitutionId: 'inst-mallory' }))
    try {
      expect((await checkTrail(svc)).firstBreak).toMatchObject({ check: 'event-hash', seq: 11 })
    } finally {
      await tamper(() => events().update({ seq: 11 }, { subjectIssuerInstitutionId: 'inst-a' }))
    }
  })

  it('reports the gap when one stored row is deleted', async () => {
    const row = await events().findOneByOrFail({ seq: 4 })
    await tamper(() => events().delete({ seq: 4 }))
    try {
      const report = await checkTrail(svc)
      expect(report.firstBreak).toMatchObject({ check: 'sequence-gap', seq: 4 })
      expect(report.firstBreak!.detail).toMatch(/events 4 are missing/)
      // and the batch the event was anchored in no longer has its root
      expect(report.problems.map((p) => p.check)).toEqual(['sequence-gap', 'batch-root'])
    } finally {
      await tamper(() => events().insert(row))
    }
    expect((await checkTrail(svc)).ok).toBe(true)
  })

  it('reports the missing end when the newest event is deleted (the head remembers it)', async () => {
    const row = await events().findOneByOrFail({ seq: 12 })
    await tamper(() => events().delete({ seq: 12 }))
    try {
      expect((await checkTrail(svc)).firstBreak).toMatchObject({ check: 'sequence-gap', seq: 12 })
    } finally {
      await tamper(() => events().insert(row))
    }
  })

  it('catches a full rewrite (event re-hashed, every later link, the head and the batch root recomputed) on chain', async () => {
    const saved = await events().find({ order: { seq: 'ASC' } })
    const savedBatch = await svc.db.getRepository(AuditAnchorEntity).findOneByOrFail({ fromSeq: 6 })
    const savedHead = await svc.db.getRepository(AuditHeadEntity).findOneByOrFail({ id: AUDIT_HEAD_ID })
    await tamper(() => rewriteFrom(svc, saved, 8, { action: 'credential.suspended' }))
    try {
      const report = await checkTrail(svc)
      expect(report.firstBreak).toMatchObject({ check: 'anchor', batch: { fromSeq: 6, toSeq: 10 } })
      // and the real root for 6-10 is still on chain, unknown to the rewritten database
      expect(report.problems.map((p) => [p.check, p.batch?.fromSeq])).toEqual([
        ['anchor', 6],
        ['anchor-history', 6],
      ])
    } finally {
      await tamper(async () => {
        for (const row of saved.filter((r) => r.seq >= 8)) await events().update({ seq: row.seq }, row)
        await svc.db.getRepository(AuditAnchorEntity).update({ fromSeq: 6 }, { root: savedBatch.root })
        await svc.db.getRepository(AuditHeadEntity).update({ id: AUDIT_HEAD_ID }, { lastHash: savedHead.lastHash })
      })
    }
    expect((await checkTrail(svc)).ok).toBe(true)
  })

  it('catches a deleted batch record: the chain holds an anchor the database lacks', async () => {
    const batch = await svc.db.getRepository(AuditAnchorEntity).findOneByOrFail({ fromSeq: 6 })
    await tamper(() => svc.db.getRepository(AuditAnchorEntity).delete({ fromSeq: 6 }))
    try {
      const report = await checkTrail(svc)
      expect(report.firstBreak).toMatchObject({ check: 'anchor-history', batch: { fromSeq: 6, toSeq: 10 } })
    } finally {
      await tamper(() => svc.db.getRepository(AuditAnchorEntity).insert(batch as AuditAnchorRow))
    }
  })

  it('npm run audit:verify, beside the running service: exit 0 when intact, 1 naming the event when edited', async () => {
    const intact = await runAuditVerifyCli(svc)
    expect(intact.stderr).not.toMatch(/could not check/)
    expect(intact.code).toBe(0)
    expect(intact.stdout).toMatch(/INTACT/)
    expect(intact.stdout).toMatch(/12 events checked/)

    const original = await events().findOneByOrFail({ seq: 9 })
    await tamper(() => events().update({ seq: 9 }, { outcome: 'failure' }))
    try {
      const broken = await runAuditVerifyCli(svc, ['--json'])
      expect(broken.code).toBe(1)
      expect(JSON.parse(broken.stdout).firstBreak).toMatchObject({ check: 'event-hash', seq: 9 })
      const human = await runAuditVerifyCli(svc)
      expect(human.stdout).toMatch(/BROKEN: first break at event 9 \[event-hash\]/)
    } finally {
      await tamper(() => events().update({ seq: 9 }, { outcome: original.outcome }))
    }
    // the service's chain node is still the one it started (the checker used it, did not replace it)
    expect(await svc.chain.provider.getBlockNumber()).toBeGreaterThan(0)
  }, 60_000)

  it('insists on the audit DID it is given (--did): anchors by any other DID do not count', async () => {
    const other = 'did:ethr:0x7a69:0x000000000000000000000000000000000000dEaD'
    const res = await runAuditVerifyCli(svc, ['--json', '--did', other])
    expect(res.code).toBe(1)
    expect(JSON.parse(res.stdout).firstBreak).toMatchObject({ check: 'anchor-did' })
  }, 30_000)
})

/** What an attacker with database access would do: change one event and recompute everything after it. */
async function rewriteFrom(svc: TestService, rows: AuditEventRow[], seq: number, change: Partial<AuditEventRow>): Promise<void> {
  const repo = svc.db.getRepository(AuditEventEntity)
  let prevHash = rows.find((r) => r.seq === seq - 1)!.hash
  const hashes = new Map<number, string>()
  for (const row of rows.filter((r) => r.seq >= seq)) {
    const edited = { ...row, ...(row.seq === seq ? change : {}), prevHash }
    const hash = eventHash(fromRow(edited), prevHash)
    await repo.update({ seq: row.seq }, { ...(row.seq === seq ? change : {}), prevHash, hash })
    hashes.set(row.seq, hash)
    prevHash = hash
  }
  await svc.db.getRepository(AuditHeadEntity).update({ id: AUDIT_HEAD_ID }, { lastHash: prevHash })
  const all = await repo.find({ where: {}, order: { seq: 'ASC' } })
  const root = merkleRoot(all.filter((r) => r.seq >= 6 && r.seq <= 10).map((r) => r.hash))
  await svc.db.getRepository(AuditAnchorEntity).update({ fromSeq: 6 }, { root })
}
