import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { batches, checkTrail, waitFor } from './helpers/audit.js'
import { TEST_DB, createPostgresDatabase } from './helpers/database.js'
import { FaultLoad, type Sent } from './helpers/fault-load.js'
import { privatePostgresUnavailable, startPrivatePostgres, type PrivatePostgres } from './helpers/private-postgres.js'
import { startTestService, type Reply, type TestService } from './helpers/service.js'
import { WebhookListener } from './helpers/webhook-listener.js'

/** Clients sending the mix at once, and the most requests they send in all (the load always ends). */
const CLIENTS = 6
const MAX_REQUESTS = 3000
/** How long the server stays down each time: long enough for requests to meet a refused connection. */
const DOWN_MS = 400
const RESTARTS = 2

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * The PostgreSQL server itself stops (fast shutdown: sessions terminated, then connections refused), stays
 * down a moment and starts again, twice, while medcred is under load: every request is answered cleanly —
 * done, or a 503 `database-unavailable` with Retry-After — and medcred, never restarted, serves again
 * afterwards, its background workers included; nothing is half-written. The server is the test's own
 * (see helpers/private-postgres.ts): stopping the shared one would fail every other test file running.
 * PostgreSQL-only: SQLite has no server to lose.
 */
const unavailable = TEST_DB === 'postgres' ? privatePostgresUnavailable() : undefined
// In CI (MEDCRED_REQUIRE_PG=1) this test must run: a machine that cannot start the server fails it. Elsewhere
// (say, not root) it is left out, loudly.
const required = process.env.MEDCRED_REQUIRE_PG === '1'
if (unavailable && !required) console.warn(`!! faults.postgres-restart left out: it needs a private PostgreSQL server, which cannot run here: ${unavailable}`)

