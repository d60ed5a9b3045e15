import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HolderWallet } from '../src/holder/wallet.js'
import { checkTrail } from './helpers/audit.js'
import { createTestDatabase, TEST_DB, type TestDatabase } from './helpers/database.js'
import { ExternalChain } from './helpers/external-chain.js'
import { licenseCredential } from './helpers/fixtures.js'
import { startTestService, type Reply, type TestService } from './helpers/service.js'

type Board = { id: string; did: string; apiKey: string }

/**
 * 50 writers at once across two replicas on one PostgreSQL and one chain (one operator account): issuance,
 * status changes, key rotations and institution creation. Every request is answered — done, or a
 * documented 409 (a rotation already running for that institution; signing while it runs) or 503 (the DID
 * document does not list the new key yet) — no operator nonce is used twice, no status index is handed
 * out twice, the audit sequence has no gap or repeat, and the trail verifies.
 * PostgreSQL-only: on SQLite one process serves.
 */
describe.runIf(TEST_DB === 'postgres')('replicas under contention (PostgreSQL only): 50 parallel writers on two services', () => {
  let chain: ExternalChain
  let database: TestDatabase
  let a: TestService
  let b: TestService
  let boards: Board[]
  let clinician: HolderWallet
  let issuedBefore: any[]

  beforeAll(async () => {
    chain = await ExternalChain.start()
    database = await createTestDatabase()
    const env = { ...chain.env(), KMS_SECRET_KEY: randomBytes(32).toString('hex'), ADMIN_TOKEN: `admin-${randomBytes(24).toString('hex')}` }
    a = await startTestService({ database, env })
    b = await startTestService({ database, env })
    boards = []
    for (let i = 0; i < 4; i++) boards.push(await a.api.createTrustedBoard(`Board ${i}`))
    clinician = await HolderWallet.create()
    issuedBefore = []
    for (let i = 0; i < 10; i++) {
      const res = await b.api.post('/credentials/issue', { credential: licenseCredential(clinician.did) }, boards[i % 4].apiKey)
      issuedBefore.push(res.body.verifiableCredential)
    }
  }, 120_000)
  afterAll(async () => {
    await a?.stop()
    await b?.stop()
    await database?.drop()
    for (const svc of [a, b]) if (svc) fs.rmSync(svc.dataDir, { recursive: true, force: true })
    await chain?.dispose()
  })

  it('answers all 50, hands out no nonce, status index or audit sequence twice, and keeps a trail that verifies', async () => {
    const on = (i: number) => (i % 2 ? a : b)
    const writers: { kind: string; run: () => Promise<Reply> }[] = [
      ...Array.from({ length: 20 }, (_, i) => ({
        kind: 'issue',
        run: () => on(i).api.post('/credentials/issue', { credential: licenseCredential(clinician.did) }, boards[i % 4].apiKey),
      })),
      ...issuedBefore.map((vc, i) => ({
        kind: 'status',
        run: () =>
          on(i + 1).api.post('/credentials/status', { credentialId: vc.id, credentialStatus: [{ type: 'StatusList2021Entry', status: 'suspended' }] }, boards[i % 4].apiKey),
      })),
      ...Array.from({ length: 8 }, (_, i) => ({
        kind: 'rotate',
        run: () => on(i).api.post(`/institutions/${boards[i % 4].id}/keys/rotate`, { reason: 'superseded' }, boards[i % 4].apiKey),
      })),
      ...Array.from({ length: 12 }, (_, i) => ({
        kind: 'institution',
        run: () => on(i).api.post('/institutions', { name: `Hospital ${i}`, kind: 'hospital' }, a.api.adminToken),
      })),
    ]
    expect(writers).toHaveLength(50)
    const answers = await Promise.all(writers.map((w) => w.run()))

    const byKind = (kind: string) => answers.filter((_, i) => writers[i].kind === kind)
    for (const [i, res] of answers.entries()) {
      const what = `${writers[i].kind}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`
      expect([200, 201, 409, 503], what).toContain(res.status)
      if (res.status >= 400) {
        expect(res.type, what).toMatch(/^application\/problem\+json/)
        expect(['https://medcred.dev/problems/conflict', 'https://medcred.dev/problems/chain-unavailable'], what).toContain(res.body.type)
        if (res.status === 503) expect(Number(res.headers.get('retry-after')), what).toBeGreaterThan(0)
      }
    }
    // Nothing contends with creating an institution but the operator's nonce: each must succeed.
    expect(byKind('institution').map((r) => r.status)).toEqual(Array(12).fill(201))
    // Each institution's first rotation request at least gets through (the second may find it running: 409).
    expect(byKind('rotate').filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(4)

    // No operator nonce used twice: every rotation that was done has a transaction of its own, and mined.
    const txs = await Promise.all(byKind('rotate').filter((r) => r.status === 200).map((r) => a.chain.provider.getTransaction(r.body.txHash)))
    const nonces = txs.map((tx) => `${tx!.from}:${tx!.nonce}`)
    expect(new Set(nonces).size).toBe(nonces.length)

    // No status index handed out twice, across both replicas' issuances.
    const slots = byKind('issue')
      .filter((r) => r.status === 201)
      .concat(issuedBefore.map((vc) => ({ body: { verifiableCredential: vc } }) as Reply))
      .map((r) => `${r.body.verifiableCredential.credentialStatus[0].statusListCredential}#${r.body.verifiableCredential.credentialStatus[0].statusListIndex}`)
    expect(new Set(slots).size).toBe(slots.length)

    // Every write that was done is in the trail once; the sequence is 1..n with no gap or repeat.
    const seqs = (await a.db.query('SELECT "seq" FROM "medcred_audit_event" ORDER BY "seq"')).map((r: { seq: string | number }) => Number(r.seq))
    expect(seqs).toEqual(seqs.map((_: number, i: number) => i + 1))
    const issuedEvents = Number((await a.db.query(`SELECT count(*) AS n FROM "medcred_audit_event" WHERE "action" = 'credential.issued'`))[0].n)
    expect(issuedEvents).toBe(10 + byKind('issue').filter((r) => r.status === 201).length)

    const report = await checkTrail(a)
    expect(report.problems).toEqual([])
    expect(report.ok).toBe(true)
  }, 120_000)

  it('after the contention, the refused writes succeed when retried and what was issued verifies on either replica', async () => {
    for (let i = 0; i < 4; i++) {
      const res = await (i % 2 ? a : b).api.post('/credentials/issue', { credential: licenseCredential(clinician.did) }, boards[i].apiKey)
      expect(res.status).toBe(201)
      expect((await (i % 2 ? b : a).api.post('/credentials/verify', { verifiableCredential: res.body.verifiableCredential })).status).toBe(200)
    }
  })
})
