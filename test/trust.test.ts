import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HolderWallet } from '../src/holder/wallet.js'
import { licenseCredential } from './helpers/fixtures.js'
import { startTestService, type TestService } from './helpers/service.js'

describe('the trust registry', () => {
  let svc: TestService
  let clinician: HolderWallet
  const LICENSE = ['ClinicianLicenseCredential']

  beforeAll(async () => {
    svc = await startTestService()
    clinician = await HolderWallet.create()
  })
  afterAll(() => svc?.dispose())

  const issue = async (apiKey: string, jurisdiction = 'US-TX') =>
    (await svc.api.post('/credentials/issue', { credential: licenseCredential(clinician.did, { credentialSubject: { jurisdiction } }) }, apiKey)).body.verifiableCredential
  const verify = (vc: unknown) => svc.api.post('/credentials/verify', { verifiableCredential: vc })
  const trustOf = (body: any) => body.checks.find((c: any) => c.check === 'trustedIssuer')

  it('fails a validly signed license from an issuer nobody trusts (untrusted issuer)', async () => {
    const board = await svc.api.createInstitution({ name: 'Unlisted Board', kind: 'board', jurisdiction: 'US-TX' })
    const res = await verify(await issue(board.apiKey))
    expect(res.status).toBe(400)
    expect(res.body.errors).toEqual([{ check: 'trustedIssuer', detail: `untrusted issuer: ${board.did} is not in the trust registry` }])
    expect(res.body.checks.find((c: any) => c.check === 'proof').ok).toBe(true)
  })

  it('trusts an issuer only for its types and jurisdictions', async () => {
    const national = await svc.api.createInstitution({ name: 'National Board', kind: 'board' })
    await svc.api.trustIssuer(national.did, LICENSE, ['US-TX'])
    expect(trustOf((await verify(await issue(national.apiKey, 'US-TX'))).body)).toMatchObject({ ok: true, detail: 'trusted for ClinicianLicenseCredential in US-TX' })
    const elsewhere = await verify(await issue(national.apiKey, 'US-CA'))
    expect(elsewhere.body.errors).toEqual([{ check: 'trustedIssuer', detail: 'untrusted issuer: trusted for US-TX, not US-CA' }])

    const certifier = await svc.api.createInstitution({ name: 'Cert Board', kind: 'board' })
    await svc.api.trustIssuer(certifier.did, ['BoardCertificationCredential'])
    const res = await verify(await issue(certifier.apiKey))
    expect(res.body.errors[0].detail).toMatch(/not trusted for ClinicianLicenseCredential/)
  })

  it('honours validity dates, and removing trust takes effect at once', async () => {
    const board = await svc.api.createInstitution({ name: 'Dated Board', kind: 'board', jurisdiction: 'US-TX' })
    const lapsed = await svc.api.post('/trust/issuers', { did: board.did, credentialTypes: LICENSE, validFrom: '2020-01-01T00:00:00Z', validUntil: '2021-01-01T00:00:00Z' }, svc.api.adminToken)
    expect(lapsed.status).toBe(201)
    const vc = await issue(board.apiKey)
    expect((await verify(vc)).body.errors[0].detail).toMatch(/trust ended at 2021-01-01/)

    expect((await svc.api.request('DELETE', `/trust/issuers/${encodeURIComponent(board.did)}`, { token: svc.api.adminToken })).status).toBe(200)
    await svc.api.trustIssuer(board.did, LICENSE, ['US-TX'])
    expect((await verify(vc)).status).toBe(200)
    const removed = await svc.api.request('DELETE', `/trust/issuers/${encodeURIComponent(board.did)}`, { token: svc.api.adminToken })
    expect(removed.body).toMatchObject({ removed: true })
    expect((await verify(vc)).body.errors[0].check).toBe('trustedIssuer')
  })

  it('tells institutions that relied on an issuer’s credentials when it loses trust', async () => {
    const board = await svc.api.createTrustedBoard('Soon Untrusted Board')
    const hospital = await svc.api.createInstitution({ name: 'Relying Hospital', kind: 'hospital' })
    const vc = await issue(board.apiKey)
    const { challenge, domain } = (await svc.api.post('/verifications/challenges', {}, hospital.apiKey)).body
    const vp = await clinician.present([vc], { challenge, domain })
    expect((await svc.api.post('/verifications', { verifiablePresentation: vp, challenge, domain, purpose: 'onboarding' }, hospital.apiKey)).status).toBe(201)

    const removed = await svc.api.request('DELETE', `/trust/issuers/${encodeURIComponent(board.did)}`, { token: svc.api.adminToken })
    expect(removed.body.notifiedInstitutions).toBe(1)
    const notices = await svc.api.get('/notifications', hospital.apiKey)
    expect(notices.body.items[0]).toMatchObject({ event: 'issuer.untrusted', data: { issuer: board.did } })
  })

  it('lists issuers and verifiers to any authenticated caller; only the admin changes them', async () => {
    const hospital = await svc.api.createInstitution({ name: 'Reader', kind: 'hospital' })
    expect((await svc.api.get('/trust/issuers', hospital.apiKey)).status).toBe(200)
    expect((await svc.api.get('/trust/verifiers')).status).toBe(401)
    const forbidden = await svc.api.post('/trust/issuers', { did: hospital.did, credentialTypes: LICENSE }, hospital.apiKey)
    expect(forbidden.status).toBe(403)
    expect((await svc.api.post('/trust/verifiers', { did: hospital.did }, hospital.apiKey)).status).toBe(403)
    expect((await svc.api.post('/trust/verifiers', { did: hospital.did }, svc.api.adminToken)).status).toBe(201)
    expect((await svc.api.post('/trust/verifiers', { did: hospital.did }, svc.api.adminToken)).status).toBe(409)
    const listed = await svc.api.get('/trust/verifiers', hospital.apiKey)
    expect(listed.body.verifiers.map((v: any) => v.did)).toContain(hospital.did)
    expect((await svc.api.request('DELETE', `/trust/verifiers/${encodeURIComponent(hospital.did)}`, { token: svc.api.adminToken })).status).toBe(204)
    expect((await svc.api.request('DELETE', `/trust/verifiers/${encodeURIComponent(hospital.did)}`, { token: svc.api.adminToken })).status).toBe(404)
  })

  it.each([
    [{ did: 'nope', credentialTypes: ['ClinicianLicenseCredential'] }, 'did'],
    [{ did: 'did:key:z6Mk', credentialTypes: [] }, 'credentialTypes'],
    [{ did: 'did:key:z6Mk', credentialTypes: ['ClinicianLicenseCredential'], jurisdictions: ['Texas'] }, 'jurisdictions.0'],
    [{ did: 'did:key:z6Mk', credentialTypes: ['ClinicianLicenseCredential'], validUntil: 'tomorrow' }, 'validUntil'],
  ])('rejects a malformed trust entry %j (400, naming %s)', async (body, field) => {
    const res = await svc.api.post('/trust/issuers', body, svc.api.adminToken)
    expect(res.status).toBe(400)
    expect(res.body.errors[0].field).toBe(field)
  })
})
