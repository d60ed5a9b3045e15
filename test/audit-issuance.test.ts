import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HolderWallet } from '../src/holder/wallet.js'
import { licenseCredential } from './helpers/fixtures.js'
import { checkTrail } from './helpers/audit.js'
import { startTestService, type TestService } from './helpers/service.js'

/** Through the API: every committed issuance has its event, a refused one has none, and the trail stays intact. */
describe('issuance in the audit trail', () => {
  let svc: TestService
  let board: { id: string; did: string; apiKey: string }
  let clinician: HolderWallet

  const issuedEventsFor = async (credentialId: string) =>
    ((await svc.api.get('/audit/events?limit=1000', svc.api.adminToken)).body.events as any[]).filter(
      (e) => e.action === 'credential.issued' && e.subject?.id === credentialId,
    )

  beforeAll(async () => {
    svc = await startTestService()
    board = await svc.api.createInstitution({ name: 'Texas Medical Board', kind: 'board', jurisdiction: 'US-TX' })
    clinician = await HolderWallet.create()
  })
  afterAll(async () => {
    await svc?.dispose()
  })

  it('records each committed issuance once, by the issuing board, with the request id, visible to the board', async () => {
    const res = await svc.api.request('POST', '/credentials/issue', {
      body: { credential: licenseCredential(clinician.did) },
      token: board.apiKey,
      headers: { 'x-request-id': 'req-issue-1' },
    })
    expect(res.status).toBe(201)
    const id = res.body.verifiableCredential.id
    const events = await issuedEventsFor(id)
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({
      actor: { type: 'institution', id: board.id, did: board.did },
      subject: { type: 'credential', id, issuerInstitutionId: board.id },
      outcome: 'success',
      requestId: 'req-issue-1',
    })
    const own = (await svc.api.get('/audit/events', board.apiKey)).body.events.map((e: any) => e.seq)
    expect(own).toContain(events[0].seq)
  })

  it('records nothing for an issuance refused inside its transaction (the id was already issued)', async () => {
    const credential = { ...licenseCredential(clinician.did), id: 'urn:uuid:7d1f3c2e-0000-4000-8000-000000000001' }
    expect((await svc.api.post('/credentials/issue', { credential }, board.apiKey)).status).toBe(201)
    const again = await svc.api.post('/credentials/issue', { credential }, board.apiKey)
    expect(again.status).toBe(409)
    expect(await issuedEventsFor(credential.id)).toHaveLength(1)
  })

  it('keeps the trail intact across concurrent issuances', async () => {
    const results = await Promise.all(
      Array.from({ length: 6 }, () => svc.api.post('/credentials/issue', { credential: licenseCredential(clinician.did) }, board.apiKey)),
    )
    expect(results.map((r) => r.status)).toEqual(Array(6).fill(201))
    for (const r of results) expect(await issuedEventsFor(r.body.verifiableCredential.id)).toHaveLength(1)
    expect((await checkTrail(svc)).problems).toEqual([])
  })
})
