import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { receiptCredential } from '../src/acceptance/receipts.js'
import { credentialDigest } from '../src/credentials/digest.js'
import { RESERVED_CREDENTIAL_TYPES } from '../src/credentials/reserved-types.js'
import { HolderWallet } from '../src/holder/wallet.js'
import { InstitutionEntity } from '../src/institutions/institution.entity.js'
import { IssuedCredentialEntity } from '../src/issuance/issued-credential.entity.js'
import { signAsInstitution } from '../src/issuance/sign.js'
import { licenseCredential, reencodeJwt } from './helpers/fixtures.js'
import { startTestService, type TestService } from './helpers/service.js'

type Inst = { id: string; did: string; apiKey: string }

/** Issue 8, hole 1: a trusted verifier's key minted a receipt, and another hospital accepted a forged license on it. */
describe('types medcred gives meaning to are never signed through the issue path', () => {
  let svc: TestService
  let board: Inst
  let hospitalA: Inst
  let hospitalB: Inst
  let clinician: HolderWallet

  beforeAll(async () => {
    svc = await startTestService()
    board = await svc.api.createTrustedBoard('Texas Medical Board')
    ;({ hospitalA, hospitalB } = await svc.api.createHospitalPair())
    clinician = await HolderWallet.create()
  })
  afterAll(() => svc?.dispose())

  const accept = (credential: unknown, receipt: unknown) => svc.api.post('/acceptances', { verifiableCredential: credential, receipt }, hospitalB.apiKey)
  const failed = (body: any) => body.errors.map((e: any) => e.check)

  it('refuses every reserved type, in any letter case, from any institution, and stores nothing', async () => {
    const types = Object.values(RESERVED_CREDENTIAL_TYPES)
    for (const type of [...types, 'acceptancereceiptcredential', 'PATIENTCONSENTCREDENTIAL']) {
      for (const who of [hospitalA, board]) {
        const res = await svc.api.post(
          '/credentials/issue',
          { credential: { '@context': ['https://www.w3.org/2018/credentials/v1'], type: ['VerifiableCredential', type], credentialSubject: { id: clinician.did, acceptedCredential: { id: 'urn:x', digest: '0'.repeat(64) } } } },
          who.apiKey,
        )
        expect(res.status, type).toBe(403)
        expect(res.type).toBe('application/problem+json')
        expect(res.body.type).toBe('https://medcred.dev/problems/reserved-credential-type')
        expect(res.body.errors).toEqual([{ field: 'credential.type', message: expect.stringMatching(/reserved type/) }])
      }
    }
    expect(await svc.db.getRepository(IssuedCredentialEntity).countBy({ issuerInstitutionId: hospitalA.id })).toBe(0)
  })

  it("does not accept, on a receipt naming it, a license whose signature is random (the review's attack)", async () => {
    // The review minted the receipt through the issue path; that is closed above, so it is signed in process here.
    const real = (await svc.api.post('/credentials/issue', { credential: licenseCredential(clinician.did) }, board.apiKey)).body.verifiableCredential
    const forged = reencodeJwt(real.proof.jwt, (_h, p) => {
      p.vc.credentialSubject.name = 'Dr. Mallory'
    }, Buffer.alloc(64, 7).toString('base64url'))
    const row = await svc.db.getRepository(InstitutionEntity).findOneByOrFail({ id: hospitalA.id })
    const receipt = await signAsInstitution(svc.agent, row, receiptCredential({
      url: `${svc.url}/receipts/minted`,
      verifier: row,
      holder: clinician.did,
      accepted: { id: real.id, type: 'ClinicianLicenseCredential', issuer: board.did, digest: credentialDigest(forged) },
      verificationId: 'none',
      purpose: 'onboarding',
      checksPassed: ['proof'],
      verifiedAt: new Date().toISOString(),
    }))
    const res = await accept(forged, receipt.proof.jwt)
    expect(res.status).toBe(400)
    expect(res.body.accepted).toBe(false)
    expect(failed(res.body)).toEqual(['proof'])
    expect(res.body.errors[0].detail).toMatch(/signature does not verify against an assertionMethod key/)
  })

  it('checks the signature on every accept-on-receipt: a real receipt does not carry a re-signed JWT of the same payload', async () => {
    const license = (await svc.api.post('/credentials/issue', { credential: licenseCredential(clinician.did) }, board.apiKey)).body.verifiableCredential
    const { challenge, domain } = (await svc.api.post('/verifications/challenges', {}, hospitalA.apiKey)).body
    const vp = await clinician.present([license], { challenge, domain })
    const verified = await svc.api.post('/verifications', { verifiablePresentation: vp, challenge, domain, purpose: 'onboarding' }, hospitalA.apiKey)
    expect(verified.status).toBe(201)
    const receipt = verified.body.receipts[0]
    // Same signed payload (so the receipt's digest matches), a signature nobody made.
    const [h, p] = license.proof.jwt.split('.')
    const unsigned = `${h}.${p}.${Buffer.alloc(64, 1).toString('base64url')}`
    const refused = await accept(unsigned, receipt)
    expect(refused.status).toBe(400)
    expect(failed(refused.body)).toEqual(['proof'])
    expect((await accept(license, receipt)).status).toBe(201)
  })
})
