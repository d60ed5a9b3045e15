import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HolderWallet } from '../src/holder/wallet.js'
import { createTestDatabase, TEST_DB, type TestDatabase } from './helpers/database.js'
import { ExternalChain } from './helpers/external-chain.js'
import { licenseCredential } from './helpers/fixtures.js'
import { callOnce as call, freePort } from './helpers/one-connection.js'

/**
 * `kill -9` of a medcred process (`node --import tsx src/main.ts`, as `npm start`) in the middle of status
 * changes, of audit anchoring and of a key rotation; then a restart on the same DATA_DIR, database and
 * chain: the state is consistent (what the database says is what the published lists and the chain say),
 * the interrupted work is finished or can be retried, and `npm run audit:verify` exits 0.
 * The chain is the test's own (ExternalChain), so that a killed process leaves no node behind.
 * PostgreSQL-only: the crash semantics that matter (transactions cut mid-flight, advisory locks released
 * by the server) are PostgreSQL's; SQLite's single-file write gate is covered by test/restart.test.ts.
 */
describe.runIf(TEST_DB === 'postgres')('faults (PostgreSQL only): kill -9 of the service, then a restart', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'medcred-kill-'))
  let chain: ExternalChain
  let database: TestDatabase
  let child: ChildProcess
  let port: number
  let admin: string
  let board: { id: string; did: string; apiKey: string }
  let other: { id: string; did: string; apiKey: string }
  let clinician: HolderWallet
  let db: pg.Client

  const env = () => ({
    ...process.env,
    ...chain.env(),
    DATA_DIR: dataDir,
    DATABASE_URL: database.url!,
    PORT: String(port),
    STATUS_LIST_ALLOW_LOOPBACK: '1',
    RATE_LIMIT_PER_MINUTE: '100000',
    AUDIT_ANCHOR_EVERY: '3',
    AUDIT_ANCHOR_SECONDS: '1',
    TX_TIMEOUT_MS: '5000',
  })

  async function start(): Promise<void> {
    let output = ''
    child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: process.cwd(), env: env(), stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout!.on('data', (d) => (output += d))
    child.stderr!.on('data', (d) => (output += d))
    const deadline = Date.now() + 45_000
    while (!/ready in \d+ ms/.test(output)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`medcred did not start:\n${output}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }

  async function kill9(): Promise<void> {
    const exited = new Promise((r) => child.once('exit', r))
    child.kill('SIGKILL')
    await exited
  }

  function auditVerify(): Promise<{ code: number; out: string }> {
    return new Promise((resolve, reject) => {
      const p = spawn(process.execPath, ['--import', 'tsx', 'scripts/audit-verify.ts'], { cwd: process.cwd(), env: env() })
      let out = ''
      p.stdout.on('data', (d) => (out += d))
      p.stderr.on('data', (d) => (out += d))
      p.once('error', reject)
      p.once('exit', (code) => resolve({ code: code ?? -1, out }))
    })
  }

  async function until<T>(what: string, fn: () => Promise<T | undefined | false>): Promise<T> {
    const deadline = Date.now() + 40_000
    for (;;) {
      const v = await fn()
      if (v) return v
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
      await new Promise((r) => setTimeout(r, 200))
    }
  }

  beforeAll(async () => {
    chain = await ExternalChain.start()
    database = await createTestDatabase()
    port = await freePort()
    await start()
    admin = JSON.parse(fs.readFileSync(path.join(dataDir, 'secrets.json'), 'utf8')).adminToken
    board = (await call(port, 'POST', '/institutions', { name: 'Texas Medical Board', kind: 'board', jurisdiction: 'US-TX' }, admin)).body
    await call(port, 'POST', '/trust/issuers', { did: board.did, credentialTypes: ['ClinicianLicenseCredential'], jurisdictions: ['US-TX'] }, admin)
    other = (await call(port, 'POST', '/institutions', { name: 'Second Texas Board', kind: 'board', jurisdiction: 'US-TX' }, admin)).body
    await call(port, 'POST', '/trust/issuers', { did: other.did, credentialTypes: ['ClinicianLicenseCredential'], jurisdictions: ['US-TX'] }, admin)
    clinician = await HolderWallet.create()
    db = new pg.Client({ connectionString: database.url })
    await db.connect()
  }, 90_000)
  afterAll(async () => {
    await db?.end()
    if (child && child.exitCode === null) child.kill('SIGKILL')
    await database?.drop()
    await chain?.dispose()
    fs.rmSync(dataDir, { recursive: true, force: true })
  })

  it('killed with status changes, audit anchoring and a key rotation in flight: the restart leaves all consistent, the retries succeed, audit:verify exits 0', async () => {
    const vcs = (await Promise.all(Array.from({ length: 12 }, () => call(port, 'POST', '/credentials/issue', { credential: licenseCredential(clinician.did, { issuer: board.did }) }, board.apiKey)))).map((r) => r.body.verifiableCredential)
    const change = (vc: any) => call(port, 'POST', '/credentials/status', { credentialId: vc.id, credentialStatus: [{ type: 'StatusList2021Entry', status: 'revoked' }] }, board.apiKey)
    const rotate = () => call(port, 'POST', `/institutions/${other.id}/keys/rotate`, { reason: 'superseded' }, other.apiKey)
    // Each status change appends an event, and with AUDIT_ANCHOR_EVERY=3 every few cut a batch whose anchoring
    // transaction is then being sent; the other board's rotation sends its own. Kill once the first change is answered.
    const inFlight = vcs.map(change)
    const rotation = rotate()
    await Promise.race(inFlight)
    await kill9()
    const answers = await Promise.all(inFlight)
    await rotation
    expect(answers.some((a) => a.status === 200)).toBe(true)

    await start()
    // Status: what the database holds is what the published list says, revoked in both or in neither.
    for (const [i, vc] of vcs.entries()) {
      const stored = await call(port, 'GET', `/credentials/${encodeURIComponent(vc.id)}/status`, undefined, board.apiKey)
      expect(stored.status).toBe(200)
      const revoked = stored.body.status === 'revoked'
      const verified = await call(port, 'POST', '/credentials/verify', { verifiableCredential: vc })
      expect(verified.status, `credential ${i}: ${JSON.stringify(stored.body)} / ${JSON.stringify(verified.body)}`).toBe(revoked ? 400 : 200)
      if (answers[i].status === 200) expect(revoked).toBe(true)
    }
    const retried = await Promise.all(vcs.map(change))
    expect(retried.map((a) => a.status)).toEqual(Array(12).fill(200))
    for (const vc of vcs) expect((await call(port, 'POST', '/credentials/verify', { verifiableCredential: vc })).body.errors).toEqual([{ check: 'status', detail: 'revoked' }])

    // Rotation: finished at start (or taken over by the retry), after which the other board signs what verifies.
    const again = await until('a rotation accepted', async () => {
      const res = await rotate()
      return res.status === 200 ? res : res.status === 409 ? false : Promise.reject(new Error(`rotate: ${res.status} ${JSON.stringify(res.body)}`))
    })
    expect(again.body.did).toBe(other.did)
    const issued = await until('an issuance by the rotated board', async () => {
      const res = await call(port, 'POST', '/credentials/issue', { credential: licenseCredential(clinician.did, { issuer: other.did }) }, other.apiKey)
      // 409 while a rotation is still being finished, 503 until the DID document lists the new key: retry.
      if (res.status === 409 || res.status === 503) return false
      expect(res.status, JSON.stringify(res.body)).toBe(201)
      return res
    })
    expect((await call(port, 'POST', '/credentials/verify', { verifiableCredential: issued.body.verifiableCredential })).status).toBe(200)

    // Anchoring: every batch cut before or after the kill ends anchored, and the offline checker agrees.
    await until('every batch anchored', async () => {
      const rows = await db.query(`SELECT count(*) AS n FROM "medcred_audit_anchor" WHERE "status" <> 'anchored'`)
      return Number(rows.rows[0].n) === 0
    })
    const { code, out } = await auditVerify()
    expect(code, out).toBe(0)
    expect(out).toMatch(/INTACT/)
  }, 90_000)
})
