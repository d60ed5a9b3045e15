import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HolderWallet } from '../src/holder/wallet.js'
import { startTestService, type TestService } from './helpers/service.js'
import { decodePart, jwtOfEnvelope, licenseCredentialV2 } from './helpers/vc2.js'

describe('a VC 2.0 license in the accept-once story: verified at A (receipt), accepted at B as an envelope, refused once revoked', () => {
  let svc: TestService
  beforeAll(async () => {
    svc = await startTestService()
  })
  afterAll(() => svc?.dispose())

  it('A verifies the enveloped license in a presentation and signs a receipt; B accepts the envelope on it; revocation ends it', async () => {
    const board = await svc.api.createTrustedBoard('Texas Medical Board')
    const [hospitalA, hospitalB] = [await svc.api.createInstitution({ name: 'A', kind: 'hospital' }), await svc.api.createInstitution({ name: 'B', kind: 'hospital' })]
    await svc.api.post('/trust/verifiers', { did: hospitalA.did }, svc.api.adminToken)
    const clinician = await HolderWallet.create()
    const license = (await svc.api.post('/credentials/issue', { credential: licenseCredentialV2(clinician.did, board.did) }, board.apiKey)).body.verifiableCredential
    const payload = decodePart(jwtOfEnvelope(license), 1)

    const { challenge, domain } = (await svc.api.post('/verifications/challenges', {}, hospitalA.apiKey)).body
    const vp = await clinician.signJwt({ iss: clinician.did, nonce: challenge, aud: domain, vp: { '@context': ['https://www.w3.org/2018/credentials/v1'], type: ['VerifiablePresentation'], verifiableCredential: [license] } })
    const verified = await svc.api.post('/verifications', { verifiablePresentation: vp, challenge, domain, purpose: 'onboarding' }, hospitalA.apiKey)
    expect(verified.body.errors ?? []).toEqual([])
    expect(verified.status).toBe(201)
    const receipt = verified.body.receipts[0]
    expect(receipt.credentialSubject.acceptedCredential).toMatchObject({ id: payload.id, issuer: board.did, expirationDate: payload.validUntil })

    const accepted = await svc.api.post('/acceptances', { verifiableCredential: license, receipt }, hospitalB.apiKey)
    expect(accepted.body.errors ?? accepted.body.detail ?? []).toEqual([])
    expect(accepted.status).toBe(201)
    expect(accepted.body).toMatchObject({ accepted: true, reliedOnReceipt: true })

    await svc.api.post('/credentials/status', { credentialId: payload.id, credentialStatus: [{ type: 'BitstringStatusListEntry', status: 'revoked' }] }, board.apiKey)
    const refused = await svc.api.post('/acceptances', { verifiableCredential: license, receipt }, hospitalB.apiKey)
    expect(refused.status).toBe(400)
    expect(refused.body.errors.map((e: any) => e.check)).toEqual(['status'])
  })
})
