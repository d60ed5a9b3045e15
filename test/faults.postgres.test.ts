import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HolderWallet } from '../src/holder/wallet.js'
import { checkTrail } from './helpers/audit.js'
import { TEST_DB } from './helpers/database.js'
import { licenseCredential } from './helpers/fixtures.js'
import { startTestService, type Reply, type TestService } from './helpers/service.js'

/**
 * PostgreSQL drops every connection of medcred's database while requests are in flight (what a restart or
 * a failover does to a client): each request is answered cleanly — done, or a problem+json 503 with
 * Retry-After (never a stack) — and the service recovers by itself, without a restart. PostgreSQL-only:
 * SQLite has no server to lose.
 */
describe.runIf(TEST_DB === 'postgres')('faults (PostgreSQL only): the database drops its connections under load', () => {
  let svc: TestService
  let board: { id: string; did: string; apiKey: string }
  let clinician: HolderWallet
  let license: any
  let admin: pg.Client

  beforeAll(async () => {
    svc = await startTestService()
    board = await svc.api.createTrustedBoard('Board')
    clinician = await HolderWallet.create()
    license = (await svc.api.post('/credentials/issue', { credential: licenseCredential(clinician.did) }, board.apiKey)).body.verifiableCredential
    admin = new pg.Client({ connectionString: process.env.MEDCRED_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test' })
    await admin.connect()
  }, 60_000)
  afterAll(async () => {
    await admin?.end()
    await svc?.dispose()
  })

  const database = () => new URL(svc.database.url!).pathname.slice(1)
  async function terminateAll(): Promise<number> {
    const rows = await admin.query('SELECT pg_terminate_backend(pid) AS t FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database()])
    return rows.rowCount ?? 0
  }

  const load = (i: number): Promise<Reply> => {
    switch (i % 4) {
      case 0:
        return svc.api.post('/credentials/issue', { credential: licenseCredential(clinician.did) }, board.apiKey)
      case 1:
        return svc.api.post('/credentials/verify', { verifiableCredential: license })
      case 2:
        return svc.api.get('/trust/issuers', board.apiKey)
      default:
        return svc.api.get('/audit/events?limit=5', svc.api.adminToken)
    }
  }

  function expectClean(res: Reply) {
    if (res.status < 400) return
    expect(res.type).toMatch(/^application\/problem\+json/)
    expect(res.body).toMatchObject({ type: expect.any(String), title: expect.any(String), status: res.status, detail: expect.any(String) })
    expect(JSON.stringify(res.body)).not.toMatch(/\bat .*\.(ts|js):\d+|QueryFailedError|terminating connection/)
    const logged = svc.logs.filter((l) => l.includes(String(res.body.requestId))).join('').slice(0, 3000)
    expect(res.status, logged).toBe(503)
    expect(res.body.type).toBe('https://medcred.dev/problems/database-unavailable')
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0)
  }

  it('answers every request in flight cleanly while its connections are terminated, and recovers without a restart', async () => {
    const answers: Reply[] = []
    let terminated = 0
    for (let round = 0; round < (Number(process.env.FAULT_ROUNDS) || 5); round++) {
      const inFlight = Array.from({ length: 16 }, (_, i) => load(round * 16 + i))
      terminated += await terminateAll()
      answers.push(...(await Promise.all(inFlight)))
    }
    expect(terminated).toBeGreaterThan(0)
    for (const res of answers) expectClean(res)

    // Recovered: the same mix succeeds, on fresh connections, with nothing restarted.
    const after = await Promise.all(Array.from({ length: 16 }, (_, i) => load(i)))
    expect(after.map((r) => r.status).sort()).toEqual([...Array(4).fill(200), ...Array(4).fill(200), ...Array(4).fill(200), ...Array(4).fill(201)].sort())
    expect((await svc.api.get('/health')).body).toMatchObject({ db: 'ok' })
  })

  it('keeps every issued credential whole: each stored one is in the audit trail, which verifies', async () => {
    const report = await checkTrail(svc)
    expect(report.problems).toEqual([])
    expect(report.ok).toBe(true)
    const issued = Number((await svc.db.query('SELECT count(*) AS n FROM "medcred_issued_credential"'))[0].n)
    const events = Number((await svc.db.query(`SELECT count(*) AS n FROM "medcred_audit_event" WHERE "action" = 'credential.issued'`))[0].n)
    expect(events).toBe(issued)
  })
})
