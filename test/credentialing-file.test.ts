import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HolderWallet } from '../src/holder/wallet.js'
import { licenseCredential } from './helpers/fixtures.js'
import { startTestService, type TestService } from './helpers/service.js'

describe('POST /credentialing-files', () => {
  let svc: TestService
  let board: { id: string; did: string; apiKey: string }
  let hospitalA: { id: string; did: string; apiKey: string }
  let hospitalB: { id: string; did: string; apiKey: string }
  let clinician: HolderWallet
  let license: any
  let dea: any

  beforeAll(async () => {
    svc = await startTestService()
    board = await svc.api.createTrustedBoard('Texas Medical Board')
    ;({ hospitalA, hospitalB } = await svc.api.createHospitalPair())
    clinician = await HolderWallet.create()
    const issue = async (credential: unknown) => (await svc.api.post('/credentials/issue', { credential }, board.apiKey)).body.verifiableCredential
    license = await issue(licenseCredential(clinician.did))
    dea = await issue({
      '@context': ['https://www.w3.org/2018/credentials/v1'], type: ['VerifiableCredential', 'DEARegistrationCredential'],
      expirationDate: new Date(Date.now() + 3 * 365 * 86_400_000).toISOString(),
      credentialSubject: { id: clinician.did, name: 'Dr. Ada Rivera', deaNumber: 'AB1234563', schedules: ['2', '3', '4', '5'], jurisdiction: 'US-TX' },
    })
  })
  afterAll(() => svc?.dispose())

  const file = async (hospital: typeof hospitalA, credentials: unknown[], receipts?: unknown[]) => {
    const { challenge, domain } = (await svc.api.post('/verifications/challenges', {}, hospital.apiKey)).body
    const vp = await clinician.present(credentials as never, { challenge, domain })
    return svc.api.post('/credentialing-files', { verifiablePresentation: vp, challenge, domain, purpose: 'onboarding', ...(receipts ? { receipts } : {}) }, hospital.apiKey)
  }
  const element = (report: any, name: string) => report.elements.find((e: any) => e.element === name)

  it('files a checklist: license and DEA verified, board certification missing, other elements named as outside medcred', async () => {
    const res = await file(hospitalA, [license, dea])
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({ clinician: clinician.did, complete: false, purpose: 'onboarding' })
    expect(element(res.body, 'state-license')).toMatchObject({ status: 'verified', issuer: board.did, credentialId: license.id })
    expect(element(res.body, 'dea-registration')).toMatchObject({ status: 'verified' })
    expect(element(res.body, 'board-certification')).toEqual({ element: 'board-certification', credentialType: 'BoardCertificationCredential', status: 'missing' })
    expect(res.body.notCoveredByMedcred).toContain('npdb-query')
    const stored = await svc.api.get(`/credentialing-files/${res.body.id}`, hospitalA.apiKey)
    expect(stored.body).toEqual(res.body)
    expect((await svc.api.get(`/credentialing-files/${res.body.id}`, hospitalB.apiKey)).status).toBe(404)
  })

  it("relies on another hospital's receipt for an element, and says whose", async () => {
    const { challenge, domain } = (await svc.api.post('/verifications/challenges', {}, hospitalA.apiKey)).body
    const vp = await clinician.present([license], { challenge, domain })
    const receipt = (await svc.api.post('/verifications', { verifiablePresentation: vp, challenge, domain, purpose: 'onboarding' }, hospitalA.apiKey)).body.receipts[0]
    const res = await file(hospitalB, [license, dea], [receipt])
    expect(element(res.body, 'state-license')).toMatchObject({ status: 'relied-on-receipt', reliedOn: { verifier: hospitalA.did } })
    expect(element(res.body, 'dea-registration')).toMatchObject({ status: 'verified' })
  })

  it('marks a revoked credential as failed, with the check that failed', async () => {
    const revokedDea = (await svc.api.post('/credentials/issue', { credential: { '@context': ['https://www.w3.org/2018/credentials/v1'], type: ['VerifiableCredential', 'DEARegistrationCredential'], expirationDate: new Date(Date.now() + 86_400_000 * 30).toISOString(), credentialSubject: { id: clinician.did, name: 'Dr. Ada Rivera', deaNumber: 'AB1234563', schedules: ['2'], jurisdiction: 'US-TX' } } }, board.apiKey)).body.verifiableCredential
    await svc.api.post('/credentials/status', { credentialId: revokedDea.id, credentialStatus: [{ type: 'StatusList2021Entry', status: 'revoked' }] }, board.apiKey)
    const res = await file(hospitalA, [license, revokedDea])
    expect(element(res.body, 'dea-registration')).toMatchObject({ status: 'failed', failures: [{ check: 'status', detail: 'revoked' }] })
    expect(res.body.complete).toBe(false)
  })
})
