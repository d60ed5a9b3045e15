import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HolderWallet } from '../src/holder/wallet.js'
import { failedChecks, grantConsent, signConsent, verifyPatientAt } from './helpers/consent.js'
import { decodeJws, issueSdJwt } from './helpers/sd-jwt.js'
import { startTestService, type TestService } from './helpers/service.js'

describe('SD-JWT VCs across a key rotation of their issuer', () => {
  let svc: TestService
  let idp: Awaited<ReturnType<TestService['api']['createInstitution']>>
  let hospital: typeof idp
  let patient: HolderWallet

  beforeAll(async () => {
    svc = await startTestService()
    idp = await svc.api.createTrustedIdentityProvider('Registration Desk')
    hospital = await svc.api.createInstitution({ name: 'St Luke', kind: 'hospital' })
    patient = await HolderWallet.create()
    await grantConsent(svc, await signConsent(patient, hospital.did))
  })
  afterAll(() => svc?.dispose())

  const rotate = (reason: string) => svc.api.post(`/institutions/${idp.id}/keys/rotate`, { reason }, svc.api.adminToken)

  it('superseded: what was issued before still verifies (its Token Status List re-signed with the new key); the new key signs under a new kid', async () => {
    const before = await issueSdJwt(svc, idp.apiKey, patient.did)
    expect((await rotate('superseded')).status).toBe(200)
    const old = await verifyPatientAt(svc, hospital, (b) => patient.presentSdJwt(before, ['name'], b))
    expect(old.body.errors).toBeUndefined()
    expect(old.status).toBe(201)
    const list = await svc.api.get(decodeJws(before.split('~')[0]).payload.status.status_list.uri.replace(svc.config.publicUrl, ''))
    expect(decodeJws(list.body).header.kid).not.toBe(decodeJws(before.split('~')[0]).header.kid)

    const after = await issueSdJwt(svc, idp.apiKey, patient.did)
    expect(decodeJws(after.split('~')[0]).header.kid).not.toBe(decodeJws(before.split('~')[0]).header.kid)
    expect((await verifyPatientAt(svc, hospital, (b) => patient.presentSdJwt(after, ['name'], b))).status).toBe(201)
  })

  it('compromised: nothing the old key signed verifies', async () => {
    const before = await issueSdJwt(svc, idp.apiKey, patient.did)
    expect((await rotate('compromised')).status).toBe(200)
    const res = await verifyPatientAt(svc, hospital, (b) => patient.presentSdJwt(before, ['name'], b))
    expect(failedChecks(res.body)).toContain('proof')
  })
})
