import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { routersOf } from '../src/api/app.js'
import { docsOf } from '../src/api/openapi/route-doc.js'
import { HolderWallet } from '../src/holder/wallet.js'
import { bodyBytes, bodyCase, FC_RUNS, FC_SEED, hostilePathSegment, hostileQuery, shortReport, type BodyCase } from './helpers/arbitraries.js'
import { checkTrail } from './helpers/audit.js'
import { signConsent, signRevocation } from './helpers/consent.js'
import { licenseCredential, patientIdentityCredential } from './helpers/fixtures.js'
import { startTestService, type TestService } from './helpers/service.js'

type Who = 'none' | 'admin' | 'own' | 'other' | 'bogus'
interface Endpoint {
  method: 'POST' | 'PATCH' | 'GET' | 'DELETE'
  /** The path, with `{id}` where a hostile path segment may replace the real one. */
  path: string
  /** The real value of `{id}`. */
  id?: () => string
  /** Who calls it when the case does not pick someone else. */
  caller: Who
  template?: () => unknown
  /** Wallet protocol endpoints answer OAuth errors (`{error, error_description}`), not problem+json. */
  oauth?: boolean
}

/**
 * Property-based tests of every JSON endpoint: each gets its valid body mutated at random paths (every field
 * of its schema, at any depth) or replaced with a hostile value, sent in odd encodings and content types, by
 * the right caller or another. Properties: never a 5xx; every 4xx is RFC 9457 problem+json (OAuth error
 * JSON on the wallet protocol endpoints); after the run the audit trail still verifies.
 * Bounded and seeded for CI (FC_RUNS, FC_SEED in helpers/arbitraries.ts); run longer locally with
 * `FC_RUNS=2000 FC_SEED=7 npx vitest run test/properties.http.test.ts`.
 */
