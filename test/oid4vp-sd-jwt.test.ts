import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Oid4vcWallet } from './helpers/oid4vc-wallet.js'
import { issueSdJwt } from './helpers/sd-jwt.js'
import { startTestService, type TestService } from './helpers/service.js'

/**
 * A patient's SD-JWT VC presented over OID4VP 1.0: the request asks for `dc+sd-jwt` by `vct`; the wallet
 * (from the specifications, not the server's code) discloses name and birth date only, with a KB-JWT
 * bound to the request's nonce and client id; consent is enforced as on every other path.
 */
describe('OID4VP with an SD-JWT VC (dc+sd-jwt)', () => {
  let svc: TestService
  let hospital: { id: string; did: string; apiKey: string }
  let wallet: Oid4vcWallet
  let sdJwt: string

  beforeAll(async () => {
    svc = await startTestService()
    const idp = await svc.api.createTrustedIdentityProvider('Registration Desk')
    hospital = await svc.api.createInstitution({ name: 'Hospital A', kind: 'hospital' })
    wallet = await Oid4vcWallet.create({ publicUrl: svc.config.publicUrl, baseUrl: svc.url }, 'EdDSA', 'did:key')
    sdJwt = await issueSdJwt(svc, idp.apiKey, wallet.did)
    const consent = await wallet.consent(hospital.did, ['treatment'], svc.config.publicUrl)
    expect((await svc.api.post('/consents', { consent })).status).toBe(201)
  })
  afterAll(() => svc?.dispose())

  const ask = async (purpose = 'treatment') => {
    const created = await svc.api.post('/oid4vp/requests', { purpose, credentialTypes: ['PatientIdentityCredential'], format: 'dc+sd-jwt' }, hospital.apiKey)
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    return created.body as { id: string; request: string }
  }
  const view = async (id: string) => (await svc.api.get(`/oid4vp/requests/${id}`, hospital.apiKey)).body
  const failed = (v: any) => (v.checks as { check: string; ok: boolean }[]).filter((c) => !c.ok).map((c) => c.check)

  it('asks for the credential by vct in DCQL, and verifies a presentation disclosing name and birth date only', async () => {
    const { id, request } = await ask()
    const { request: opened, reply } = await wallet.answerSdJwt(request, sdJwt, ['name', 'birthDate'])
    const query = opened.claims.dcql_query.credentials[0]
    expect(query).toEqual({ id: 'PatientIdentityCredential', format: 'dc+sd-jwt', meta: { vct_values: [`${svc.config.publicUrl}/vct/PatientIdentityCredential`] } })
    expect(Object.keys(opened.claims.client_metadata.vp_formats_supported)).toEqual(['dc+sd-jwt'])
    expect(reply.status, JSON.stringify(reply.body)).toBe(200)
    const v = await view(id)
    expect(v.status, JSON.stringify(v.checks)).toBe('verified')
    expect(v.holder).toBe(wallet.did)
    expect(v.checks.find((c: any) => c.check === 'consent')).toMatchObject({ ok: true })
    // What is stored of the verification holds what was disclosed, never the rest.
    const stored = JSON.stringify(v.verification)
    expect(stored).not.toContain('MRN-0042')
    expect(stored).not.toContain('Austin')
  })

  it('fails a KB-JWT bound to another nonce or another client, naming the check', async () => {
    const nonce = await ask()
    await wallet.answerSdJwt(nonce.request, sdJwt, ['name'], { nonce: 'not-the-request-nonce' })
    expect(failed(await view(nonce.id))).toContain('challenge')
    const aud = await ask()
    await wallet.answerSdJwt(aud.request, sdJwt, ['name'], { aud: 'decentralized_identifier:did:example:other' })
    expect(failed(await view(aud.id))).toContain('domain')
  })

  it('enforces consent: no consent for research', async () => {
    const { id, request } = await ask('research')
    await wallet.answerSdJwt(request, sdJwt, ['name'])
    expect(failed(await view(id))).toEqual(['consent'])
  })

  it('refuses to ask for a license or for receipts as dc+sd-jwt', async () => {
    for (const body of [
      { purpose: 'onboarding', credentialTypes: ['ClinicianLicenseCredential'], format: 'dc+sd-jwt' },
      { purpose: 'treatment', credentialTypes: ['PatientIdentityCredential'], format: 'dc+sd-jwt', acceptReceipts: true },
    ]) {
      const res = await svc.api.post('/oid4vp/requests', body, hospital.apiKey)
      expect(res.status).toBe(400)
      expect(res.body.type).toBe('https://medcred.dev/problems/invalid-request')
    }
  })
})
