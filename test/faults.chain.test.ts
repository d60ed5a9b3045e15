import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HolderWallet } from '../src/holder/wallet.js'
import { checkTrail } from './helpers/audit.js'
import { ExternalChain } from './helpers/external-chain.js'
import { licenseCredential } from './helpers/fixtures.js'
import { startTestService, type Reply, type TestService } from './helpers/service.js'

/**
 * The chain RPC stops while writes are in flight (issuance, key rotation): every answer is either done or
 * a 503 problem with `Retry-After`; nothing is half-written (each 201 is stored, each 503 stored nothing);
 * once the chain is back the retry succeeds and what was signed verifies; the audit trail verifies.
 */
describe('faults: the chain RPC stopped mid-issuance and mid-rotation', () => {
  let chain: ExternalChain
  let svc: TestService
  let board: { id: string; did: string; apiKey: string }
  let clinician: HolderWallet

  beforeAll(async () => {
    chain = await ExternalChain.start()
    svc = await startTestService({ env: { ...chain.env(), TX_TIMEOUT_MS: '3000' } })
    board = await svc.api.createTrustedBoard('Board')
    clinician = await HolderWallet.create()
  }, 60_000)
  afterAll(async () => {
    await svc?.dispose()
    await chain?.dispose()
  })

  const count = async (table: string, where = ''): Promise<number> =>
    Number((await svc.db.query(`SELECT count(*) AS n FROM "${table}" ${where}`))[0].n)
  // One body per Idempotency-Key: a retry sends exactly the same request.
  const bodies = new Map<string, unknown>()
  const issue = (key: string) => {
    if (!bodies.has(key)) bodies.set(key, { credential: licenseCredential(clinician.did) })
    return svc.api.request('POST', '/credentials/issue', { body: bodies.get(key), token: board.apiKey, headers: { 'idempotency-key': key } })
  }

  /** 503, problem+json, Retry-After; DID Resolution answers with its own error type (W3C DID Resolution). */
  function expectRetryLater(res: Reply, type = 'https://medcred.dev/problems/chain-unavailable') {
    expect(res.status).toBe(503)
    expect(res.type).toMatch(/^application\/problem\+json/)
    expect(res.body).toMatchObject({ type, status: 503, title: expect.any(String), detail: expect.any(String) })
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(JSON.stringify(res.body)).not.toMatch(/\bat .*\.ts:\d+/)
  }

  it('issuance with the chain down: done from the cached DID document, or a 503 with Retry-After that stored nothing; DID resolution is a 503 with Retry-After', async () => {
    const issuedEvents = () => count('medcred_audit_event', `WHERE "action" = 'credential.issued'`)
    const before = { credentials: await count('medcred_issued_credential'), events: await issuedEvents() }
    await chain.stop()
    expectRetryLater(await svc.api.get(`/1.0/identifiers/${encodeURIComponent(board.did)}`), 'https://www.w3.org/ns/did#INTERNAL_ERROR')
    const res = await issue('outage-1')
    const stored = res.status === 201 ? 1 : 0
    if (!stored) expectRetryLater(res)
    expect(await count('medcred_issued_credential')).toBe(before.credentials + stored)
    expect(await issuedEvents()).toBe(before.events + stored)
    await chain.restart()
    const retry = await issue('outage-1')
    expect(retry.status, `${res.status} then ${JSON.stringify(retry.body)}`).toBe(201)
    expect(await count('medcred_issued_credential')).toBe(before.credentials + 1)
    expect((await svc.api.post('/credentials/verify', { verifiableCredential: retry.body.verifiableCredential })).status).toBe(200)
  })

  it('issuances in flight when the chain stops: each is stored and verifies, or was a 503 that stored nothing', async () => {
    const before = await count('medcred_issued_credential')
    const inFlight = Array.from({ length: 8 }, (_, i) => issue(`in-flight-${i}`))
    await chain.stop()
    const answers = await Promise.all(inFlight)
    for (const res of answers) if (res.status !== 201) expectRetryLater(res)
    const done = answers.filter((r) => r.status === 201)
    expect(await count('medcred_issued_credential')).toBe(before + done.length)

    await chain.restart()
    for (const res of done) expect((await svc.api.post('/credentials/verify', { verifiableCredential: res.body.verifiableCredential })).status).toBe(200)
    const retried = await Promise.all(answers.map((r, i) => (r.status === 201 ? r : issue(`in-flight-${i}`))))
    expect(retried.map((r) => r.status)).toEqual(Array(8).fill(201))
    expect(await count('medcred_issued_credential')).toBe(before + 8)
  })

  it('a key rotation with the chain down: 503 with Retry-After, the old key stays in force; the retry rotates', async () => {
    const rotate = () => svc.api.post(`/institutions/${board.id}/keys/rotate`, { reason: 'superseded' }, board.apiKey)
    await chain.stop()
    expectRetryLater(await rotate())
    await chain.restart()
    // The DID document still names the key medcred signs with: a credential issued now verifies.
    const retry = await rotate()
    expect(retry.status).toBe(200)
    expect(await count('medcred_key_rotation', `WHERE "status" = 'pending'`)).toBe(0)
    const after = await issue('after-rotation')
    expect(after.status).toBe(201)
    expect((await svc.api.post('/credentials/verify', { verifiableCredential: after.body.verifiableCredential })).status).toBe(200)
  })

  it('a key rotation in flight when the chain stops: done or 503; after the retry the DID and the signer agree', async () => {
    const rotate = () => svc.api.post(`/institutions/${board.id}/keys/rotate`, { reason: 'superseded' }, board.apiKey)
    const inFlight = rotate()
    await chain.stop()
    const res = await inFlight
    if (res.status !== 200) expectRetryLater(res)
    await chain.restart()
    const retry = await rotate()
    expect(retry.status).toBe(200)
    expect(await count('medcred_key_rotation', `WHERE "status" = 'pending'`)).toBe(0)
    const after = await issue('after-rotation-2')
    expect(after.status).toBe(201)
    expect((await svc.api.post('/credentials/verify', { verifiableCredential: after.body.verifiableCredential })).status).toBe(200)
  })

  it('a rotation cut short, retried under its Idempotency-Key, is finished once: no second rotation, the same answer again', async () => {
    const rotate = () => svc.api.request('POST', `/institutions/${board.id}/keys/rotate`, { body: { reason: 'superseded' }, token: board.apiKey, headers: { 'idempotency-key': 'rotate-once' } })
    const rotations = () => count('medcred_key_rotation', `WHERE "institutionId" = '${board.id}'`)
    const before = await rotations()
    await chain.stop()
    expectRetryLater(await rotate())
    // Recorded (the new key, pending) before the chain was asked: the retry finishes that one.
    expect(await count('medcred_key_rotation', `WHERE "status" = 'pending'`)).toBe(1)
    await chain.restart()
    const retry = await rotate()
    expect(retry.status).toBe(200)
    expect(await rotations()).toBe(before + 1)
    const again = await rotate()
    expect(again.status).toBe(200)
    expect(again.body.txHash).toBe(retry.body.txHash)
    expect(await rotations()).toBe(before + 1)
    // The admin's key of the same name is the admin's own: it rotates (it does not replay the institution's).
    const byAdmin = await svc.api.request('POST', `/institutions/${board.id}/keys/rotate`, { body: { reason: 'superseded' }, token: svc.api.adminToken, headers: { 'idempotency-key': 'rotate-once' } })
    expect(byAdmin.status).toBe(200)
    expect(byAdmin.body.txHash).not.toBe(retry.body.txHash)
    expect(await rotations()).toBe(before + 2)
    // The same key for another request is refused, and rotates nothing.
    const other = await svc.api.request('POST', `/institutions/${board.id}/keys/rotate`, { body: { reason: 'compromised' }, token: board.apiKey, headers: { 'idempotency-key': 'rotate-once' } })
    expect(other.status).toBe(409)
    expect(await rotations()).toBe(before + 2)
  })

  it('leaves an audit trail that verifies', async () => {
    const report = await checkTrail(svc)
    expect(report.problems).toEqual([])
    expect(report.ok).toBe(true)
  })
})