describe('the HTTP surface under arbitrary input (property-based)', () => {
  let svc: TestService
  let board: { id: string; did: string; apiKey: string }
  let hospital: { id: string; did: string; apiKey: string }
  let idp: { id: string; did: string; apiKey: string }
  /** Whose API key the admin replaces, over and over (nobody else's key changes under the run). */
  let spare: { id: string; did: string; apiKey: string }
  let clinician: HolderWallet
  let patient: HolderWallet
  let license: any
  let presentation: any
  let consent: string
  let consentId: string
  let revocation: string
  const seen = new Map<string, Map<number, number>>()

  beforeAll(async () => {
    svc = await startTestService({ env: { AUTH_FAILURES_PER_MINUTE: '1000000' } })
    board = await svc.api.createTrustedBoard('Texas Medical Board')
    hospital = await svc.api.createInstitution({ name: 'Hospital', kind: 'hospital' })
    idp = await svc.api.createTrustedIdentityProvider('Registration desk')
    spare = await svc.api.createInstitution({ name: 'Spare', kind: 'hospital' })
    await svc.api.post('/trust/verifiers', { did: hospital.did }, svc.api.adminToken)
    clinician = await HolderWallet.create()
    patient = await HolderWallet.create()
    license = (await svc.api.post('/credentials/issue', { credential: licenseCredential(clinician.did) }, board.apiKey)).body.verifiableCredential
    const c = (await svc.api.post('/verifications/challenges', {}, hospital.apiKey)).body
    presentation = await clinician.present([license], c)
    consent = await signConsent(patient, hospital.did)
    consentId = (await svc.api.post('/consents', { consent })).body.id
    revocation = await signRevocation(patient, consentId)
  }, 120_000)
  afterAll(() => svc?.dispose())

  const tokenOf = (who: Who, own: string): string | undefined =>
    ({ none: undefined, admin: svc.api.adminToken, own, other: own === hospital.apiKey ? board.apiKey : hospital.apiKey, bogus: 'mc_not-a-real-key' })[who]

  const endpoints = (): Record<string, Endpoint> => ({
    'POST /institutions': { method: 'POST', path: '/institutions', caller: 'admin', template: () => ({ name: 'Prop Hospital', kind: 'hospital', jurisdiction: 'US-CA' }) },
    'PATCH /institutions/:id/policy': { method: 'PATCH', path: '/institutions/{id}/policy', id: () => hospital.id, caller: 'own', template: () => ({ receiptWindowDays: 120 }) },
    'POST /institutions/:id/keys/rotate': { method: 'POST', path: '/institutions/{id}/keys/rotate', id: () => idp.id, caller: 'own', template: () => ({ reason: 'superseded' }) },
    'GET /institutions/:id': { method: 'GET', path: '/institutions/{id}', id: () => hospital.id, caller: 'own' },
    'POST /institutions/:id/api-key': { method: 'POST', path: '/institutions/{id}/api-key', id: () => spare.id, caller: 'admin', template: () => ({}) },
    'POST /credentials/issue': {
      method: 'POST',
      path: '/credentials/issue',
      caller: 'own',
      template: () => ({ credential: licenseCredential(clinician.did, { issuanceDate: new Date().toISOString(), id: 'urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66' }), options: { format: 'jwt_vc' } }),
    },
    'POST /credentials/issue (patient)': {
      method: 'POST',
      path: '/credentials/issue',
      caller: 'own',
      template: () => ({ credential: patientIdentityCredential(patient.did), options: { format: 'dc+sd-jwt' } }),
    },
    'POST /credentials/verify': { method: 'POST', path: '/credentials/verify', caller: 'none', template: () => ({ verifiableCredential: license, options: {} }) },
    'POST /credentials/status': {
      method: 'POST',
      path: '/credentials/status',
      caller: 'own',
      template: () => ({ credentialId: license.id, credentialStatus: [{ type: 'StatusList2021Entry', status: 'suspended' }], reason: 'unspecified' }),
    },
    'GET /credentials/:id/status': { method: 'GET', path: '/credentials/{id}/status', id: () => encodeURIComponent(license.id), caller: 'own' },
    'POST /presentations/verify': {
      method: 'POST',
      path: '/presentations/verify',
      caller: 'own',
      template: () => ({ verifiablePresentation: presentation, options: { challenge: 'c', domain: hospital.did, purpose: 'treatment' } }),
    },
    'POST /trust/issuers': {
      method: 'POST',
      path: '/trust/issuers',
      caller: 'admin',
      template: () => ({ did: board.did, credentialTypes: ['ClinicianLicenseCredential'], jurisdictions: ['US-TX'], validFrom: '2020-01-01T00:00:00Z', validUntil: '2099-01-01T00:00:00Z' }),
    },
    'DELETE /trust/issuers/:did': { method: 'DELETE', path: '/trust/issuers/{id}', id: () => encodeURIComponent('did:ethr:0x7a69:0x0000000000000000000000000000000000000009'), caller: 'admin' },
    'POST /trust/verifiers': { method: 'POST', path: '/trust/verifiers', caller: 'admin', template: () => ({ did: hospital.did }) },
    'POST /verifications/challenges': { method: 'POST', path: '/verifications/challenges', caller: 'own', template: () => ({}) },
    'POST /verifications': {
      method: 'POST',
      path: '/verifications',
      caller: 'own',
      template: () => ({ verifiablePresentation: presentation, challenge: 'c', domain: hospital.did, purpose: 'onboarding' }),
    },
    'GET /verifications/:id': { method: 'GET', path: '/verifications/{id}', id: () => '00000000-0000-4000-8000-000000000000', caller: 'own' },
    'GET /receipts/:id': { method: 'GET', path: '/receipts/{id}', id: () => 'x', caller: 'none' },
    'POST /acceptances': { method: 'POST', path: '/acceptances', caller: 'own', template: () => ({ verifiableCredential: license, receipt: license.proof.jwt }) },
    'POST /credentialing-files': {
      method: 'POST',
      path: '/credentialing-files',
      caller: 'own',
      template: () => ({ verifiablePresentation: presentation, challenge: 'c', domain: hospital.did, purpose: 'onboarding', receipts: [license.proof.jwt], elements: ['license'] }),
    },
    'POST /consents': { method: 'POST', path: '/consents', caller: 'none', template: () => ({ consent }) },
    'POST /consents/:id/revoke': { method: 'POST', path: '/consents/{id}/revoke', id: () => consentId, caller: 'none', template: () => ({ revocation }) },
    'GET /consents': { method: 'GET', path: '/consents', caller: 'own' },
    'POST /webhooks': { method: 'POST', path: '/webhooks', caller: 'own', template: () => ({ url: 'https://hooks.example.org/medcred', events: ['credential.revoked'] }) },
    'DELETE /webhooks/:id': { method: 'DELETE', path: '/webhooks/{id}', id: () => '00000000-0000-4000-8000-000000000000', caller: 'own' },
    'GET /notifications': { method: 'GET', path: '/notifications?{query}', caller: 'own' },
    'GET /audit/events': { method: 'GET', path: '/audit/events?{query}', caller: 'admin' },
    'GET /audit/events/:seq/proof': { method: 'GET', path: '/audit/events/{id}/proof', id: () => '1', caller: 'admin' },
    'GET /1.0/identifiers/:did': { method: 'GET', path: '/1.0/identifiers/{id}', id: () => encodeURIComponent(board.did), caller: 'none' },
    'GET /status/:listId': { method: 'GET', path: '/status/{id}', id: () => 'x', caller: 'none' },
    'GET /vct/:type': { method: 'GET', path: '/vct/{id}', id: () => 'ClinicianLicenseCredential', caller: 'none' },
    'POST /oid4vci/offers': {
      method: 'POST',
      path: '/oid4vci/offers',
      caller: 'own',
      template: () => ({ credential: licenseCredential(clinician.did), format: 'jwt_vc_json', txCode: true }),
    },
    'POST /oid4vp/requests': { method: 'POST', path: '/oid4vp/requests', caller: 'own', template: () => ({ purpose: 'onboarding', credentialTypes: ['ClinicianLicenseCredential'], acceptReceipts: true }) },
    'POST /fhir/Practitioner/$issue-license': {
      method: 'POST',
      path: '/fhir/Practitioner/$issue-license?subject={id}',
      id: () => encodeURIComponent(clinician.did),
      caller: 'own',
      template: () => ({
        resourceType: 'Practitioner',
        identifier: [{ system: 'http://hl7.org/fhir/sid/us-npi', value: '1234567893' }],
        name: [{ prefix: ['Dr.'], given: ['Ada'], family: 'Rivera' }],
        qualification: [
          {
            identifier: [{ system: 'urn:us-tx:medical-board:license', value: 'Q-48211' }],
            code: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0360', code: 'MD', display: 'Doctor of Medicine' }] },
            period: { start: '2020-01-01', end: '2099-01-01' },
            issuer: { display: 'Texas Medical Board', identifier: { system: 'urn:iso:std:iso:3166:-2', value: 'US-TX' } },
          },
        ],
      }),
    },
    'POST /fhir/Patient/$issue-identity': {
      method: 'POST',
      path: '/fhir/Patient/$issue-identity?assuranceLevel=IAL2&subject={id}',
      id: () => encodeURIComponent(patient.did),
      caller: 'own',
      template: () => ({ resourceType: 'Patient', name: [{ given: ['Sam'], family: 'Patient' }], birthDate: '1984-03-09', identifier: [{ system: 'urn:mrn:st-lukes', value: 'MRN-0042' }] }),
    },
    'GET /fhir/VerificationResult': { method: 'GET', path: '/fhir/VerificationResult?{query}', caller: 'own' },
    'GET /fhir/VerificationResult/:id': { method: 'GET', path: '/fhir/VerificationResult/{id}', id: () => '00000000-0000-4000-8000-000000000000', caller: 'own' },
    'GET /fhir/Consent': { method: 'GET', path: '/fhir/Consent?{query}', caller: 'own' },
    'POST /sign-in-links': { method: 'POST', path: '/sign-in-links', caller: 'admin', template: () => ({ institutionId: hospital.id }) },
    'POST /oid4vci/:id/credential': {
      method: 'POST',
      path: `/oid4vci/{id}/credential`,
      id: () => board.id,
      caller: 'none',
      oauth: true,
      template: () => ({ credential_configuration_id: 'ClinicianLicenseCredential_jwt_vc_json', proofs: { jwt: ['a.b.c'] } }),
    },
    'POST /oid4vci/:id/token': { method: 'POST', path: `/oid4vci/{id}/token`, id: () => board.id, caller: 'none', oauth: true, template: () => ({ grant_type: 'urn:ietf:params:oauth:grant-type:pre-authorized_code' }) },
    'POST /oid4vci/:id/nonce': { method: 'POST', path: `/oid4vci/{id}/nonce`, id: () => board.id, caller: 'none', oauth: true },
  })

  /** The institution whose key is "own" for an endpoint. */
  const ownKey = (name: string): string =>
    /issue \(patient\)|rotate|issue-identity/.test(name) ? idp.apiKey : /credentials\/(issue|status)|credentials\/:id|oid4vci\/offers|trust|issue-license/.test(name) ? board.apiKey : hospital.apiKey

  async function send(name: string, ep: Endpoint, who: Who, segment: string | undefined, query: string, c: BodyCase) {
    const path = ep.path.replace('{id}', segment ?? ep.id?.() ?? '').replace('{query}', query)
    const bytes = ep.template ? bodyBytes(ep.template(), c) : undefined
    const headers: Record<string, string> = {}
    const token = tokenOf(who, ownKey(name))
    if (token) headers.authorization = `Bearer ${token}`
    if (bytes && c.encoding.contentType) headers['content-type'] = c.encoding.contentType
    const res = await fetch(svc.url + path, { method: ep.method, headers, body: bytes ? new Uint8Array(bytes) : undefined })
    const text = await res.text()
    return { status: res.status, type: res.headers.get('content-type') ?? '', text, path, requestId: res.headers.get('x-request-id') ?? '-' }
  }

  for (const [name, ep] of Object.entries(endpoints())) {
    it(`${name}: never a 5xx; every 4xx a problem (${FC_RUNS} runs, seed ${FC_SEED})`, async () => {
      const live = endpoints()[name]
      const who = fc.oneof({ arbitrary: fc.constant<Who>(ep.caller), weight: 6 }, { arbitrary: fc.constantFrom<Who>('none', 'admin', 'own', 'other', 'bogus'), weight: 1 })
      const segment = ep.id ? fc.option(hostilePathSegment, { freq: 3, nil: undefined }) : fc.constant(undefined)
      const query = ep.path.includes('{query}') ? hostileQuery : fc.constant('')
      await fc.assert(
        fc.asyncProperty(who, segment, query, bodyCase, async (w, s, q, c) => {
          const res = await send(name, live, w, s, q, c)
          const counts = seen.get(name) ?? new Map()
          counts.set(res.status, (counts.get(res.status) ?? 0) + 1)
          seen.set(name, counts)
          const where = `${live.method} ${res.path.slice(0, 200)} -> ${res.status} ${res.type} ${res.text.slice(0, 300)}`
          // On a 5xx, say what the service logged about it (the stack stays out of the reply).
          expect(res.status, res.status >= 500 ? `${where}\n${svc.logs.filter((l) => l.includes(res.requestId)).join('')}` : where).toBeLessThan(500)
          if (res.status < 400) return
          if (live.oauth) {
            expect(res.type, where).toMatch(/^application\/(json|problem\+json)/)
            const body = JSON.parse(res.text)
            expect(typeof (body.error ?? body.type), where).toBe('string')
            return
          }
          expect(res.type, where).toMatch(/^application\/problem\+json/)
          const problem = JSON.parse(res.text)
          expect(problem, where).toMatchObject({ type: expect.stringMatching(/^https:\/\/(medcred\.dev\/problems\/|www\.w3\.org\/ns\/did#)/), title: expect.any(String), status: res.status, detail: expect.any(String) })
        }),
        { numRuns: FC_RUNS, seed: FC_SEED, endOnFailure: true, reporter: shortReport },
      )
    }, 120_000)
  }

  it('covers every documented route that takes a JSON body', () => {
    const names = Object.keys(endpoints()).map((n) => n.replace(/ \(.*\)$/, ''))
    const json = routersOf(svc.app).flatMap(docsOf).filter((d) => d.body && !d.form).map((d) => `${d.method.toUpperCase()} ${d.path}`)
    expect(json.filter((k) => !names.includes(k))).toEqual([])
  })

  it('leaves an audit trail that still verifies, and answered every case with something other than a 5xx', async () => {
    const report = await checkTrail(svc)
    expect(report.problems).toEqual([])
    expect(report.ok).toBe(true)
    expect(report.events).toBeGreaterThan(5)
  })
})
