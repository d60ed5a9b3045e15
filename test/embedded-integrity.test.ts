import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RawHolder } from './helpers/raw-holder.js'
import { licenseCredential } from './helpers/fixtures.js'
import { startTestService, type TestService } from './helpers/service.js'

type Inst = { id: string; did: string; apiKey: string }

/**
 * Issue 8, holes 3 and 6: a JSON credential is believed only as far as its proof.jwt signs it, wherever it
 * sits (top level, inside a signed presentation, beside a receipt), and its proof must be the JWT proof it
 * carries, saying nothing the JWT does not.
 */
describe('the JSON form of a credential, wherever it is', () => {
  let svc: TestService
  let board: Inst
  let hospitalA: Inst
  let hospitalB: Inst
  let clinician: RawHolder
  let license: any

  beforeAll(async () => {
    svc = await startTestService()
    board = await svc.api.createTrustedBoard('Texas Medical Board')
    ;({ hospitalA, hospitalB } = await svc.api.createHospitalPair())
    clinician = RawHolder.create()
    license = (await svc.api.post('/credentials/issue', { credential: licenseCredential(clinician.did) }, board.apiKey)).body.verifiableCredential
  })
  afterAll(() => svc?.dispose())

  const failed = (body: any) => body.errors.map((e: any) => e.check)
  /** The review's edit: name, type and expiry changed beside an intact proof.jwt. */
  const edited = () => {
    const vc = structuredClone(license)
    vc.credentialSubject.name = 'Dr. Mallory'
    vc.type = ['VerifiableCredential', 'ClinicianLicenseCredential', 'BoardCertificationCredential']
    vc.expirationDate = '2099-01-01T00:00:00Z'
    return vc
  }
  const challengeOf = async (h: Inst) => {
    const { challenge, domain } = (await svc.api.post('/verifications/challenges', {}, h.apiKey)).body
    return { challenge, domain } as { challenge: string; domain: string }
  }

  it('verifies the untouched JSON form inside the real holder\'s VP-JWT (the baseline)', async () => {
    const binding = { challenge: 'c-1', domain: 'd.example' }
    const res = await svc.api.post('/presentations/verify', { verifiablePresentation: await clinician.present([license], binding), options: binding })
    expect(res.status).toBe(200)
    expect(res.body.checks.map((c: any) => c.check)).toContain('credentials[0].integrity')
  })

  it('fails an edited credential inside a VP-JWT signed by the real holder, at /presentations/verify', async () => {
    const binding = { challenge: 'c-2', domain: 'd.example' }
    const res = await svc.api.post('/presentations/verify', { verifiablePresentation: await clinician.present([edited()], binding), options: binding })
    expect(res.status).toBe(400)
    expect(failed(res.body)).toEqual(['credentials[0].integrity'])
  })

  it('gives no receipt for it at /verifications, and records the failure', async () => {
    const binding = await challengeOf(hospitalA)
    const res = await svc.api.post('/verifications', { verifiablePresentation: await clinician.present([edited()], binding), ...binding, purpose: 'onboarding' }, hospitalA.apiKey)
    expect(res.status).toBe(400)
    expect(res.body.receipts).toBeUndefined()
    expect(failed(res.body)).toEqual(['credentials[0].integrity'])
    const recorded = await svc.api.get(`/verifications/${res.body.verificationId}`, hospitalA.apiKey)
    expect(recorded.body.verified).toBe(false)
  })

  it('fails an edited credential settled on a genuine receipt, in a presentation and beside the receipt', async () => {
    const a = await challengeOf(hospitalA)
    const verified = await svc.api.post('/verifications', { verifiablePresentation: await clinician.present([license], a), ...a, purpose: 'onboarding' }, hospitalA.apiKey)
    expect(verified.status).toBe(201)
    const receipt = verified.body.receipts[0]
    const b = await challengeOf(hospitalB)
    const inVp = await svc.api.post('/acceptances', { verifiablePresentation: await clinician.present([edited(), receipt], b), ...b }, hospitalB.apiKey)
    expect(inVp.status).toBe(400)
    expect(failed(inVp.body)).toContain('credentials[0].integrity')
    const beside = await svc.api.post('/acceptances', { verifiableCredential: edited(), receipt }, hospitalB.apiKey)
    expect(beside.status).toBe(400)
    expect(failed(beside.body)).toEqual(['integrity'])
    const editedReceipt = structuredClone(receipt)
    editedReceipt.credentialSubject.verification.verifiedAt = new Date().toISOString()
    const receiptEdited = await svc.api.post('/acceptances', { verifiableCredential: license, receipt: editedReceipt }, hospitalB.apiKey)
    expect(failed(receiptEdited.body)).toEqual(['receiptIntegrity'])
    expect((await svc.api.post('/acceptances', { verifiableCredential: license, receipt }, hospitalB.apiKey)).status).toBe(201)
  })

  describe('proof members (hole 6)', () => {
    const verify = (vc: unknown) => svc.api.post('/credentials/verify', { verifiableCredential: vc })
    const withProof = (proof: Record<string, unknown>) => ({ ...structuredClone(license), proof: { jwt: license.proof.jwt, ...proof } })

    it('fails a proof that claims another suite and a foreign verification method', async () => {
      const res = await verify(withProof({ type: 'Ed25519Signature2020', verificationMethod: `${clinician.kid}` }))
      expect(res.status).toBe(400)
      expect(res.body.errors).toEqual([{ check: 'integrity', detail: expect.stringMatching(/proof\.type "Ed25519Signature2020" is not the JWT proof/) }])
    })

    it('fails a proof with no type, a wrong purpose, a wrong creation time or a member of its own', async () => {
      for (const [proof, why] of [
        [{}, /proof\.type is missing/],
        [{ type: 'JwtProof2020', proofPurpose: 'authentication' }, /proofPurpose must be assertionMethod/],
        [{ type: 'JwtProof2020', created: '2001-01-01T00:00:00Z' }, /proof\.created does not match/],
        [{ type: 'JwtProof2020', verificationMethod: clinician.kid }, /not the key its JWT names/],
        [{ type: 'JwtProof2020', challenge: 'x' }, /proof\.challenge is not something its JWT determines/],
      ] as const) {
        const res = await verify(withProof(proof))
        expect(res.status, JSON.stringify(proof)).toBe(400)
        expect(res.body.errors).toEqual([{ check: 'integrity', detail: expect.stringMatching(why) }])
      }
    })

    it('verifies a proof that says only what its JWT determines', async () => {
      const payload = JSON.parse(Buffer.from(license.proof.jwt.split('.')[1], 'base64url').toString())
      const created = new Date((payload.nbf ?? payload.iat) * 1000).toISOString()
      const res = await verify(withProof({ type: 'JwtProof2020', proofPurpose: 'assertionMethod', created }))
      expect(res.status).toBe(200)
    })

    it('applies to a JSON credential inside a presentation too', async () => {
      const binding = { challenge: 'c-3', domain: 'd.example' }
      const vp = await clinician.present([withProof({ type: 'Ed25519Signature2020' })], binding)
      const res = await svc.api.post('/presentations/verify', { verifiablePresentation: vp, options: binding })
      expect(failed(res.body)).toEqual(['credentials[0].integrity'])
    })
  })
})
