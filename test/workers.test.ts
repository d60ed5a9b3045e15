import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HolderWallet } from '../src/holder/wallet.js'
import { createTestDatabase, TEST_DB, type TestDatabase } from './helpers/database.js'
import { licenseCredential } from './helpers/fixtures.js'
import { callOnce as call, freePort, type Answer } from './helpers/one-connection.js'

/**
 * `npm start` with WEB_CONCURRENCY=2 on PostgreSQL: two HTTP workers behind one port, each a replica in
 * every sense. (Several workers need PostgreSQL; on SQLite one process serves, so this runs on PostgreSQL.)
 */
describe.runIf(TEST_DB === 'postgres')('several HTTP workers (WEB_CONCURRENCY=2)', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'medcred-workers-'))
  let database: TestDatabase
  let child: ChildProcess
  let port: number
  let admin: string
  let output = ''

  beforeAll(async () => {
    database = await createTestDatabase()
    port = await freePort()
    child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: process.cwd(),
      env: { ...process.env, DATA_DIR: dataDir, DATABASE_URL: database.url, PORT: String(port), WEB_CONCURRENCY: '2', STATUS_LIST_ALLOW_LOOPBACK: '1', RATE_LIMIT_PER_MINUTE: '100000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child.stdout!.on('data', (d) => (output += d))
    child.stderr!.on('data', (d) => (output += d))
    const deadline = Date.now() + 45_000
    while (!/ready in \d+ ms/.test(output) || !/all 2 workers serving/.test(output)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`medcred did not start:\n${output}`)
      await new Promise((r) => setTimeout(r, 100))
    }
    admin = JSON.parse(fs.readFileSync(path.join(dataDir, 'secrets.json'), 'utf8')).adminToken
  }, 60_000)
  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL')
    await database?.drop()
    fs.rmSync(dataDir, { recursive: true, force: true })
  })

  it('serves from both workers, and a revocation through one fails the next verification on the other', async () => {
    const seen = new Set<string>()
    for (let i = 0; i < 4; i++) seen.add((await call(port, 'GET', '/health')).worker!)
    expect(seen).toEqual(new Set(['0', '1']))

    const board = (await call(port, 'POST', '/institutions', { name: 'Texas Medical Board', kind: 'board', jurisdiction: 'US-TX' }, admin)).body
    expect((await call(port, 'POST', '/trust/issuers', { did: board.did, credentialTypes: ['ClinicianLicenseCredential'], jurisdictions: ['US-TX'] }, admin)).status).toBe(201)
    const clinician = await HolderWallet.create()
    const issued = await call(port, 'POST', '/credentials/issue', { credential: { ...licenseCredential(clinician.did), issuer: board.did } }, board.apiKey)
    expect(issued.status).toBe(201)
    const license = issued.body.verifiableCredential

    const before = await Promise.all([0, 1, 2, 3].map(() => call(port, 'POST', '/credentials/verify', { verifiableCredential: license })))
    expect(before.map((a) => a.status)).toEqual([200, 200, 200, 200])
    expect(new Set(before.map((a) => a.worker))).toEqual(new Set(['0', '1']))

    const revoked = await call(port, 'POST', '/credentials/status', { credentialId: license.id, credentialStatus: [{ type: 'StatusList2021Entry', status: 'revoked' }] }, board.apiKey)
    expect(revoked.body).toMatchObject({ status: 'revoked', changed: true })
    const after: Answer[] = []
    for (let i = 0; i < 4; i++) after.push(await call(port, 'POST', '/credentials/verify', { verifiableCredential: license }))
    expect(after.map((a) => a.status)).toEqual([400, 400, 400, 400])
    expect(after.every((a) => a.body.errors.some((e: any) => e.check === 'status' && e.detail === 'revoked'))).toBe(true)
    // The very next verification after the revocation ran on the other worker, and still saw it.
    expect(after[0].worker).not.toBe(revoked.worker)
  })

  it('drains and stops every worker on SIGTERM, the local chain last', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
    expect(output).toMatch(/"message":"stopping workers"/)
    expect(fs.existsSync(path.join(dataDir, 'chain', 'anvil.pid'))).toBe(false)
  }, 40_000)
})
