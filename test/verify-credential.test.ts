import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HolderWallet } from '../src/holder/wallet.js'
import { licenseCredential, reencodeJwt, tamperJwt, tamperPayload } from './helpers/fixtures.js'
import { startTestService, type TestService } from './helpers/service.js'

describe('POST /credentials/verify', () => {
  let svc: TestService
  let board: { did: string; apiKey: string }
  let hospital: { did: string; apiKey: string }
  let clinician: HolderWallet
  let license: any

  beforeAll(async () => {
    svc = await startTestService()
    board = await svc.api.createTrustedBoard('Texas Medical Board')
    hospital = await svc.api.createInstitution({ name: 'Mercy General', kind: 'hospital' })
    clinician = await HolderWallet.create()
    license = (await svc.api.post('/credentials/issue', { credential: licenseCredential(clinician.did) }, board.apiKey)).body
      .verifiableCredential
  })
  afterAll(() => svc?.dispose())

  const verify = (verifiableCredential: unknown) => svc.api.post('/credentials/verify', { verifiableCredential })
  const failedChecks = (body: any) => body.errors.map((e: { check: string }) => e.check)

  it('verifies a license as JSON and as a bare VC-JWT, reporting each check', async () => {
    for (const form of [license, license.proof.jwt]) {
      const res = await verify(form)
      expect(res.status).toBe(200)
      expect(res.body.verified).toBe(true)
      expect(res.body.warnings).toEqual([])
      const names = res.body.checks.map((c: { check: string }) => c.check)
      expect(names).toEqual(expect.arrayContaining(['proof', 'issuerDid', 'format', 'dates', 'schema']))
      expect(res.body.checks.every((c: { ok: boolean }) => c.ok)).toBe(true)
    }
  })

  it('fails a credential whose payload had one character changed (proof)', async () => {
    const res = await verify(tamperPayload(license.proof.jwt, 'Ada', 'Adb'))
    expect(res.status).toBe(400)
    expect(res.type).toBe('application/problem+json')
    expect(res.body.type).toBe('https://medcred.dev/problems/verification-failed')
    expect(res.body.verified).toBe(false)
    expect(failedChecks(res.body)).toEqual(['proof'])
  })

  it('fails a credential whose signature had one character changed (proof)', async () => {
    const res = await verify(tamperJwt(license.proof.jwt, 2, 5))
    expect(res.status).toBe(400)
    expect(failedChecks(res.body)).toEqual(['proof'])
  })

  it('fails an expired credential (dates), though its signature is good', async () => {
    const issued = await svc.api.post(
      '/credentials/issue',
      { credential: licenseCredential(clinician.did, { issuanceDate: '2020-01-01T00:00:00Z', expirationDate: '2022-01-01T00:00:00Z' }) },
      board.apiKey,
    )
    const res = await verify(issued.body.verifiableCredential)
    expect(res.status).toBe(400)
    expect(failedChecks(res.body)).toEqual(['dates'])
    expect(res.body.errors[0].detail).toMatch(/expired at 2022-01-01/)
    expect(res.body.checks.find((c: any) => c.check === 'proof').ok).toBe(true)
  })

  it('fails a credential that is not valid yet (dates)', async () => {
    const issued = await svc.api.post(
      '/credentials/issue',
      { credential: licenseCredential(clinician.did, { issuanceDate: '2030-01-01T00:00:00Z', expirationDate: '2032-01-01T00:00:00Z' }) },
      board.apiKey,
    )
    const res = await verify(issued.body.verifiableCredential.proof.jwt)
    expect(failedChecks(res.body)).toEqual(['dates'])
    expect(res.body.errors[0].detail).toMatch(/not valid before/)
  })

  it('fails a credential whose iss names a DID that did not sign it (proof)', async () => {
    const forged = reencodeJwt(license.proof.jwt, (_h, p) => {
      p.iss = hospital.did
    })
    const res = await verify(forged)
    expect(res.status).toBe(400)
    expect(failedChecks(res.body)).toEqual(['proof'])
    expect(res.body.checks.find((c: any) => c.check === 'issuerDid').ok).toBe(true)
  })

  it('fails an unsigned credential (alg: none)', async () => {
    const unsigned = reencodeJwt(license.proof.jwt, (h) => {
      h.alg = 'none'
    }, '')
    const res = await verify(unsigned)
    expect(res.status).toBe(400)
    expect(failedChecks(res.body)).toEqual(['proof'])
    expect(res.body.errors[0].detail).toMatch(/"none" is not accepted/)
  })

  it('fails a JSON credential edited beside its intact proof.jwt (integrity)', async () => {
    const edited = structuredClone(license)
    edited.credentialSubject.status = 'active'
    edited.credentialSubject.licenseType = 'DO'
    const res = await verify(edited)
    expect(res.status).toBe(400)
    expect(failedChecks(res.body)).toEqual(['integrity'])
  })

  it('fails a JSON credential whose proof type was changed to dodge the integrity check', async () => {
    const edited = structuredClone(license)
    edited.proof.type = 'SomethingElse'
    edited.credentialSubject.name = 'Dr. Mallory'
    const res = await verify(edited)
    expect(failedChecks(res.body)).toEqual(['integrity'])
  })

  it('fails a signed credential of a known type whose subject breaks the schema', async () => {
    const mallory = await HolderWallet.create('Secp256k1')
    const selfMade = await mallory.selfIssue(licenseCredential(mallory.did, { credentialSubject: { npi: '1234567890' } }))
    const res = await verify(selfMade)
    expect(res.status).toBe(400)
    expect(failedChecks(res.body)).toEqual(['schema', 'trustedIssuer', 'status'])
    expect(res.body.errors[0].detail).toMatch(/npi/)
  })

  it('fails a JWT that carries no credential (format)', async () => {
    const noVc = reencodeJwt(license.proof.jwt, (_h, p) => {
      delete p.vc
    })
    const res = await verify(noVc)
    expect(failedChecks(res.body)).toEqual(expect.arrayContaining(['format']))
  })

  it('fails garbage that is not a JWT, and rejects bodies of the wrong shape with 400', async () => {
    const garbage = await verify('not-a-jwt')
    expect(garbage.status).toBe(400)
    expect(failedChecks(garbage.body)).toEqual(['proof'])
    expect(garbage.body.errors[0].detail).toMatch(/not a well-formed JWT/)

    for (const body of [{}, { verifiableCredential: 42 }, { verifiableCredential: { proof: {} } }, { verifiableCredential: license, extra: true }]) {
      const res = await svc.api.post('/credentials/verify', body)
      expect(res.status).toBe(400)
      expect(res.body.type).toBe('https://medcred.dev/problems/invalid-request')
    }
  })

  it('fails a credential whose issuer DID is of an unsupported method (issuerDid)', async () => {
    const webIssued = reencodeJwt(license.proof.jwt, (_h, p) => {
      p.iss = 'did:example:123'
    })
    const res = await verify(webIssued)
    expect(failedChecks(res.body)).toEqual(expect.arrayContaining(['issuerDid']))
    expect(res.body.errors[0].detail).toMatch(/methodNotSupported/)
  })
})
