import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AuditEventEntity } from '../src/audit/audit-event.entity.js'
import { HolderWallet } from '../src/holder/wallet.js'
import { auditEvent, checkTrail, runAuditVerifyCli } from './helpers/audit.js'
import { licenseCredential } from './helpers/fixtures.js'
import { startTestService, type TestService } from './helpers/service.js'

const LONE = 'urn:x\ud800y'

/**
 * Issue 8, hole 2: a lone surrogate, which no UTF-8 store keeps, reached the audit trail through a
 * verified JWT's `jti` and made the trail look tampered. Such text is refused wherever it enters.
 */
describe('text that is not well-formed Unicode', () => {
  let svc: TestService
  let board: { id: string; did: string; apiKey: string }
  let mallory: HolderWallet

  beforeAll(async () => {
    svc = await startTestService()
    board = await svc.api.createTrustedBoard('Texas Medical Board')
    mallory = await HolderWallet.create('Secp256k1')
  })
  afterAll(() => svc?.dispose())

  const problemOf = (res: { status: number; type: string; body: any }) => ({ status: res.status, type: res.type, problem: res.body.type })

  it('is refused inside a JWT (here a self-signed VC-JWT whose jti holds a lone surrogate), naming why', async () => {
    const vc = await mallory.selfIssue({ id: LONE, type: ['VerifiableCredential', 'Note'], credentialSubject: { id: mallory.did, note: 'x' } })
    const jwt = vc.proof.jwt as string
    expect(Buffer.from(jwt.split('.')[1], 'base64url').toString()).toContain('\\ud800')
    const res = await svc.api.post('/credentials/verify', { verifiableCredential: jwt })
    expect(res.status).toBe(400)
    expect(res.body.verified).toBe(false)
    expect(res.body.errors).toEqual([{ check: 'proof', detail: expect.stringMatching(/not well-formed Unicode/) }])
    // Inside a presentation too.
    const vp = await mallory.present([jwt], { challenge: 'c', domain: 'd' })
    const inVp = await svc.api.post('/presentations/verify', { verifiablePresentation: vp.proof.jwt, options: { challenge: 'c', domain: 'd' } })
    expect(inVp.status).toBe(400)
    expect(inVp.body.errors.map((e: any) => e.check)).toContain('credentials[0].proof')
  })

  it('is refused in a request body with a 400 problem naming the field, at issue, status and verify', async () => {
    const issue = await svc.api.post('/credentials/issue', { credential: licenseCredential(mallory.did, { id: LONE }) }, board.apiKey)
    expect(problemOf(issue)).toEqual({ status: 400, type: 'application/problem+json', problem: 'https://medcred.dev/problems/invalid-request' })
    expect(issue.body.detail).toMatch(/credential\.id is not well-formed Unicode/)
    const status = await svc.api.post('/credentials/status', { credentialId: LONE, credentialStatus: [{ type: 'StatusList2021Entry', status: 'revoked' }] }, board.apiKey)
    expect(problemOf(status)).toEqual({ status: 400, type: 'application/problem+json', problem: 'https://medcred.dev/problems/invalid-request' })
    const verify = await svc.api.post('/credentials/verify', { verifiableCredential: { proof: { jwt: 'a.b.c' }, note: '\udfff' } })
    expect(verify.status).toBe(400)
    expect(verify.body.detail).toMatch(/verifiableCredential\.note is not well-formed Unicode/)
    const key = await svc.api.post('/institutions', { name: 'x', kind: 'board', ['k\ud800']: 1 }, svc.api.adminToken)
    expect(key.status).toBe(400)
    expect(key.body.detail).toMatch(/key that is not well-formed Unicode/)
  })

  it('is refused in the URL: a NUL in a path parameter or the query is a 400 (a page: a readable page), never reaching the database', async () => {
    for (const path of ['/receipts/%00', `/credentials/a%00b/status`, '/audit/events?after=%00', '/fhir/Consent?patient=did%00x']) {
      const res = await svc.api.get(path, board.apiKey)
      expect(problemOf(res), path).toEqual({ status: 400, type: 'application/problem+json', problem: 'https://medcred.dev/problems/invalid-request' })
      expect(res.body.detail, path).toMatch(/NUL/)
    }
    const page = await fetch(`${svc.url}/web/board/credential?id=%00`)
    expect(page.status).toBe(400)
    expect(page.headers.get('content-type')).toMatch(/^text\/html/)
    // Percent-escapes that are not UTF-8 stay as they are (the router does the same): no error of ours.
    expect((await svc.api.get('/receipts/%ED%A0%80')).status).toBe(404)
  })

  it('leaves an audit trail that verifies, with the checker in process and npm run audit:verify', async () => {
    const report = await checkTrail(svc)
    expect(report.problems).toEqual([])
    expect(report.ok).toBe(true)
    expect(report.events).toBeGreaterThan(0)
    const cli = await runAuditVerifyCli(svc)
    expect(cli.stderr + cli.stdout).not.toMatch(/was changed/)
    expect(cli.code).toBe(0)
  })

  it('never breaks the trail even when a caller slips one past the boundary: the hash is over what is stored', async () => {
    const event = await svc.audit.record(auditEvent(1, { subject: { type: 'credential', id: LONE }, detail: { note: `a\ud800b` } }))
    const stored = await svc.db.getRepository(AuditEventEntity).findOneByOrFail({ seq: event.seq })
    expect(stored.subjectId).toBe('urn:x\ufffdy')
    expect(stored.detail).toBe('{"note":"a\ufffdb"}')
    expect((await checkTrail(svc)).ok).toBe(true)
  })
})
