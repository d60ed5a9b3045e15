import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HolderWallet } from '../src/holder/wallet.js'
import { startTestService, type TestService } from './helpers/service.js'
import { decodePart, jwtOfEnvelope, licenseCredentialV2 } from './helpers/vc2.js'

describe('VC 2.0 license: suspended and reinstated through its Bitstring Status List (suspension purpose)', () => {
  let svc: TestService
  beforeAll(async () => {
    svc = await startTestService()
  })
  afterAll(() => svc?.dispose())

  it('suspends (status fails as suspended), reinstates (verifies again)', async () => {
    const board = await svc.api.createTrustedBoard('Texas Medical Board')
    const clinician = await HolderWallet.create()
    const envelope = (await svc.api.post('/credentials/issue', { credential: licenseCredentialV2(clinician.did, board.did) }, board.apiKey)).body.verifiableCredential
    const id = decodePart(jwtOfEnvelope(envelope), 1).id
    const verify = () => svc.api.post('/credentials/verify', { verifiableCredential: envelope })
    const change = (status: string) => svc.api.post('/credentials/status', { credentialId: id, credentialStatus: [{ type: 'BitstringStatusListEntry', status }] }, board.apiKey)
    expect((await verify()).status).toBe(200)

    expect((await change('suspended')).body).toMatchObject({ status: 'suspended', changed: true })
    const suspended = await verify()
    expect(suspended.status).toBe(400)
    expect(suspended.body.errors).toEqual([{ check: 'status', detail: 'suspended' }])

    expect((await change('active')).body).toMatchObject({ status: 'active', changed: true, detail: 'reinstated' })
    expect((await verify()).status).toBe(200)
    const history = (await svc.api.get(`/credentials/${encodeURIComponent(id)}/status`, board.apiKey)).body.history
    expect(history.map((h: any) => [h.purpose, h.to])).toEqual([['suspension', 'suspended'], ['suspension', 'active']])
  })
})
