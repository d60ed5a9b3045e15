import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeJWT } from 'did-jwt'
import { IssuedCredentialEntity } from '../src/issuance/issued-credential.entity.js'
import { credentialDigest } from '../src/credentials/digest.js'
import { HolderWallet } from '../src/holder/wallet.js'
import { licenseCredential, patientIdentityCredential } from './helpers/fixtures.js'
import { startTestService, type TestService } from './helpers/service.js'

describe('POST /credentials/issue', () => {
  let svc: TestService
  let board: Awaited<ReturnType<TestService['api']['createInstitution']>>
  let hospital: typeof board
  let idp: typeof board
  let clinician: HolderWallet

  beforeAll(async () => {
    svc = await startTestService()
    board = await svc.api.createInstitution({ name: 'Texas Medical Board', kind: 'board', jurisdiction: 'US-TX' })
    hospital = await svc.api.createInstitution({ name: 'Mercy General', kind: 'hospital' })
    idp = await svc.api.createInstitution({ name: 'ID Desk', kind: 'identity-provider' })
    clinician = await HolderWallet.create()
  })
  afterAll(() => svc?.dispose())

  const issue = (credential: unknown, token: string) => svc.api.post('/credentials/issue', { credential }, token)

  it("signs a license as a VC-JWT with the board's DID and stores it", async () => {
    const res = await issue(licenseCredential(clinician.did), board.apiKey)
    expect(res.status).toBe(201)
    const vc = res.body.verifiableCredential
    expect(vc.issuer).toEqual({ id: board.did })
    expect(vc.type).toEqual(['VerifiableCredential', 'ClinicianLicenseCredential'])
    expect(vc.id).toMatch(/^urn:uuid:/)
    expect(vc.credentialSubject).toMatchObject({ id: clinician.did, npi: '1234567893' })
    const { header, payload } = decodeJWT(vc.proof.jwt)
    expect(header.alg).toBe('ES256K')
    expect(payload.iss).toBe(board.did)
    expect(payload.sub).toBe(clinician.did)
    expect(payload.jti).toBe(vc.id)

    const row = await svc.db.getRepository(IssuedCredentialEntity).findOneByOrFail({ id: vc.id })
    expect(row).toMatchObject({ issuerInstitutionId: board.id, subjectDid: clinician.did, type: 'ClinicianLicenseCredential' })
    expect(row.digest).toBe(credentialDigest(vc.proof.jwt))
  })

  it('issues a patient identity credential from an identity provider and from a hospital', async () => {
    for (const issuer of [idp, hospital]) {
      const res = await issue(patientIdentityCredential(clinician.did), issuer.apiKey)
      expect(res.status).toBe(201)
      expect(res.body.verifiableCredential.credentialSubject.assuranceLevel).toBe('IAL2')
    }
  })

  it('issues a plain VerifiableCredential whose subject holds only an id', async () => {
    const res = await issue({ '@context': ['https://www.w3.org/2018/credentials/v1'], type: 'VerifiableCredential', credentialSubject: { id: clinician.did } }, hospital.apiKey)
    expect(res.status).toBe(201)
    expect(res.body.verifiableCredential.credentialSubject).toEqual({ id: clinician.did })
    const verified = await svc.api.post('/credentials/verify', { verifiableCredential: res.body.verifiableCredential })
    expect(verified.status).toBe(200)
  })

  it('refuses dates outside the years 1900–2999 with a 400 naming the field (never a signer error)', async () => {
    for (const [field, value] of [['expirationDate', '9999-12-31T23:59:59Z'], ['issuanceDate', '1899-12-31T23:59:59Z']]) {
      const res = await issue({ ...licenseCredential(clinician.did), [field]: value }, board.apiKey)
      expect(res.status, field).toBe(400)
      expect(res.body.detail, field).toMatch(new RegExp(`credential\\.${field}.*between the years 1900 and 2999`))
    }
  })

  it('issues a VC 1.1 credential given VC 2.0 date names (validFrom/validUntil) as issuanceDate/expirationDate', async () => {
    const res = await issue(
      {
        '@context': ['https://www.w3.org/2018/credentials/v1'],
        type: ['VerifiableCredential'],
        validFrom: '2026-01-01T00:00:00Z',
        validUntil: '2030-01-01T00:00:00Z',
        credentialSubject: { id: clinician.did, note: 'v1 input' },
      },
      hospital.apiKey,
    )
    expect(res.status).toBe(201)
    const vc = res.body.verifiableCredential
    expect(vc['@context']).toEqual(['https://www.w3.org/2018/credentials/v1'])
    expect(Date.parse(vc.issuanceDate)).toBe(Date.parse('2026-01-01T00:00:00Z'))
    expect(Date.parse(vc.expirationDate)).toBe(Date.parse('2030-01-01T00:00:00Z'))
  })

  it('issues a VC 2.0 credential (@context v2) as an EnvelopedVerifiableCredential, validFrom/validUntil kept', async () => {
    const res = await issue(
      {
        '@context': ['https://www.w3.org/ns/credentials/v2'],
        type: ['VerifiableCredential'],
        validFrom: '2026-01-01T00:00:00Z',
        validUntil: '2030-01-01T00:00:00Z',
        credentialSubject: { id: clinician.did, note: 'v2 input' },
      },
      hospital.apiKey,
    )
    expect(res.status).toBe(201)
    const vc = res.body.verifiableCredential
    expect(vc.type).toBe('EnvelopedVerifiableCredential')
    const payload = JSON.parse(Buffer.from(vc.id.split(',')[1].split('.')[1], 'base64url').toString())
    expect(payload['@context']).toEqual(['https://www.w3.org/ns/credentials/v2'])
    expect(payload.validFrom).toBe('2026-01-01T00:00:00Z')
    expect(payload.validUntil).toBe('2030-01-01T00:00:00Z')
    expect(payload.issuanceDate).toBeUndefined()
  })

  it('refuses a license from a hospital (403)', async () => {
    const res = await issue(licenseCredential(clinician.did), hospital.apiKey)
    expect(res.status).toBe(403)
    expect(res.body.detail).toMatch(/hospital may not issue ClinicianLicenseCredential/)
  })

  it("refuses a license for another board's jurisdiction (403)", async () => {
    const res = await issue(licenseCredential(clinician.did, { credentialSubject: { jurisdiction: 'US-CA' } }), board.apiKey)
    expect(res.status).toBe(403)
    expect(res.body.detail).toMatch(/US-TX may not issue .* for US-CA/)
  })

  it('refuses to sign as another DID (403)', async () => {
    const res = await issue({ ...licenseCredential(clinician.did), issuer: hospital.did }, board.apiKey)
    expect(res.status).toBe(403)
    expect(res.body.type).toBe('https://medcred.dev/problems/forbidden')
  })

  it.each([
    ['npi', { npi: '1234567890' }, /check digit/],
    ['npi', { npi: '12345' }, /10-digit NPI/],
    ['jurisdiction', { jurisdiction: 'Texas' }, /ISO 3166-2/],
    ['status', { status: 'revoked' }, /active|probation|restricted/],
    ['id', { id: 'not-a-did' }, /DID/],
    ['licenseNumber', { licenseNumber: '' }, /empty/],
  ])('rejects a license whose %s is wrong (422, field named)', async (field, subject, message) => {
    const res = await issue(licenseCredential(clinician.did, { credentialSubject: subject }), board.apiKey)
    expect(res.status).toBe(422)
    expect(res.body.type).toBe('https://medcred.dev/problems/invalid-credential')
    expect(res.body.errors[0].field).toBe(`credential.credentialSubject.${field}`)
    expect(res.body.errors[0].message).toMatch(message)
  })

  it('rejects a license without an expiration date, and one that expires before it is issued', async () => {
    const { expirationDate: _e, ...noExpiry } = licenseCredential(clinician.did)
    const res = await issue(noExpiry, board.apiKey)
    expect(res.status).toBe(422)
    expect(res.body.errors[0].field).toBe('credential.expirationDate')
    const backwards = await issue(
      licenseCredential(clinician.did, { issuanceDate: '2026-06-01T00:00:00Z', expirationDate: '2026-01-01T00:00:00Z' }),
      board.apiKey,
    )
    expect(backwards.status).toBe(422)
  })

  it.each([
    ['birthDate', { birthDate: '09/03/1984' }],
    ['birthDate', { birthDate: '2999-01-01' }],
    ['assuranceLevel', { assuranceLevel: 'IAL4' }],
    ['identifiers', { identifiers: 'MRN-1' }],
  ])('rejects a patient identity whose %s is wrong (422)', async (field, subject) => {
    const body = patientIdentityCredential(clinician.did)
    const res = await issue({ ...body, credentialSubject: { ...body.credentialSubject, ...subject } }, idp.apiKey)
    expect(res.status).toBe(422)
    expect(res.body.errors[0].field).toBe(`credential.credentialSubject.${field}`)
  })

  it('refuses a duplicate credential id (409) and a caller-set credentialStatus or proof (400)', async () => {
    const first = await issue({ id: 'urn:uuid:5b8c1e0e-0000-4000-8000-000000000001', '@context': ['https://www.w3.org/2018/credentials/v1'], type: 'VerifiableCredential', credentialSubject: { id: clinician.did } }, hospital.apiKey)
    expect(first.status).toBe(201)
    const again = await issue({ id: 'urn:uuid:5b8c1e0e-0000-4000-8000-000000000001', '@context': ['https://www.w3.org/2018/credentials/v1'], type: 'VerifiableCredential', credentialSubject: { id: clinician.did } }, hospital.apiKey)
    expect(again.status).toBe(409)
    const withStatus = await issue({ ...licenseCredential(clinician.did), credentialStatus: { id: 'x', type: 'y' } }, board.apiKey)
    expect(withStatus.status).toBe(400)
    expect(withStatus.body.errors[0].field).toBe('credential.credentialStatus')
  })

  it('needs an institution key: 401 anonymous, 403 with the admin token', async () => {
    expect((await issue(licenseCredential(clinician.did), '')).status).toBe(401)
    expect((await issue(licenseCredential(clinician.did), svc.api.adminToken)).status).toBe(403)
  })

  it('answers malformed bodies with 400/413/415 problems, never 500', async () => {
    const bad = await svc.api.request('POST', '/credentials/issue', { raw: '{"credential": ', token: board.apiKey })
    expect(bad.status).toBe(400)
    expect(bad.body.type).toBe('https://medcred.dev/problems/invalid-json')
    const shape = await svc.api.post('/credentials/issue', { credential: 'a string' }, board.apiKey)
    expect(shape.status).toBe(400)
    expect(shape.body.errors[0].field).toBe('credential')
    const noBody = await svc.api.request('POST', '/credentials/issue', { token: board.apiKey })
    expect(noBody.status).toBe(400)
    const text = await svc.api.request('POST', '/credentials/issue', { raw: 'hello', token: board.apiKey, headers: { 'content-type': 'text/plain' } })
    expect(text.status).toBe(415)
    const huge = await svc.api.post('/credentials/issue', { credential: { '@context': ['https://www.w3.org/2018/credentials/v1'], type: 'VerifiableCredential', credentialSubject: { blob: 'x'.repeat(300_000) } } }, board.apiKey)
    expect(huge.status).toBe(413)
    expect(huge.body.type).toBe('https://medcred.dev/problems/body-too-large')
    const nul = await svc.api.post('/credentials/issue', { credential: { '@context': ['https://www.w3.org/2018/credentials/v1'], type: 'VerifiableCredential', credentialSubject: { id: 'did:key:z\u0000' } } }, board.apiKey)
    expect(nul.status).toBe(400)
    expect(nul.body.detail).toMatch(/NUL/)
  })
})

