import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HolderWallet } from '../src/holder/wallet.js'
import { licenseCredential, patientIdentityCredential, reencodeJwt } from './helpers/fixtures.js'
import { startTestService, type TestService } from './helpers/service.js'

/** Inputs crafted to slip past a check: each must fail closed with a 4xx that names why, never a 500. */
describe('hostile input', () => {
  let svc: TestService
  let board: { id: string; did: string; apiKey: string }
  let hospital: { id: string; did: string; apiKey: string }
  let clinician: HolderWallet
  let mallory: HolderWallet

  beforeAll(async () => {
    svc = await startTestService()
    board = await svc.api.createTrustedBoard('Texas Medical Board')
    hospital = await svc.api.createInstitution({ name: 'Hospital', kind: 'hospital' })
    await svc.api.trustIssuer(hospital.did, ['PatientIdentityCredential'])
    clinician = await HolderWallet.create()
    mallory = await HolderWallet.create('Secp256k1')
  })
  afterAll(() => svc?.dispose())

  const issue = (credential: unknown, token: string) => svc.api.post('/credentials/issue', { credential }, token)
  const verify = (vc: unknown) => svc.api.post('/credentials/verify', { verifiableCredential: vc })
  const failed = (body: any) => body.errors.map((e: any) => e.check)

  it('refuses JWT claim names in a credential to issue (they would be signed past every check)', async () => {
    for (const claim of ['vc', 'sub', 'jti', 'nbf', 'exp', 'iss']) {
      const res = await issue({ ...licenseCredential(clinician.did), [claim]: { credentialStatus: { id: 'x' } } }, board.apiKey)
      expect(res.status).toBe(400)
      expect(res.body.errors[0].field).toBe(`credential.${claim}`)
    }
  })

  it('refuses a credential naming two known types, at issuance and at verification', async () => {
    const both = patientIdentityCredential(clinician.did, { type: ['VerifiableCredential', 'PatientIdentityCredential', 'ClinicianLicenseCredential'] })
    const res = await issue(both, hospital.apiKey)
    expect(res.status).toBe(422)
    expect(res.body.errors[0].field).toBe('credential.type')
    const selfMade = await mallory.selfIssue(both)
    expect(failed((await verify(selfMade)).body)).toContain('schema')
  })

  it('does not let a type named like an Object property crash issuance or verification', async () => {
    const res = await issue({ '@context': ['https://www.w3.org/2018/credentials/v1'], type: ['VerifiableCredential', 'constructor'], credentialSubject: { id: clinician.did, x: 1 } }, hospital.apiKey)
    expect(res.status).toBe(201)
    expect((await verify(res.body.verifiableCredential)).status).toBe(200)
  })

  it('fails a credential whose issuer claim names someone other than its signer', async () => {
    const forged = await mallory.selfIssue(licenseCredential(clinician.did))
    const relabelled = reencodeJwt(forged.proof.jwt, (_h, p) => {
      p.issuer = board.did
    })
    const res = await verify(relabelled)
    expect(res.status).toBe(400)
    expect(res.body.errors).toContainEqual({ check: 'format', detail: expect.stringMatching(/names .* as issuer but is signed as/) })
  })

  it('refuses a receipt whose issuer claim names a trusted verifier it was not signed by', async () => {
    await svc.api.post('/trust/verifiers', { did: hospital.did }, svc.api.adminToken)
    const license = (await issue(licenseCredential(clinician.did), board.apiKey)).body.verifiableCredential
    const { challenge, domain } = (await svc.api.post('/verifications/challenges', {}, hospital.apiKey)).body
    const vp = await clinician.present([license], { challenge, domain })
    const receipt = (await svc.api.post('/verifications', { verifiablePresentation: vp, challenge, domain, purpose: 'onboarding' }, hospital.apiKey)).body.receipts[0]
    // Mallory signs the same receipt with her own key, claiming the hospital as issuer.
    const { proof: _p, issuer: _i, ...body } = receipt
    const impostor = await mallory.selfIssue(body)
    const claimed = reencodeJwt(impostor.proof.jwt, (_h, p) => {
      p.issuer = hospital.did
    })
    const other = await svc.api.createInstitution({ name: 'Other', kind: 'hospital' })
    const res = await svc.api.post('/acceptances', { verifiableCredential: license, receipt: claimed }, other.apiKey)
    expect(res.status).toBe(400)
    expect(failed(res.body)).toContain('receiptFormat')
  })

  it('fails an expired credential whose expiry sits only inside the vc claim', async () => {
    const vc = await mallory.selfIssue({ type: ['VerifiableCredential'], credentialSubject: { id: clinician.did, x: 1 } })
    const stale = reencodeJwt(vc.proof.jwt, (_h, p) => {
      delete p.exp
      p.vc.expirationDate = '2020-01-01T00:00:00Z'
    })
    const res = await verify(stale)
    expect(failed(res.body)).toContain('dates')
  })

  it('answers a presentation whose iss is not a string with 400, not 500', async () => {
    const vp = await clinician.present([], { challenge: 'c', domain: 'd' })
    const odd = reencodeJwt(vp.proof.jwt, (_h, p) => {
      p.iss = 123
    })
    const res = await svc.api.post('/presentations/verify', { verifiablePresentation: odd, options: { challenge: 'c', domain: 'd' } })
    expect(res.status).toBe(400)
    expect(res.body.verified).toBe(false)
  })

  it('answers a did:ethr whose public key is not on the curve, and an overlong DID, with 400', async () => {
    const offCurve = `did:ethr:${svc.chain.network}:0x02${'f'.repeat(64)}`
    expect((await svc.api.get(`/1.0/identifiers/${encodeURIComponent(offCurve)}`)).status).toBeLessThan(500)
    const long = `did:key:z${'a'.repeat(400)}`
    const res = await svc.api.get(`/1.0/identifiers/${encodeURIComponent(long)}`)
    expect(res.status).toBe(400)
  })

  it('answers a deeply nested body with 400 rather than overflowing the stack', async () => {
    const deep = '['.repeat(50_000) + ']'.repeat(50_000)
    const res = await svc.api.request('POST', '/credentials/verify', { raw: deep })
    expect(res.status).toBe(400)
    expect(res.body.detail).toMatch(/nests deeper/)
  })
})
