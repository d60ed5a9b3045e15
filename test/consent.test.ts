import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HolderWallet } from '../src/holder/wallet.js'
import { failedChecks, grantConsent, patientBearer, signConsent, signRevocation, verifyPatientAt } from './helpers/consent.js'
import { PATIENT_BIRTH_DATE, PATIENT_NAME, enc, expectNoneIn, issueSdJwt } from './helpers/sd-jwt.js'
import { patientIdentityCredential } from './helpers/fixtures.js'
import { startTestService, type TestService } from './helpers/service.js'

describe('consent, signed by the patient, revocable and enforced', () => {
  let svc: TestService
  let idp: Awaited<ReturnType<TestService['api']['createInstitution']>>
  let hospitalA: typeof idp
  let hospitalB: typeof idp

  beforeAll(async () => {
    svc = await startTestService()
    idp = await svc.api.createTrustedIdentityProvider('Registration Desk')
    hospitalA = await svc.api.createInstitution({ name: 'Hospital A', kind: 'hospital' })
    hospitalB = await svc.api.createInstitution({ name: 'Hospital B', kind: 'hospital' })
  })
  afterAll(() => svc?.dispose())

  /** A patient with an SD-JWT identity credential from the registration desk. */
  async function newPatient() {
    const wallet = await HolderWallet.create()
    const sdJwt = await issueSdJwt(svc, idp.apiKey, wallet.did)
    const present = (b: { challenge: string; domain: string }) => wallet.presentSdJwt(sdJwt, ['name'], b)
    return { wallet, sdJwt, present }
  }

  /** A JWT signed by an institution's own key in medcred's KMS (what an institution could forge at most). */
  async function signedByInstitution(did: string, payload: Record<string, unknown>): Promise<string> {
    const { controllerKeyId } = await svc.agent.didManagerGet({ did })
    const input = `${enc({ alg: 'ES256K', typ: 'JWT' })}.${enc({ iss: did, ...payload })}`
    return `${input}.${await svc.agent.keyManagerSign({ keyRef: controllerKeyId!, data: input, algorithm: 'ES256K' })}`
  }

  it('grant → verify passes → revoke → the next verify fails with consent', async () => {
    const p = await newPatient()
    const consent = await signConsent(p.wallet, hospitalA.did, { purposes: ['treatment', 'payment'] })
    const granted = await svc.api.post('/consents', { consent })
    expect(granted.status).toBe(201)
    expect(granted.body).toMatchObject({ patient: p.wallet.did, grantee: hospitalA.did, purposes: ['treatment', 'payment'], credentialTypes: ['PatientIdentityCredential'], status: 'active' })
    expect((await svc.api.post('/consents', { consent })).status).toBe(200)

    const before = await verifyPatientAt(svc, hospitalA, p.present, 'payment')
    expect(before.status).toBe(201)
    expect(before.body.checks.find((c: any) => c.check === 'consent')).toMatchObject({ ok: true })

    const revoked = await svc.api.post(`/consents/${granted.body.id}/revoke`, { revocation: await signRevocation(p.wallet, granted.body.id) })
    expect(revoked.status).toBe(200)
    expect(revoked.body).toMatchObject({ status: 'revoked' })

    const after = await verifyPatientAt(svc, hospitalA, p.present, 'payment')
    expect(after.status).toBe(400)
    expect(failedChecks(after.body)).toEqual(['consent'])
    // Final: a new revocation changes nothing, and the same grant does not bring it back.
    expect((await svc.api.post(`/consents/${granted.body.id}/revoke`, { revocation: await signRevocation(p.wallet, granted.body.id) })).status).toBe(409)
    expect((await svc.api.post('/consents', { consent })).body.status).toBe('revoked')
    expect(failedChecks((await verifyPatientAt(svc, hospitalA, p.present, 'payment')).body)).toEqual(['consent'])

    const events = (await svc.api.get('/audit/events?limit=1000', svc.api.adminToken)).body.events
    const about = events.filter((e: any) => e.subject?.id === granted.body.id)
    expect(about.map((e: any) => e.action)).toEqual(['consent.granted', 'consent.checked', 'consent.revoked'])
    expect(about[0].detail).toMatchObject({ patient: p.wallet.did, grantee: hospitalA.did, credentialTypes: ['PatientIdentityCredential'] })
    const failedCheck = events.filter((e: any) => e.action === 'consent.checked' && e.detail.patient === p.wallet.did && e.outcome === 'failure')
    expect(failedCheck.length).toBe(2)
    expect(JSON.stringify(events)).not.toContain(PATIENT_NAME)
    expect(JSON.stringify(events)).not.toContain(PATIENT_BIRTH_DATE)
  })

  it('consent is enforced for a VC-JWT patient credential in a VP-JWT too', async () => {
    const wallet = await HolderWallet.create()
    const { patientIdentityCredential } = await import('./helpers/fixtures.js')
    const issued = await svc.api.post('/credentials/issue', { credential: patientIdentityCredential(wallet.did) }, idp.apiKey)
    const present = async (b: { challenge: string; domain: string }) => (await wallet.present([issued.body.verifiableCredential], b)).proof.jwt as string
    expect(failedChecks((await verifyPatientAt(svc, hospitalA, present)).body)).toEqual(['consent'])
    await grantConsent(svc, await signConsent(wallet, hospitalA.did))
    expect((await verifyPatientAt(svc, hospitalA, present)).status).toBe(201)
  })

  it('a treatment consent does not allow research', async () => {
    const p = await newPatient()
    await grantConsent(svc, await signConsent(p.wallet, hospitalA.did, { purposes: ['treatment'] }))
    expect((await verifyPatientAt(svc, hospitalA, p.present, 'treatment')).status).toBe(201)
    const research = await verifyPatientAt(svc, hospitalA, p.present, 'research')
    expect(failedChecks(research.body)).toEqual(['consent'])
    // A clinician credentialing purpose is not a patient purpose at all.
    expect(failedChecks((await verifyPatientAt(svc, hospitalA, p.present, 'onboarding')).body)).toEqual(['consent'])
  })

  it('a consent for Hospital A does not cover Hospital B', async () => {
    const p = await newPatient()
    await grantConsent(svc, await signConsent(p.wallet, hospitalA.did))
    expect((await verifyPatientAt(svc, hospitalA, p.present)).status).toBe(201)
    expect(failedChecks((await verifyPatientAt(svc, hospitalB, p.present)).body)).toEqual(['consent'])
  })

  it('a consent for another credential type does not cover the identity credential', async () => {
    const p = await newPatient()
    await grantConsent(svc, await signConsent(p.wallet, hospitalA.did, { credentialTypes: ['ImmunizationRecordCredential'] }))
    expect(failedChecks((await verifyPatientAt(svc, hospitalA, p.present)).body)).toEqual(['consent'])
  })

  it('a consent signed by someone other than the patient is refused, and does not count for the patient', async () => {
    const p = await newPatient()
    const mallory = await HolderWallet.create()
    // Names the patient as issuer, signed by another key.
    const genuine = await signConsent(p.wallet, hospitalA.did)
    const [, payload] = genuine.split('.')
    const forged = await mallory.signJwt(JSON.parse(Buffer.from(payload, 'base64url').toString()), { typ: 'JWT' })
    const res = await svc.api.post('/consents', { consent: forged })
    expect(res.status).toBe(403)
    expect(res.body.type).toMatch(/forbidden$/)
    // Mallory's own (valid) consent grants nothing over the patient's credential.
    await grantConsent(svc, await signConsent(mallory, hospitalA.did))
    expect(failedChecks((await verifyPatientAt(svc, hospitalA, p.present)).body)).toEqual(['consent'])
  })

  it('an expired consent fails; an already expired one is not stored', async () => {
    const p = await newPatient()
    await grantConsent(svc, await signConsent(p.wallet, hospitalA.did, { expiresInSeconds: 2 }))
    expect((await verifyPatientAt(svc, hospitalA, p.present)).status).toBe(201)
    await new Promise((r) => setTimeout(r, 2500))
    const res = await verifyPatientAt(svc, hospitalA, p.present)
    expect(failedChecks(res.body)).toEqual(['consent'])
    const late = await svc.api.post('/consents', { consent: await signConsent(p.wallet, hospitalA.did, { expiresInSeconds: -120 }) })
    expect(late.status).toBe(422)
    expect(late.body.type).toMatch(/invalid-consent$/)
  })

  it('an institution and the admin cannot create or revoke a patient consent (403)', async () => {
    const p = await newPatient()
    const byInstitution = await svc.agent.createVerifiableCredential({
      credential: {
        issuer: { id: hospitalA.did },
        type: ['VerifiableCredential', 'PatientConsentCredential'],
        expirationDate: new Date(Date.now() + 86_400_000).toISOString(),
        credentialSubject: { id: hospitalB.did, purposes: ['research'], credentialTypes: ['PatientIdentityCredential'] },
      } as never,
      proofFormat: 'jwt',
    })
    for (const token of [hospitalA.apiKey, svc.api.adminToken]) {
      const res = await svc.api.post('/consents', { consent: byInstitution.proof.jwt }, token)
      expect(res.status).toBe(403)
      expect(res.body.detail).toMatch(/signed by an institution/)
    }
    const id = await grantConsent(svc, await signConsent(p.wallet, hospitalA.did))
    const institutionRevocation = await signedByInstitution(hospitalA.did, { consent_id: id, iat: Math.floor(Date.now() / 1000), nonce: randomBytes(16).toString('hex') })
    for (const token of [hospitalA.apiKey, svc.api.adminToken]) {
      const res = await svc.api.post(`/consents/${id}/revoke`, { revocation: institutionRevocation }, token)
      expect(res.status).toBe(403)
      expect(res.body.detail).toMatch(/only the patient/)
    }
    // No route changes a consent's terms, for anyone.
    expect((await svc.api.request('PATCH', `/consents/${id}`, { body: { purposes: ['research'] }, token: svc.api.adminToken })).status).toBeGreaterThanOrEqual(404)
    expect((await svc.api.get('/consents', svc.api.adminToken)).status).toBe(403)
    expect((await verifyPatientAt(svc, hospitalA, p.present)).status).toBe(201)
  })

  it('a revocation signed by another DID is refused; a replayed or stale revocation too', async () => {
    const p = await newPatient()
    const mallory = await HolderWallet.create()
    const id = await grantConsent(svc, await signConsent(p.wallet, hospitalA.did))
    const byOther = await svc.api.post(`/consents/${id}/revoke`, { revocation: await mallory.signJwt({ iss: mallory.did, consent_id: id, iat: Math.floor(Date.now() / 1000), nonce: 'n-0123456789' }) })
    expect(byOther.status).toBe(403)
    const stale = await svc.api.post(`/consents/${id}/revoke`, { revocation: await signRevocation(p.wallet, id, { iat: Math.floor(Date.now() / 1000) - 3600 }) })
    expect(stale.status).toBe(400)
    const otherConsent = await svc.api.post(`/consents/${id}/revoke`, { revocation: await signRevocation(p.wallet, 'another-id') })
    expect(otherConsent.status).toBe(400)
    expect((await verifyPatientAt(svc, hospitalA, p.present)).status).toBe(201)

    const revocation = await signRevocation(p.wallet, id)
    expect((await svc.api.post(`/consents/${id}/revoke`, { revocation })).status).toBe(200)
    const second = await grantConsent(svc, await signConsent(p.wallet, hospitalA.did, { purposes: ['operations'] }))
    const replay = await svc.api.post(`/consents/${second}/revoke`, { revocation: revocation })
    expect(replay.status).toBe(400) // names the first consent
    expect((await svc.api.post(`/consents/${id}/revoke`, { revocation })).status).toBe(409)
  })

  it('patients list their own consents with a single-use bearer token; a replayed token is refused', async () => {
    const p = await newPatient()
    await grantConsent(svc, await signConsent(p.wallet, hospitalA.did))
    await grantConsent(svc, await signConsent(p.wallet, hospitalB.did, { purposes: ['research'] }))
    const token = await patientBearer(svc, p.wallet)
    const mine = await svc.api.get('/consents', token)
    expect(mine.status).toBe(200)
    expect(mine.body.patient).toBe(p.wallet.did)
    expect(mine.body.consents.map((c: any) => c.grantee).sort()).toEqual([hospitalA.did, hospitalB.did].sort())
    const replay = await svc.api.get('/consents', token)
    expect(replay.status).toBe(401)
    expect(replay.body.detail).toMatch(/already used/)

    const tooLong = await svc.api.get('/consents', await patientBearer(svc, p.wallet, { exp: Math.floor(Date.now() / 1000) + 3600 }))
    expect(tooLong.status).toBe(401)
    const elsewhere = await svc.api.get('/consents', await patientBearer(svc, p.wallet, { aud: 'https://other.example' }))
    expect(elsewhere.status).toBe(401)
    const expired = await svc.api.get('/consents', await patientBearer(svc, p.wallet, { exp: Math.floor(Date.now() / 1000) - 600 }))
    expect(expired.status).toBe(401)
    const noNonce = await svc.api.get('/consents', await patientBearer(svc, p.wallet, { jti: undefined }))
    expect(noNonce.status).toBe(401)
    const [h, pl] = (await patientBearer(svc, p.wallet)).split('.')
    expect((await svc.api.get('/consents', `${h}.${pl}.${'A'.repeat(86)}`)).status).toBe(401)
  })

  it('one bearer token or one consent, used by two requests at once: exactly one wins', async () => {
    const p = await newPatient()
    const id = await grantConsent(svc, await signConsent(p.wallet, hospitalA.did))
    const token = await patientBearer(svc, p.wallet)
    const lists = await Promise.all([svc.api.get('/consents', token), svc.api.get('/consents', token), svc.api.get('/consents', token)])
    expect(lists.map((r) => r.status).sort()).toEqual([200, 401, 401])
    const revocations = await Promise.all([signRevocation(p.wallet, id), signRevocation(p.wallet, id)])
    const revoked = await Promise.all(revocations.map((revocation) => svc.api.post(`/consents/${id}/revoke`, { revocation })))
    expect(revoked.map((r) => r.status).sort()).toEqual([200, 409])
    const events = (await svc.api.get('/audit/events?limit=1000', svc.api.adminToken)).body.events
    expect(events.filter((e: any) => e.action === 'consent.revoked' && e.subject.id === id)).toHaveLength(1)
  })

  it('an institution lists the consents granted to it, and only those', async () => {
    const p = await newPatient()
    const id = await grantConsent(svc, await signConsent(p.wallet, hospitalB.did, { purposes: ['operations'] }))
    const forB = await svc.api.get('/consents', hospitalB.apiKey)
    expect(forB.status).toBe(200)
    expect(forB.body.consents.some((c: any) => c.id === id)).toBe(true)
    expect(forB.body.consents.every((c: any) => c.grantee === hospitalB.did)).toBe(true)
    const forA = await svc.api.get('/consents', hospitalA.apiKey)
    expect(forA.body.consents.some((c: any) => c.id === id)).toBe(false)
    expect((await svc.api.get('/consents')).status).toBe(401)
  })

  it('a consent carried in the presentation itself, signed by the same key, counts (and is stored)', async () => {
    const p = await newPatient()
    const consent = await signConsent(p.wallet, hospitalA.did)
    const res = await verifyPatientAt(svc, hospitalA, (b) => p.wallet.presentSdJwt(p.sdJwt, ['name'], b, { consent }))
    expect(res.status).toBe(201)
    expect(res.body.checks.find((c: any) => c.check === 'consent').detail).toMatch(/carried in the presentation/)
    const listed = await svc.api.get('/consents', await patientBearer(svc, p.wallet))
    expect(listed.body.consents).toHaveLength(1)
    // Once revoked, carrying the same consent again does not bring it back.
    const carriedId = listed.body.consents[0].id
    expect((await svc.api.post(`/consents/${carriedId}/revoke`, { revocation: await signRevocation(p.wallet, carriedId) })).status).toBe(200)
    const again = await verifyPatientAt(svc, hospitalA, (b) => p.wallet.presentSdJwt(p.sdJwt, ['name'], b, { consent }))
    expect(failedChecks(again.body)).toEqual(['consent'])
    // Someone else's consent carried in the patient's presentation does not count.
    const q = await newPatient()
    const foreignConsent = await signConsent(p.wallet, hospitalA.did, { purposes: ['payment'] })
    const foreign = await verifyPatientAt(svc, hospitalA, (b) => q.wallet.presentSdJwt(q.sdJwt, ['name'], b, { consent: foreignConsent }), 'payment')
    expect(failedChecks(foreign.body)).toEqual(['consent'])
  })

  it('a consent carried in a VP-JWT (its consent claim) counts too: one wallet interaction grants and presents', async () => {
    const wallet = await HolderWallet.create()
    const identity = (await svc.api.post('/credentials/issue', { credential: patientIdentityCredential(wallet.did) }, idp.apiKey)).body.verifiableCredential.proof.jwt
    const vpJwt = (b: { challenge: string; domain: string }, consent?: string) =>
      wallet.signJwt({
        iss: wallet.did,
        nonce: b.challenge,
        aud: b.domain,
        vp: { '@context': ['https://www.w3.org/2018/credentials/v1'], type: ['VerifiablePresentation'], verifiableCredential: [identity] },
        ...(consent ? { consent } : {}),
      })
    expect(failedChecks((await verifyPatientAt(svc, hospitalA, (b) => vpJwt(b))).body)).toEqual(['consent'])
    const consent = await signConsent(wallet, hospitalA.did)
    const carried = await verifyPatientAt(svc, hospitalA, (b) => vpJwt(b, consent))
    expect(carried.status, JSON.stringify(carried.body)).toBe(201)
    expect(carried.body.checks.find((c: any) => c.check === 'consent').detail).toMatch(/carried in the presentation/)
    // A consent for another hospital, carried to this one, does not count.
    const forB = await signConsent(wallet, hospitalB.did, { purposes: ['payment'] })
    expect(failedChecks((await verifyPatientAt(svc, hospitalA, (b) => vpJwt(b, forB), 'payment')).body)).toEqual(['consent'])
  })

  it('malformed consents and revocations are 4xx problems, never 500', async () => {
    for (const body of [{}, { consent: 'not-a-jwt' }, { consent: 'a.b.c' }, { consent: `${enc({ alg: 'none' })}.${enc({ iss: 'did:key:z6Mk' })}.` }]) {
      const res = await svc.api.post('/consents', body)
      expect(res.status).toBeGreaterThanOrEqual(400)
      expect(res.status).toBeLessThan(500)
    }
    const p = await newPatient()
    const wrongShape = await svc.api.post('/consents', { consent: (await p.wallet.selfIssue({ type: ['VerifiableCredential', 'PatientConsentCredential'], expirationDate: new Date(Date.now() + 60_000).toISOString(), credentialSubject: { id: hospitalA.did, purposes: ['marketing'], credentialTypes: ['PatientIdentityCredential'] } })).proof.jwt })
    expect(wrongShape.status).toBe(422)
    expect(wrongShape.body.detail).toMatch(/purposes/)
    expect((await svc.api.post('/consents/nope/revoke', { revocation: 'a.b.c' })).status).toBe(404)
  })

  it('logged no patient name, birth date or identifier', () => {
    expectNoneIn(svc.logs, [PATIENT_NAME, PATIENT_BIRTH_DATE, 'MRN-0042'])
  })
})
