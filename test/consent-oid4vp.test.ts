import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { patientIdentityCredential } from './helpers/fixtures.js'
import { Oid4vcWallet } from './helpers/oid4vc-wallet.js'
import { startTestService, type TestService } from './helpers/service.js'

describe('consent enforced on an OID4VP request for a patient credential', () => {
  let svc: TestService
  let hospital: { id: string; did: string; apiKey: string }
  let wallet: Oid4vcWallet
  let identity: string

  beforeAll(async () => {
    svc = await startTestService()
    const idp = await svc.api.createTrustedIdentityProvider('Registration Desk')
    hospital = await svc.api.createInstitution({ name: 'Hospital A', kind: 'hospital' })
    wallet = await Oid4vcWallet.create({ publicUrl: svc.config.publicUrl, baseUrl: svc.url }, 'EdDSA', 'did:key')
    identity = (await svc.api.post('/credentials/issue', { credential: patientIdentityCredential(wallet.did) }, idp.apiKey)).body.verifiableCredential.proof.jwt
  })
  afterAll(() => svc?.dispose())

  const ask = async (purpose: string) => {
    const created = await svc.api.post('/oid4vp/requests', { purpose, credentialTypes: ['PatientIdentityCredential'] }, hospital.apiKey)
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    await wallet.answer(created.body.request, [identity])
    return (await svc.api.get(`/oid4vp/requests/${created.body.id}`, hospital.apiKey)).body
  }
  const failed = (view: any) => (view.checks as { check: string; ok: boolean }[]).filter((c) => !c.ok).map((c) => c.check)

  it('fails consent without one, verifies once the patient granted it for that purpose', async () => {
    const before = await ask('treatment')
    expect(before.status).toBe('failed')
    expect(failed(before)).toEqual(['consent'])

    const consent = await wallet.consent(hospital.did, ['treatment'], svc.config.publicUrl)
    const granted = await svc.api.post('/consents', { consent })
    expect(granted.status, JSON.stringify(granted.body)).toBe(201)

    const after = await ask('treatment')
    expect(after.status).toBe('verified')
    expect(after.checks.find((c: any) => c.check === 'consent')).toMatchObject({ ok: true })
    expect(failed(await ask('research'))).toEqual(['consent'])
  })
})
