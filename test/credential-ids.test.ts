import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HolderWallet } from '../src/holder/wallet.js'
import { licenseCredential } from './helpers/fixtures.js'
import { startTestService, type TestService } from './helpers/service.js'

type Inst = { id: string; did: string; apiKey: string }

/**
 * Issue 8, hole 5: another institution could tell which credential ids exist (403 against 404, and 409
 * at issuance). Ids are unique per issuer; "not yours" and "does not exist" are the same answer.
 */
describe('credential ids belong to their issuer', () => {
  let svc: TestService
  let texas: Inst
  let ohio: Inst
  let clinician: HolderWallet

  beforeAll(async () => {
    svc = await startTestService()
    texas = await svc.api.createTrustedBoard('Texas Medical Board', 'US-TX')
    ohio = await svc.api.createTrustedBoard('Ohio Medical Board', 'US-OH')
    clinician = await HolderWallet.create()
  })
  afterAll(() => svc?.dispose())

  const issue = (board: Inst, id: string, jurisdiction: string) =>
    svc.api.post('/credentials/issue', { credential: licenseCredential(clinician.did, { id, credentialSubject: { jurisdiction } }) }, board.apiKey)
  const setStatus = (board: Inst, credentialId: string, status: string) =>
    svc.api.post('/credentials/status', { credentialId, credentialStatus: [{ type: 'StatusList2021Entry', status }] }, board.apiKey)
  /** What a caller can learn from an answer: everything but the detail's echo of the id it sent. */
  const shape = (res: { status: number; type: string; body: any }, id: string) => ({
    status: res.status,
    type: res.type,
    problem: res.body.type,
    title: res.body.title,
    detail: String(res.body.detail).replace(id, '<id>'),
  })

  it("answers another issuer's credential exactly as an id nobody issued, reading or changing its status", async () => {
    const theirs = 'urn:tx:license:Q-1001'
    expect((await issue(texas, theirs, 'US-TX')).status).toBe(201)
    const nobody = 'urn:tx:license:Q-9999'
    expect(shape(await setStatus(ohio, theirs, 'revoked'), theirs)).toEqual(shape(await setStatus(ohio, nobody, 'revoked'), nobody))
    expect(shape(await setStatus(ohio, theirs, 'revoked'), theirs).status).toBe(404)
    const read = (id: string) => svc.api.get(`/credentials/${encodeURIComponent(id)}/status`, ohio.apiKey)
    expect(shape(await read(theirs), theirs)).toEqual(shape(await read(nobody), nobody))
    expect((await svc.api.get(`/credentials/${encodeURIComponent(theirs)}/status`, texas.apiKey)).body.status).toBe('active')
  })

  it('lets two issuers use the same id, each credential with its own status; only a reuse by the same issuer is a conflict', async () => {
    const shared = 'urn:license:0042'
    const tx = await issue(texas, shared, 'US-TX')
    const oh = await issue(ohio, shared, 'US-OH')
    expect([tx.status, oh.status]).toEqual([201, 201])
    const again = await issue(texas, shared, 'US-TX')
    expect(again.status).toBe(409)
    expect(again.body.type).toBe('https://medcred.dev/problems/conflict')

    expect((await setStatus(texas, shared, 'revoked')).body).toMatchObject({ status: 'revoked', changed: true })
    const verify = (vc: unknown) => svc.api.post('/credentials/verify', { verifiableCredential: vc })
    expect((await verify(tx.body.verifiableCredential)).body.errors).toEqual([{ check: 'status', detail: 'revoked' }])
    expect((await verify(oh.body.verifiableCredential)).status).toBe(200)
    const ohioStatus = (await svc.api.get(`/credentials/${encodeURIComponent(shared)}/status`, ohio.apiKey)).body
    expect(ohioStatus).toMatchObject({ status: 'active', history: [] })
  })
})
