import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AuditEventEntity, type AuditEventRow } from '../src/audit/audit-event.entity.js'
import { HolderWallet } from '../src/holder/wallet.js'
import { licenseCredential, tamperJwt } from './helpers/fixtures.js'
import { startTestService, type TestService } from './helpers/service.js'

const BIN = path.resolve('bin/medcred.mjs')

interface Run {
  code: number
  stdout: string
  stderr: string
}

/** Runs `medcred ARGS` as a child process, as a user would. */
function medcred(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }))
  })
}

/** The CLI as a child process against a real service (chain, database), through the HTTP API only. */
describe('the medcred CLI', { timeout: 180_000 }, () => {
  let svc: TestService
  let dir: string
  let admin: Record<string, string>
  let board: { id: string; did: string; apiKey: string }
  let asBoard: Record<string, string>
  let holder: HolderWallet
  const events = (where: { action: string; subjectId?: string; subjectIssuerInstitutionId?: string }) => svc.db.getRepository(AuditEventEntity).find({ where, order: { seq: 'ASC' } })
  const shape = (e: AuditEventRow) => ({ action: e.action, actorType: e.actorType, actorId: e.actorId, subjectType: e.subjectType, subjectIssuer: e.subjectIssuerInstitutionId, outcome: e.outcome, detailKeys: Object.keys(JSON.parse(e.detail ?? '{}')).sort() })

  beforeAll(async () => {
    svc = await startTestService()
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'medcred-cli-'))
    admin = { MEDCRED_URL: svc.url, MEDCRED_TOKEN: svc.secrets.adminToken }
    holder = await HolderWallet.create()
  })
  afterAll(async () => {
    await svc?.dispose()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it('prints help and exits 0; a usage error exits 2; an unreachable service exits 3', async () => {
    const help = await medcred(['--help'], {})
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('Exit codes')
    expect((await medcred(['no-such-command'], admin)).code).toBe(2)
    expect((await medcred(['institution', 'create', '--name', 'X'], admin)).code).toBe(2)
    const down = await medcred(['trust', 'list'], { MEDCRED_URL: 'http://127.0.0.1:1', MEDCRED_TOKEN: 'x' })
    expect(down.code).toBe(3)
    expect(down.stderr).toContain('unreachable')
  })

  it('creates an institution and trusts it, with --json output that parses, and the same audit event as the API', async () => {
    const created = await medcred(['--json', 'institution', 'create', '--name', 'CLI Board', '--kind', 'board', '--jurisdiction', 'US-TX'], admin)
    expect(created.code).toBe(0)
    board = JSON.parse(created.stdout)
    expect(board.did).toMatch(/^did:ethr:/)
    expect(board.apiKey).toMatch(/^mck_/)
    asBoard = { MEDCRED_URL: svc.url, MEDCRED_TOKEN: board.apiKey }
    const trusted = await medcred(['trust', 'add', board.did, '--types', 'ClinicianLicenseCredential', '--jurisdictions', 'US-TX'], admin)
    expect(trusted.code).toBe(0)
    expect(trusted.stdout).toContain('✓ trusted')
    const listed = await medcred(['--json', 'trust', 'list'], admin)
    expect(JSON.stringify(JSON.parse(listed.stdout))).toContain(board.did)

    const viaApi = await svc.api.createInstitution({ name: 'API Board', kind: 'board', jurisdiction: 'US-TX' })
    const [cli] = await events({ action: 'institution.created', subjectId: board.id })
    const [api] = await events({ action: 'institution.created', subjectId: viaApi.id })
    expect(shape(cli)).toEqual(shape(api))
  })

  it('replaces a leaked API key: the old one is refused at once, the new one works', async () => {
    const spare = await svc.api.createInstitution({ name: 'Spare Board', kind: 'board', jurisdiction: 'US-TX' })
    const replaced = await medcred(['--json', 'institution', 'replace-key', spare.id], { MEDCRED_URL: svc.url, MEDCRED_TOKEN: spare.apiKey })
    expect(replaced.code).toBe(0)
    const { apiKey } = JSON.parse(replaced.stdout)
    expect(apiKey).toMatch(/^mck_/)
    expect((await svc.api.get(`/institutions/${spare.id}`, spare.apiKey)).status).toBe(401)
    expect((await svc.api.get(`/institutions/${spare.id}`, apiKey)).status).toBe(200)
    const people = await medcred(['institution', 'replace-key', spare.id], admin)
    expect(people.code).toBe(0)
    expect(people.stdout).toContain('shown once')
  })

  it('bulk-issues 1,000 lines with one bad: 999 issued, the bad line reported with its reason; a rerun issues nothing new', async () => {
    const file = path.join(dir, 'registry-export.jsonl')
    const lines = Array.from({ length: 1000 }, (_, i) =>
      JSON.stringify({ ...licenseCredential(holder.did, { credentialSubject: { licenseNumber: `TX-${i}`, ...(i === 417 ? { npi: '1234567890' } : {}) } }), issuer: board.did }),
    )
    fs.writeFileSync(file, lines.join('\n') + '\n')

    const first = await medcred(['--json', 'issue', '--bulk', file, '--concurrency', '8'], asBoard)
    expect(first.code).toBe(1)
    const report = JSON.parse(first.stdout)
    expect(report).toMatchObject({ lines: 1000, issued: 999, alreadyIssued: 0 })
    expect(report.failed).toHaveLength(1)
    expect(report.failed[0]).toMatchObject({ line: 418, status: 422 })
    expect(report.failed[0].reason).toMatch(/npi/i)
    expect(first.stderr).toMatch(/1000\/1000 \(1 failed\) [\d.]+\/s ETA/)
    expect(await events({ action: 'credential.issued', subjectIssuerInstitutionId: board.id })).toHaveLength(999)

    const again = await medcred(['issue', '--bulk', file], asBoard)
    expect(again.code).toBe(1)
    expect(again.stdout).toContain('issued 0 new; 999 already issued by an earlier run; 1 failed')
    expect(again.stdout).toContain('✗ line 418: HTTP 422')
    // Without the progress file, the per-line idempotency keys replay instead of issuing twice.
    fs.rmSync(`${file}.medcred-progress.jsonl`)
    expect((await medcred(['--json', 'issue', '--bulk', file], asBoard)).code).toBe(1)
    expect(await events({ action: 'credential.issued', subjectIssuerInstitutionId: board.id })).toHaveLength(999)
  }, 240_000)

  it('issues one, verifies it (✓ per check), and exits 1 naming the check on a tampered file', async () => {
    const input = path.join(dir, 'one.json')
    fs.writeFileSync(input, JSON.stringify({ ...licenseCredential(holder.did, { credentialSubject: { licenseNumber: 'ONE-1' } }), issuer: board.did }))
    const issued = await medcred(['--json', 'issue', input], asBoard)
    expect(issued.code).toBe(0)
    const vc = JSON.parse(issued.stdout).verifiableCredential
    const jwtFile = path.join(dir, 'one.jwt')
    fs.writeFileSync(jwtFile, vc.proof.jwt)
    const ok = await medcred(['verify', jwtFile], asBoard)
    expect(ok.code).toBe(0)
    expect(ok.stdout).toMatch(/^✓ proof/m)
    expect(ok.stdout).toContain('VERIFIED credential')

    const tampered = path.join(dir, 'tampered.jwt')
    fs.writeFileSync(tampered, tamperJwt(vc.proof.jwt, 2))
    const bad = await medcred(['verify', tampered], asBoard)
    expect(bad.code).toBe(1)
    expect(bad.stdout).toMatch(/^✗ proof/m)
    expect(bad.stdout).toContain('NOT VERIFIED')
    const badJson = await medcred(['--json', 'verify', tampered], asBoard)
    expect(badJson.code).toBe(1)
    expect(JSON.parse(badJson.stdout)).toMatchObject({ verified: false })

    // Same audit event for a status change through the CLI as through the API.
    const viaApi = await svc.api.post('/credentials/issue', { credential: { ...licenseCredential(holder.did, { credentialSubject: { licenseNumber: 'API-1' } }), issuer: board.did } }, board.apiKey)
    const suspended = await medcred(['suspend', vc.id, '--reason', 'disciplinary-action'], asBoard)
    expect(suspended.code).toBe(0)
    expect(suspended.stdout).toContain('✓')
    expect((await svc.api.post('/credentials/status', { credentialId: viaApi.body.verifiableCredential.id, credentialStatus: [{ type: 'StatusList2021Entry', status: 'suspended' }], reason: 'disciplinary-action' }, board.apiKey)).status).toBe(200)
    const [cli] = await events({ action: 'credential.status-changed', subjectId: vc.id })
    const [api] = await events({ action: 'credential.status-changed', subjectId: viaApi.body.verifiableCredential.id })
    expect(shape(cli)).toEqual(shape(api))
    expect((await medcred(['reinstate', vc.id], asBoard)).code).toBe(0)
    expect((await medcred(['revoke', vc.id, '--reason', 'license-surrendered'], asBoard)).code).toBe(0)
    const revoked = await medcred(['verify', jwtFile], asBoard)
    expect(revoked.code).toBe(1)
    expect(revoked.stdout).toMatch(/^✗ status/m)
  })

  it('offers a credential to a wallet: the offer URI and a terminal QR code', async () => {
    const input = path.join(dir, 'offer.json')
    // The wallet's key proof names the subject, so the offer names none.
    const { id: _id, ...subject } = licenseCredential(holder.did, { credentialSubject: { licenseNumber: 'OFFER-1' } }).credentialSubject
    fs.writeFileSync(input, JSON.stringify({ ...licenseCredential(holder.did), issuer: board.did, credentialSubject: subject }))
    const offered = await medcred(['offer', input], asBoard)
    expect(offered.code).toBe(0)
    expect(offered.stdout).toContain('openid-credential-offer://?credential_offer_uri=')
    expect(offered.stdout).toMatch(/[▀▄█]/)
    const json = await medcred(['--json', 'offer', input], asBoard)
    expect(JSON.parse(json.stdout).offer).toMatch(/^openid-credential-offer:/)
  })

  it('checks the audit trail with `audit verify`, the same code path as npm run audit:verify', async () => {
    const env = { DATA_DIR: svc.dataDir, ...(svc.config.databaseUrl ? { DATABASE_URL: svc.config.databaseUrl } : {}), ETHR_RPC_URL: svc.chain.rpcUrl, ETHR_REGISTRY: svc.chain.registry, ETHR_OPERATOR_KEY: svc.chain.operator.privateKey }
    const checked = await medcred(['--json', 'audit', 'verify'], env)
    expect(checked.stderr).toBe('')
    expect(checked.code).toBe(0)
    expect(JSON.parse(checked.stdout)).toMatchObject({ ok: true })
  })
})
