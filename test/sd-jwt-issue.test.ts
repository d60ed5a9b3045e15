import { createPublicKey, verify } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc'
import { digest } from '@sd-jwt/crypto-nodejs'
import { getListFromStatusListJWT } from '@sd-jwt/jwt-status-list'
import { HolderWallet } from '../src/holder/wallet.js'
import { IssuedCredentialEntity } from '../src/issuance/issued-credential.entity.js'
import { licenseCredential } from './helpers/fixtures.js'
import { PATIENT_BIRTH_DATE, PATIENT_NAME, decodeJws, expectNoneIn, didJwsVerifier, disclosedNames, issueSdJwt } from './helpers/sd-jwt.js'
import { startTestService, type TestService } from './helpers/service.js'

describe('POST /credentials/issue with options.format dc+sd-jwt', () => {
  let svc: TestService
  let idp: Awaited<ReturnType<TestService['api']['createInstitution']>>
  let board: typeof idp
  let patient: HolderWallet

  beforeAll(async () => {
    svc = await startTestService()
    idp = await svc.api.createInstitution({ name: 'Registration Desk', kind: 'identity-provider' })
    board = await svc.api.createInstitution({ name: 'Texas Medical Board', kind: 'board', jurisdiction: 'US-TX' })
    patient = await HolderWallet.create()
  })
  afterAll(() => svc?.dispose())

  const localPath = (url: string) => url.replace(svc.config.publicUrl, '')

  it('signs an SD-JWT VC with the institution key: iss, kid, vct, cnf, status, jti in the clear, subject claims as disclosures', async () => {
    const sdJwt = await issueSdJwt(svc, idp.apiKey, patient.did)
    expect(sdJwt.endsWith('~')).toBe(true)
    const [jwt] = sdJwt.split('~')
    const { header, payload } = decodeJws(jwt)
    expect(header).toMatchObject({ typ: 'dc+sd-jwt', alg: 'ES256K' })
    expect(header.kid.startsWith(`${idp.did}#`)).toBe(true)
    expect(payload).toMatchObject({ iss: idp.did, sub: patient.did, vct: `${svc.config.publicUrl}/vct/PatientIdentityCredential`, _sd_alg: 'sha-256' })
    expect(payload.jti).toMatch(/^urn:uuid:/)
    expect(typeof payload.iat).toBe('number')
    expect(payload.cnf.jwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519' })
    expect(payload.status.status_list).toMatchObject({ idx: expect.any(Number), uri: expect.stringContaining('/token-status/') })
    for (const claim of ['name', 'birthDate', 'address', 'identifiers', 'assuranceLevel']) expect(payload[claim]).toBeUndefined()
    expect(jwt).not.toContain(Buffer.from(PATIENT_NAME).toString('base64url').slice(0, 8))
    expect(disclosedNames(sdJwt).sort()).toEqual(['address', 'assuranceLevel', 'birthDate', 'identifiers', 'name'])

    const row = await svc.db.getRepository(IssuedCredentialEntity).findOneByOrFail({ id: payload.jti })
    expect(row).toMatchObject({ issuerInstitutionId: idp.id, subjectDid: patient.did, type: 'PatientIdentityCredential', jwt: sdJwt })

    const events = await svc.api.get('/audit/events?limit=1000', svc.api.adminToken)
    const issued = events.body.events.find((e: any) => e.action === 'credential.issued' && e.subject.id === payload.jti)
    expect(issued.detail).toEqual({ credentialType: 'PatientIdentityCredential' })
    expect(JSON.stringify(events.body)).not.toContain(PATIENT_NAME)
    expect(JSON.stringify(events.body)).not.toContain(PATIENT_BIRTH_DATE)
  })

  it('an Idempotency-Key retry replays the same SD-JWT VC; one credential is stored', async () => {
    const { patientIdentityCredential } = await import('./helpers/fixtures.js')
    const body = { credential: patientIdentityCredential(patient.did), options: { format: 'dc+sd-jwt' } }
    const send = () => svc.api.request('POST', '/credentials/issue', { body, token: idp.apiKey, headers: { 'idempotency-key': 'sd-jwt-retry-1' } })
    const first = await send()
    const again = await send()
    expect(first.status).toBe(201)
    expect(again.status).toBe(201)
    expect(again.body.verifiableCredential).toBe(first.body.verifiableCredential)
    const jti = decodeJws(first.body.verifiableCredential.split('~')[0]).payload.jti
    expect(await svc.db.getRepository(IssuedCredentialEntity).countBy({ id: jti })).toBe(1)
  })

  it('serves the Type Metadata at the vct URL', async () => {
    const { payload } = decodeJws((await issueSdJwt(svc, idp.apiKey, patient.did)).split('~')[0])
    const res = await svc.api.get(localPath(payload.vct))
    expect(res.status).toBe(200)
    expect(res.body.vct).toBe(payload.vct)
    expect(res.body.claims.map((c: any) => c.path[0])).toEqual(['name', 'birthDate', 'address', 'identifiers', 'assuranceLevel'])
    expect((await svc.api.get('/vct/NoSuchType')).status).toBe(404)
  })

  it('serves the Token Status List as application/statuslist+jwt, and POST /credentials/status flips the entry', async () => {
    const { payload } = decodeJws((await issueSdJwt(svc, idp.apiKey, patient.did)).split('~')[0])
    const { idx, uri } = payload.status.status_list
    const before = await svc.api.get(localPath(uri))
    expect(before.status).toBe(200)
    expect(before.type).toContain('application/statuslist+jwt')
    const token = decodeJws(before.body)
    expect(token.header).toMatchObject({ typ: 'statuslist+jwt', alg: 'ES256K' })
    expect(token.payload).toMatchObject({ iss: idp.did, sub: uri, status_list: { bits: 1 } })
    expect(getListFromStatusListJWT(before.body).getStatus(idx)).toBe(0)

    const revoke = await svc.api.post('/credentials/status', { credentialId: payload.jti, credentialStatus: [{ type: 'TokenStatusList', status: 'revoked' }] }, idp.apiKey)
    expect(revoke.status).toBe(200)
    expect(revoke.body).toMatchObject({ status: 'revoked', changed: true })
    const after = await svc.api.get(localPath(uri))
    expect(getListFromStatusListJWT(after.body).getStatus(idx)).toBe(1)

    const again = await svc.api.post('/credentials/status', { credentialId: payload.jti, credentialStatus: [{ type: 'TokenStatusList', status: 'active' }] }, idp.apiKey)
    expect(again.status).toBe(409)
    const suspend = await svc.api.post('/credentials/status', { credentialId: payload.jti, credentialStatus: [{ type: 'TokenStatusList', status: 'suspended' }] }, idp.apiKey)
    expect(suspend.status).toBe(409)
  })

  it('a TokenStatusList change on a VC-JWT credential is refused (it has no such entry)', async () => {
    const res = await svc.api.post('/credentials/issue', { credential: licenseCredential(patient.did) }, board.apiKey)
    const change = await svc.api.post('/credentials/status', { credentialId: res.body.verifiableCredential.id, credentialStatus: [{ type: 'TokenStatusList', status: 'revoked' }] }, board.apiKey)
    expect(change.status).toBe(400)
    expect(change.body.type).toMatch(/invalid-request$/)
  })

  it('the @sd-jwt verifier verifies a medcred SD-JWT VC, its signature and its status', async () => {
    const sdJwt = await issueSdJwt(svc, idp.apiKey, patient.did)
    const verifier = didJwsVerifier(svc)
    const lib = new SDJwtVcInstance({
      hasher: digest,
      verifier,
      statusVerifier: verifier,
      statusListFetcher: async (uri: string) => (await svc.api.get(localPath(uri))).body as string,
    })
    const result = await lib.verify(sdJwt)
    expect(result.payload).toMatchObject({ iss: idp.did, name: PATIENT_NAME, birthDate: PATIENT_BIRTH_DATE, assuranceLevel: 'IAL2' })
    // A presentation with key binding (as the patient's wallet makes it) verifies with the library too.
    const presentation = await patient.presentSdJwt(sdJwt, ['birthDate'], { challenge: 'lib-nonce', domain: 'https://verifier.example' })
    const kbLib = new SDJwtVcInstance({
      hasher: digest,
      verifier,
      statusVerifier: verifier,
      statusListFetcher: async (uri: string) => (await svc.api.get(localPath(uri))).body as string,
      kbVerifier: async (data: string, signature: string, payload: any) =>
        verify(null, Buffer.from(data), createPublicKey({ key: payload.cnf.jwk, format: 'jwk' }), Buffer.from(signature, 'base64url')),
    })
    const presented = await kbLib.verify(presentation, { keyBindingNonce: 'lib-nonce' } as never)
    expect(presented.payload).toMatchObject({ birthDate: PATIENT_BIRTH_DATE })
    expect((presented.payload as Record<string, unknown>).name).toBeUndefined()
    expect(presented.kb?.payload).toMatchObject({ nonce: 'lib-nonce', aud: 'https://verifier.example' })
    // Tampering with the signed part is caught by the library too.
    const [jwt, ...rest] = sdJwt.split('~')
    const forged = [jwt.slice(0, -4) + (jwt.endsWith('AAAA') ? 'BBBB' : 'AAAA'), ...rest].join('~')
    await expect(lib.verify(forged)).rejects.toThrow()
  })

  it('refuses dc+sd-jwt for a type it is not offered for, an unknown format, and a subject without a usable key', async () => {
    const license = await svc.api.post('/credentials/issue', { credential: licenseCredential(patient.did), options: { format: 'dc+sd-jwt' } }, board.apiKey)
    expect(license.status).toBe(400)
    const unknown = await svc.api.post('/credentials/issue', { credential: licenseCredential(patient.did), options: { format: 'ldp_vc' } }, board.apiKey)
    expect(unknown.status).toBe(400)
    const ethr = await svc.api.post(
      '/credentials/issue',
      { credential: { '@context': ['https://www.w3.org/2018/credentials/v1'], type: ['VerifiableCredential', 'PatientIdentityCredential'], credentialSubject: { id: board.did, name: 'X Y', birthDate: '1990-01-01', assuranceLevel: 'IAL1' } }, options: { format: 'dc+sd-jwt' } },
      idp.apiKey,
    )
    expect(ethr.status).toBe(422)
    expect(ethr.body.errors[0].field).toBe('credential.credentialSubject.id')
    const invalid = await svc.api.post(
      '/credentials/issue',
      { credential: { '@context': ['https://www.w3.org/2018/credentials/v1'], type: ['VerifiableCredential', 'PatientIdentityCredential'], credentialSubject: { id: patient.did, name: 'X', birthDate: 'yesterday', assuranceLevel: 'IAL2' } }, options: { format: 'dc+sd-jwt' } },
      idp.apiKey,
    )
    expect(invalid.status).toBe(422)
    expect(invalid.body.errors[0].field).toBe('credential.credentialSubject.birthDate')
    const reservedCases: [Record<string, unknown>, string][] = [
      [{ cnf: { jwk: {} } }, 'cnf'],
      [{ status: 'x' }, 'status'],
      [{ jti: 'urn:x' }, 'jti'],
      [{ address: { _sd: ['x'] } }, 'address._sd'],
      [{ identifiers: [{ '...': 'x' }] }, 'identifiers'],
    ]
    for (const [extra, field] of reservedCases) {
      const { patientIdentityCredential } = await import('./helpers/fixtures.js')
      const credential = patientIdentityCredential(patient.did)
      Object.assign(credential.credentialSubject, extra)
      const res = await svc.api.post('/credentials/issue', { credential, options: { format: 'dc+sd-jwt' } }, idp.apiKey)
      expect(res.status, JSON.stringify(res.body)).toBe(422)
      expect(res.body.errors[0].field).toContain(`credential.credentialSubject.${field}`)
    }
  })

  it('logged no patient name, birth date or identifier', () => {
    expectNoneIn(svc.logs, [PATIENT_NAME, PATIENT_BIRTH_DATE, 'MRN-0042'])
  })
})
