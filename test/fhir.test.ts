import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HolderWallet } from '../src/holder/wallet.js'
import { fhirIssues } from '../src/fhir/validator.js'
import { startTestService, type TestService } from './helpers/service.js'
import { VALID_NPI } from './helpers/fixtures.js'
import { grantConsent, signConsent, signRevocation } from './helpers/consent.js'

const NPI = 'http://hl7.org/fhir/sid/us-npi'

function practitioner(over: Record<string, any> = {}) {
  const nextYear = new Date(Date.now() + 365 * 86400_000).toISOString().slice(0, 10)
  return {
    resourceType: 'Practitioner',
    identifier: [{ system: NPI, value: VALID_NPI }],
    name: [{ prefix: ['Dr.'], given: ['Ada'], family: 'Rivera' }],
    qualification: [
      {
        identifier: [{ system: 'urn:us-tx:medical-board:license', value: 'Q-48211' }],
        code: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0360', code: 'MD', display: 'Doctor of Medicine' }] },
        period: { start: '2020-01-01', end: nextYear },
        issuer: { display: 'Texas Medical Board', identifier: { system: 'urn:iso:std:iso:3166:-2', value: 'US-TX' } },
      },
    ],
    ...over,
  }
}

async function fhirPost(svc: TestService, path: string, body: unknown, token: string) {
  const res = await fetch(svc.url + path, { method: 'POST', headers: { 'content-type': 'application/fhir+json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) })
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: (await res.json()) as any }
}

describe('FHIR R4 in and out', () => {
  let svc: TestService
  let board: { id: string; did: string; apiKey: string }
  let hospital: { id: string; did: string; apiKey: string }
  let idp: { apiKey: string }

  beforeAll(async () => {
    svc = await startTestService()
    board = await svc.api.createTrustedBoard('Texas Medical Board')
    hospital = await svc.api.createInstitution({ name: 'Mercy General', kind: 'hospital' })
    idp = await svc.api.createInstitution({ name: 'Registration desk', kind: 'identity-provider' })
  })
  afterAll(() => svc?.dispose())

  it('serves a CapabilityStatement that validates as FHIR R4, as application/fhir+json', async () => {
    const res = await svc.api.get('/fhir/metadata')
    expect(res.status).toBe(200)
    expect(res.type).toMatch(/^application\/fhir\+json/)
    expect(res.body.resourceType).toBe('CapabilityStatement')
    expect(fhirIssues(res.body)).toEqual([])
  })

  it('round trip: Practitioner in, license issued, verified, VerificationResult out (valid R4, NDH fields)', async () => {
    const clinician = await HolderWallet.create()
    const issued = await fhirPost(svc, `/fhir/Practitioner/$issue-license?subject=${encodeURIComponent(clinician.did)}`, practitioner(), board.apiKey)
    expect(issued.status, JSON.stringify(issued.body)).toBe(200)
    expect(issued.type).toMatch(/^application\/fhir\+json/)
    expect(fhirIssues(issued.body)).toEqual([])
    const jwt = issued.body.parameter.find((p: any) => p.name === 'verifiableCredential').valueString

    const binding = (await svc.api.post('/verifications/challenges', {}, hospital.apiKey)).body
    const vp = await clinician.present([jwt], binding)
    const verified = await svc.api.post('/verifications', { verifiablePresentation: vp.proof.jwt, challenge: binding.challenge, domain: binding.domain, purpose: 'onboarding' }, hospital.apiKey)
    expect(verified.status, JSON.stringify(verified.body)).toBe(201)

    const vr = await svc.api.get(`/fhir/VerificationResult/${verified.body.id}`, hospital.apiKey)
    expect(vr.status).toBe(200)
    expect(vr.type).toMatch(/^application\/fhir\+json/)
    expect(fhirIssues(vr.body)).toEqual([])
    expect(vr.body).toMatchObject({
      resourceType: 'VerificationResult',
      status: 'validated',
      target: [{ reference: `Practitioner/${VALID_NPI}` }],
      validationType: { coding: [{ code: 'primary' }] },
      primarySource: [{ who: { identifier: { value: board.did } } }],
      validator: [{ organization: { identifier: { value: hospital.did } } }],
    })
    expect(vr.body.primarySource[0].validationDate).toBeTruthy()
    expect(Buffer.from(vr.body.validator[0].attestationSignature.data, 'base64').toString()).toBe(verified.body.receipts[0].proof.jwt)
    expect(vr.body.lastPerformed).toBeTruthy()
    expect(Date.parse(vr.body.nextScheduled) - Date.parse(vr.body.lastPerformed.slice(0, 10))).toBe(120 * 86400_000)

    const search = await svc.api.get(`/fhir/VerificationResult?target=Practitioner/${VALID_NPI}`, hospital.apiKey)
    expect(search.status).toBe(200)
    expect(fhirIssues(search.body)).toEqual([])
    expect(search.body.entry.map((e: any) => e.resource.id)).toContain(verified.body.id)
  })

  it('shows an acceptance on another hospital\'s receipt as such', async () => {
    const other = await svc.api.createInstitution({ name: "St. Luke's", kind: 'hospital' })
    await svc.api.post('/trust/verifiers', { did: hospital.did }, svc.api.adminToken)
    const clinician = await HolderWallet.create()
    const issued = await fhirPost(svc, `/fhir/Practitioner/$issue-license?subject=${encodeURIComponent(clinician.did)}`, practitioner(), board.apiKey)
    const jwt = issued.body.parameter.find((p: any) => p.name === 'verifiableCredential').valueString
    const binding = (await svc.api.post('/verifications/challenges', {}, hospital.apiKey)).body
    const vp = await clinician.present([jwt], binding)
    const verified = await svc.api.post('/verifications', { verifiablePresentation: vp.proof.jwt, challenge: binding.challenge, domain: binding.domain, purpose: 'onboarding' }, hospital.apiKey)
    const accepted = await svc.api.post('/acceptances', { verifiableCredential: jwt, receipt: verified.body.receipts[0].proof.jwt }, other.apiKey)
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(201)
    const vr = await svc.api.get(`/fhir/VerificationResult/${accepted.body.acceptanceId}`, other.apiKey)
    expect(vr.status).toBe(200)
    expect(fhirIssues(vr.body)).toEqual([])
    expect(vr.body.validator[0].organization.identifier.value).toBe(hospital.did)
    expect(vr.body.attestation.who.identifier.value).toBe(other.did)
    expect(vr.body.validationProcess.map((p: any) => p.coding[0].code)).toContain('accept-on-receipt')
  })

  it('with ?offer=true answers an OID4VCI offer', async () => {
    const res = await fhirPost(svc, '/fhir/Practitioner/$issue-license?offer=true', practitioner(), board.apiKey)
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(res.body.parameter.find((p: any) => p.name === 'offer').valueUri).toMatch(/^openid-credential-offer:\/\//)
  })

  it('issues a patient identity credential from a Patient', async () => {
    const patient = await HolderWallet.create()
    const res = await fhirPost(svc, `/fhir/Patient/$issue-identity?subject=${encodeURIComponent(patient.did)}&assuranceLevel=IAL2`, {
      resourceType: 'Patient', name: [{ given: ['Sam'], family: 'Patient' }], birthDate: '1984-03-09', identifier: [{ system: 'urn:mrn:st-lukes', value: 'MRN-0042' }],
    }, idp.apiKey)
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(res.body.parameter[0].name).toBe('credentialId')
  })

  it('refuses a Patient whose name has an odd shape (given as an object) with a 4xx naming the element, never a 500', async () => {
    const res = await fhirPost(svc, '/fhir/Patient/$issue-identity?assuranceLevel=IAL2&offer=true', {
      resourceType: 'Patient', name: [{ given: {} }], birthDate: '1984-03-09', identifier: [{ system: 'urn:mrn:st-lukes', value: 'MRN-0042' }],
    }, idp.apiKey)
    expect(res.status, JSON.stringify(res.body)).toBeGreaterThanOrEqual(400)
    expect(res.status).toBeLessThan(500)
    expect(JSON.stringify(res.body)).toMatch(/Patient\.name/)
  })

  it('gives the consents a patient granted to the calling institution as FHIR Consent resources (valid R4)', async () => {
    const patient = await HolderWallet.create()
    const active = await grantConsent(svc, await signConsent(patient, hospital.did, { purposes: ['treatment'] }))
    const revoked = await grantConsent(svc, await signConsent(patient, hospital.did, { purposes: ['treatment'], expiresInSeconds: 2 * 86_400 }))
    expect((await svc.api.post(`/consents/${revoked}/revoke`, { revocation: await signRevocation(patient, revoked) })).status).toBe(200)
    const res = await svc.api.get(`/fhir/Consent?patient=${encodeURIComponent(patient.did)}`, hospital.apiKey)
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(res.type).toMatch(/^application\/fhir\+json/)
    expect(fhirIssues(res.body)).toEqual([])
    const byId = Object.fromEntries(res.body.entry.map((e: any) => [e.resource.id, e.resource]))
    expect(byId[active]).toMatchObject({ resourceType: 'Consent', status: 'active', patient: { identifier: { value: patient.did } }, provision: { type: 'permit', purpose: [{ code: 'treatment' }] } })
    expect(byId[revoked].status).toBe('inactive')
    const other = await svc.api.get(`/fhir/Consent?patient=${encodeURIComponent(patient.did)}`, board.apiKey)
    expect(other.body.entry).toEqual([])
    expect((await svc.api.get('/fhir/Consent?patient=bob', hospital.apiKey)).status).toBe(400)
    expect((await svc.api.get(`/fhir/Consent?patient=${encodeURIComponent(patient.did)}`)).status).toBe(401)
  })

  const subject = 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK'
  const refusals: [string, () => Record<string, any>, string][] = [
    ['no NPI', () => practitioner({ identifier: [{ system: 'urn:other', value: 'x' }] }), 'Practitioner.identifier'],
    ['a wrong NPI check digit', () => practitioner({ identifier: [{ system: NPI, value: '1234567890' }] }), 'Practitioner.identifier[0].value'],
    ['a period in the past', () => { const p = practitioner(); p.qualification[0].period = { start: '2010-01-01', end: '2020-01-01' }; return p }, 'Practitioner.qualification[0].period.end'],
    ['a period end that is no date', () => { const p = practitioner(); p.qualification[0].period = { start: '2010-01-01', end: '2099-99-99' }; return p }, 'Practitioner.qualification[0].period.end'],
    ['a wrong resourceType', () => ({ ...practitioner(), resourceType: 'Patient' }), 'resourceType'],
    ['a structurally invalid element', () => practitioner({ identifier: [{ system: NPI, value: 1234567893 }] }), 'Practitioner.identifier[0].value'],
    ['an unknown element', () => practitioner({ licence: 'x' }), 'Practitioner.licence'],
  ]
  for (const [what, resource, fhirPath] of refusals) {
    it(`refuses ${what} with a problem naming ${fhirPath}`, async () => {
      const res = await fhirPost(svc, `/fhir/Practitioner/$issue-license?subject=${subject}`, resource(), board.apiKey)
      expect(res.status).toBe(422)
      expect(res.type).toMatch(/^application\/problem\+json/)
      expect(res.body.type).toBe('https://medcred.dev/problems/invalid-fhir-resource')
      expect(res.body.fhirPath).toBe(fhirPath)
    })
  }

  it('refuses a request without subject or offer, another kind of caller, and an unknown id', async () => {
    expect((await fhirPost(svc, '/fhir/Practitioner/$issue-license', practitioner(), board.apiKey)).status).toBe(400)
    expect((await fhirPost(svc, `/fhir/Practitioner/$issue-license?subject=${subject}`, practitioner(), hospital.apiKey)).status).toBe(403)
    expect((await fhirPost(svc, `/fhir/Practitioner/$issue-license?subject=${subject}`, practitioner(), 'nope-nope-nope')).status).toBe(401)
    expect((await svc.api.get('/fhir/VerificationResult/00000000-0000-0000-0000-000000000000', hospital.apiKey)).status).toBe(404)
    expect((await svc.api.get('/fhir/VerificationResult?target=Practitioner/12', hospital.apiKey)).status).toBe(400)
    const notJson = await fetch(`${svc.url}/fhir/Practitioner/$issue-license?subject=${subject}`, { method: 'POST', headers: { 'content-type': 'application/fhir+json', authorization: `Bearer ${board.apiKey}` }, body: '{' })
    expect(notJson.status).toBe(400)
  })
})
