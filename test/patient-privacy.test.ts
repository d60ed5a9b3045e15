import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { captureOutput } from './helpers/capture-output.js'
import { HolderWallet } from '../src/holder/wallet.js'
import { failedChecks, grantConsent, patientBearer, signConsent, signRevocation, verifyPatientAt } from './helpers/consent.js'
import { b64json, decodeJws, enc, expectNoneIn } from './helpers/sd-jwt.js'
import { tamperPayload } from './helpers/fixtures.js'
import { startTestService, type TestService } from './helpers/service.js'

const NAME = 'Quinn Privacy-Probe'
const BIRTH = '1971-07-14'
const MRN = 'MRN-PRIV-9'
const SECRETS = [NAME, BIRTH, MRN]

/**
 * Runs every patient flow (issuance in both formats, verification passed and failed in each way, the VC
 * API, consent grant, revocation and listing, refused inputs) while capturing the service's log and the
 * process's stdout and stderr; none may hold the patient's name, birth date or identifier, and neither
 * may any problem (error) answered.
 */
describe('patient data stays out of logs and error messages', () => {
  let svc: TestService
  let output: ReturnType<typeof captureOutput>
  const problems: unknown[] = []

  beforeAll(async () => {
    output = captureOutput()
    svc = await startTestService()
  })
  afterAll(async () => {
    output.restore()
    await svc?.dispose()
  })

  const keep = <T extends { status: number; body: any }>(res: T): T => {
    if (res.status >= 400) problems.push(res.body)
    return res
  }

  it('runs the patient flows', async () => {
    const idp = await svc.api.createTrustedIdentityProvider('Desk')
    const hospital = await svc.api.createInstitution({ name: 'Clinic', kind: 'hospital' })
    const patient = await HolderWallet.create()
    const subject = { id: patient.did, name: NAME, birthDate: BIRTH, assuranceLevel: 'IAL2', identifiers: [{ system: 'urn:mrn:clinic', value: MRN }] }
    const credential = { '@context': ['https://www.w3.org/2018/credentials/v1'], type: ['VerifiableCredential', 'PatientIdentityCredential'], credentialSubject: subject }

    const sd = keep(await svc.api.post('/credentials/issue', { credential, options: { format: 'dc+sd-jwt' } }, idp.apiKey))
    expect(sd.status).toBe(201)
    const sdJwt = sd.body.verifiableCredential as string
    const vcJwt = keep(await svc.api.post('/credentials/issue', { credential }, idp.apiKey))
    expect(vcJwt.status).toBe(201)

    // Refused issuance: details name the field, not its value.
    for (const bad of [{ ...subject, birthDate: '2999-01-01' }, { ...subject, birthDate: `${BIRTH}T00:00` }, { ...subject, name: NAME.repeat(20) }, { ...subject, identifiers: [{ system: 'x', value: MRN, extra: NAME }] }]) {
      const res = keep(await svc.api.post('/credentials/issue', { credential: { ...credential, credentialSubject: bad }, options: { format: 'dc+sd-jwt' } }, idp.apiKey))
      expect(res.status).toBe(422)
    }

    // Verifications: without consent, with it, tampered, unbound, then revoked.
    const present = (b: { challenge: string; domain: string }) => patient.presentSdJwt(sdJwt, ['name', 'birthDate', 'identifiers'], b)
    expect(failedChecks(keep(await verifyPatientAt(svc, hospital, present)).body)).toEqual(['consent'])
    const consentId = await grantConsent(svc, await signConsent(patient, hospital.did))
    expect((await verifyPatientAt(svc, hospital, present)).status).toBe(201)
    const tampered = keep(
      await verifyPatientAt(svc, hospital, async (b) => {
        const parts = (await present(b)).split('~')
        const d = b64json(parts[1])
        d[2] = `${d[2]}x`
        parts[1] = enc(d)
        return parts.join('~')
      }),
    )
    expect(failedChecks(tampered.body)).toContain('disclosures')
    keep(await verifyPatientAt(svc, hospital, async (b) => (await present(b)).replace(/[^~]+$/, '')))
    keep(await svc.api.post('/presentations/verify', { verifiablePresentation: await present({ challenge: 'c-1', domain: 'd-1' }), options: { challenge: 'c-1', domain: 'd-1' } }))
    keep(await svc.api.post('/credentials/verify', { verifiableCredential: tamperPayload(vcJwt.body.verifiableCredential.proof.jwt, 'IAL2', 'IAL3') }))
    keep(await svc.api.post('/presentations/verify', { verifiablePresentation: await patient.present([vcJwt.body.verifiableCredential], { challenge: 'c-2', domain: 'd-2' }), options: { challenge: 'c-2', domain: 'd-2' } }))

    // Consent: list, replay, revoke, replay the revocation.
    const bearer = await patientBearer(svc, patient)
    expect((await svc.api.get('/consents', bearer)).status).toBe(200)
    keep(await svc.api.get('/consents', bearer))
    const revocation = await signRevocation(patient, consentId)
    expect((await svc.api.post(`/consents/${consentId}/revoke`, { revocation })).status).toBe(200)
    keep(await svc.api.post(`/consents/${consentId}/revoke`, { revocation }))
    keep(await svc.api.post('/consents', { consent: vcJwt.body.verifiableCredential.proof.jwt }))

    const { payload } = decodeJws(sdJwt.split('~')[0])
    expect((await svc.api.post('/credentials/status', { credentialId: payload.jti, credentialStatus: [{ type: 'TokenStatusList', status: 'revoked' }] }, idp.apiKey)).status).toBe(200)
    expect(failedChecks(keep(await verifyPatientAt(svc, hospital, present)).body)).toContain('status')
    expect(problems.length).toBeGreaterThanOrEqual(12)
  })

  it('found no patient name, birth date or identifier in the log, stdout, stderr or any problem', () => {
    expectNoneIn(svc.logs, SECRETS)
    expectNoneIn(output.lines, SECRETS)
    // A problem carries detail and errors only (no claims), so none can leak a value.
    expectNoneIn(problems.map((p) => JSON.stringify(p)), SECRETS)
    expect(svc.logs.filter((l) => l.includes('"level":"error"'))).toEqual([])
  })
})