describe('POST /credentials/issue with an Idempotency-Key', () => {
  let svc: TestService
  let hospital: { apiKey: string }
  let holder: HolderWallet
  beforeAll(async () => {
    svc = await startTestService()
    hospital = await svc.api.createInstitution({ name: 'Retrying Hospital', kind: 'hospital' })
    holder = await HolderWallet.create()
  })
  afterAll(() => svc?.dispose())

  const issue = (key: string, credential: unknown) =>
    svc.api.request('POST', '/credentials/issue', { body: { credential }, token: hospital.apiKey, headers: { 'idempotency-key': key } })

  it('replays the first reply to a retry, issuing once; refuses the key for another request', async () => {
    const credential = patientIdentityCredential(holder.did)
    const [first, retry, concurrent] = await Promise.all([issue('k-1', credential), issue('k-1', credential), issue('k-1', credential)])
    for (const res of [first, retry, concurrent]) expect(res.status).toBe(201)
    expect(retry.body.verifiableCredential.id).toBe(first.body.verifiableCredential.id)
    expect(concurrent.body.verifiableCredential.proof.jwt).toBe(first.body.verifiableCredential.proof.jwt)
    const rows = await svc.db.getRepository(IssuedCredentialEntity).countBy({ subjectDid: holder.did })
    expect(rows).toBe(1)

    const other = await issue('k-1', patientIdentityCredential(holder.did, { credentialSubject: { ...credential.credentialSubject, name: 'Someone Else' } }))
    expect(other.status).toBe(409)
    expect(other.body.detail).toMatch(/different request/)
    expect((await issue('', credential)).status).toBe(201)
    expect((await issue('bad key with spaces', credential)).status).toBe(400)
  })
})