describe.runIf(TEST_DB === 'postgres' && (!unavailable || required))('faults (PostgreSQL only): the database server restarts under load', () => {

  let server: PrivatePostgres
  let svc: TestService
  let load: FaultLoad
  let listener: WebhookListener
  const answers: Sent[] = []

  beforeAll(async () => {
    if (unavailable) throw new Error(`a private PostgreSQL server cannot run here: ${unavailable}`)
    server = await startPrivatePostgres()
    // Anchoring and webhook polling run often, so both workers meet the outage.
    svc = await startTestService({ database: await createPostgresDatabase(server.url()), env: { AUDIT_ANCHOR_SECONDS: '1', AUDIT_ANCHOR_EVERY: '25', WEBHOOK_POLL_MS: '50' } })
    load = await FaultLoad.prepare(svc)
    listener = await WebhookListener.start()
  }, 60_000)
  afterAll(async () => {
    await listener?.close()
    try {
      // A test that failed mid-restart may have left the server stopped; dropping the database needs it.
      if (server && !server.running) await server.start()
      await svc?.dispose()
    } finally {
      await server?.dispose()
    }
  })

  /** CLIENTS clients send the mix, each its next request once answered, until `done` is set. */
  async function loadWhile(done: () => boolean): Promise<void> {
    let next = 0
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (!done() && next < MAX_REQUESTS) answers.push(await load.send(next++))
      }),
    )
  }

  /** The error code a new connection to the server meets (ECONNREFUSED: down, not merely slow); undefined if it connects. */
  async function refused(): Promise<string | undefined> {
    const client = new pg.Client({ connectionString: server.url(), connectionTimeoutMillis: 5000 })
    try {
      await client.connect()
      return undefined
    } catch (e) {
      return String((e as { code?: string }).code)
    } finally {
      await client.end().catch(() => undefined)
    }
  }

  it('answers every request cleanly while the server stops, refuses connections and starts again, and serves again without a restart', async () => {
    const whileDown: { refused?: string; health: Reply }[] = []
    let restarted = false
    const restarts = (async () => {
      for (let r = 0; r < RESTARTS; r++) {
        const before = answers.length
        await waitFor('requests answered by the running server', async () => answers.length >= before + 2 * CLIENTS)
        await server.stop()
        whileDown.push({ refused: await refused(), health: await svc.api.get('/health') })
        await sleep(DOWN_MS)
        await server.start()
      }
      const before = answers.length
      await waitFor('requests answered after the last start', async () => answers.length >= before + 4 * CLIENTS)
      restarted = true
    })()
    await Promise.all([loadWhile(() => restarted), restarts.finally(() => (restarted = true))])

    expect(whileDown).toHaveLength(RESTARTS)
    for (const down of whileDown) {
      expect(down.refused).toBe('ECONNREFUSED')
      expect(down.health.status).toBe(503)
      expect(down.health.body).toMatchObject({ status: 'degraded', db: 'unreachable' })
    }
    for (const sent of answers) load.expectClean(sent)
    // The outage was felt (else this test proves nothing), and every failure was a clean 503.
    expect(answers.filter((s) => s.res?.status === 503).length).toBeGreaterThan(0)

    // Served again: the same mix succeeds, with medcred never restarted.
    load.expectAllSucceeded(await Promise.all(Array.from({ length: 16 }, (_, i) => load.send(i))))
    const health = await svc.api.get('/health')
    expect(health.status).toBe(200)
    expect(health.body).toMatchObject({ status: 'ok', db: 'ok', migrations: 'ok' })
  }, 60_000)

  it('half-writes no credential: each answered 201 is stored and verifies, each answered 503 is issued exactly once on retry', async () => {
    const issues = answers.filter((s) => s.kind === 'issue')
    const ids = new Set<string>()
    for (const sent of issues) {
      const retried = await load.sendIssue(sent.issue!)
      expect(retried.status, JSON.stringify(retried.body)).toBe(201)
      const id = retried.body.verifiableCredential.id as string
      // Answered 201 before: the retry replays that very credential. Answered 503: this retry issued it,
      // and retrying once more replays it rather than issuing a second one.
      if (sent.res!.status === 201) expect(id).toBe(sent.res!.body.verifiableCredential.id)
      else expect((await load.sendIssue(sent.issue!)).body.verifiableCredential.id).toBe(id)
      ids.add(id)
      const verified = await svc.api.post('/credentials/verify', { verifiableCredential: retried.body.verifiableCredential })
      expect(verified.status, JSON.stringify(verified.body)).toBe(200)
    }
    expect(ids.size).toBe(issues.length)
    const stored = await svc.db.query('SELECT "id" FROM "medcred_issued_credential" WHERE "issuerInstitutionId" = $1', [load.board.id])
    // One per key sent (during the outage and after it), plus the license issued before it.
    expect(stored.length).toBe(load.issuesSent + 1)
    const storedIds = new Set(stored.map((r: { id: string }) => r.id))
    for (const id of ids) expect(storedIds.has(id)).toBe(true)
  }, 60_000)

  it('keeps the audit trail whole, and its anchoring worker anchors again after the outage', async () => {
    const issued = Number((await svc.db.query('SELECT count(*) AS n FROM "medcred_issued_credential"'))[0].n)
    const events = Number((await svc.db.query(`SELECT count(*) AS n FROM "medcred_audit_event" WHERE "action" = 'credential.issued'`))[0].n)
    expect(events).toBe(issued)
    // The background worker (not a test's runOnce) cuts and anchors what the outage left.
    const lastSeq = await svc.audit.lastSeq()
    await waitFor('the trail anchored up to the last event', async () => {
      const cut = await batches(svc)
      return cut.length > 0 && cut.every((b) => b.status === 'anchored') && cut.at(-1)!.toSeq >= lastSeq
    }, 30_000)
    const report = await checkTrail(svc)
    expect(report.problems).toEqual([])
    expect(report.ok).toBe(true)
  }, 60_000)

  it('keeps the webhook delivery worker running: a notification made after the outage is delivered', async () => {
    const hospital = await svc.api.createInstitution({ name: 'Hospital A', kind: 'hospital' })
    const hook = await svc.api.post('/webhooks', { url: listener.url(), events: ['credential.revoked'] }, hospital.apiKey)
    expect(hook.status).toBe(201)
    const data = { credentialId: 'urn:uuid:after-the-outage', issuerDid: load.board.did }
    await svc.store.transaction((m) => svc.notifier.notify(m, { event: 'credential.revoked', recipients: [hospital.id], data }))
    const [delivered] = await listener.waitForDeliveries(1, 10_000)
    expect(JSON.parse(delivered.body)).toMatchObject({ event: 'credential.revoked', data })
    // It did meet the outage (it polls every 50 ms), and went on polling.
    expect(svc.logs.some((l) => l.includes('webhook delivery poll failed'))).toBe(true)
  })
})
