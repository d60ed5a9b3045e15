import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { knownError } from '../src/api/problem.js'
import { createDataSource } from '../src/db/data-source.js'
import { checkTrail, waitFor } from './helpers/audit.js'
import { TEST_DB } from './helpers/database.js'
import { FaultLoad, type Sent } from './helpers/fault-load.js'
import { startTestService, type TestService } from './helpers/service.js'

/**
 * PostgreSQL drops every connection of medcred's database while requests are in flight (what a restart or
 * a failover does to a client): each request is answered cleanly — done, or a problem+json 503 with
 * Retry-After (never a stack) — and the service recovers by itself, without a restart. PostgreSQL-only:
 * SQLite has no server to lose. (A real stop and start of the server: faults.postgres-restart.test.ts.)
 */
describe.runIf(TEST_DB === 'postgres')('faults (PostgreSQL only): the database drops its connections under load', () => {
  let svc: TestService
  let load: FaultLoad
  let admin: pg.Client

  beforeAll(async () => {
    svc = await startTestService()
    load = await FaultLoad.prepare(svc)
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

  it('answers every request in flight cleanly while its connections are terminated, and recovers without a restart', async () => {
    const answers: Sent[] = []
    let terminated = 0
    for (let round = 0; round < (Number(process.env.FAULT_ROUNDS) || 5); round++) {
      const inFlight = Array.from({ length: 16 }, (_, i) => load.send(round * 16 + i))
      terminated += await terminateAll()
      answers.push(...(await Promise.all(inFlight)))
    }
    expect(terminated).toBeGreaterThan(0)
    for (const sent of answers) load.expectClean(sent)

    // Recovered: the same mix succeeds, on fresh connections, with nothing restarted.
    load.expectAllSucceeded(await Promise.all(Array.from({ length: 16 }, (_, i) => load.send(i))))
    expect((await svc.api.get('/health')).body).toMatchObject({ db: 'ok' })
  })

  it('reports a connection lost between two statements of a transaction as the database unavailable, not an internal error', async () => {
    const failure = await svc.store
      .transaction(async (m) => {
        const [{ pid }] = await m.query('SELECT pg_backend_pid() AS pid')
        await admin.query('SELECT pg_terminate_backend($1)', [pid])
        // The loss arrives while the transaction is idle: node-postgres reports it as an event, and TypeORM
        // releases the transaction's connection before its next statement.
        await waitFor('the connection lost', async () => m.queryRunner!.isReleased)
        await m.query('SELECT 1')
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      )
    expect(knownError(failure)?.code, String(failure)).toBe('database-unavailable')
  })

  it('survives sessions terminated just as the pool hands them out: no error event goes unheard (it would end the process)', async () => {
    const ds = createDataSource({ databaseUrl: svc.database.url, dataDir: svc.dataDir })
    await ds.initialize()
    const uncaught: unknown[] = []
    const onUncaught = (e: unknown) => uncaught.push(e)
    process.on('uncaughtException', onUncaught)
    try {
      let done = false
      const terminating = (async () => {
        while (!done) await terminateAll()
      })()
      const until = Date.now() + 2000
      await Promise.all(
        Array.from({ length: 10 }, async () => {
          while (Date.now() < until) await ds.query('SELECT 1').catch(() => undefined)
        }),
      )
      done = true
      await terminating
    } finally {
      process.off('uncaughtException', onUncaught)
      await ds.destroy().catch(() => undefined)
    }
    expect(uncaught.map(String)).toEqual([])
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
