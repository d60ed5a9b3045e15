import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HolderWallet } from '../src/holder/wallet.js'
import { licenseCredential, reencodeJwt, tamperPayload } from './helpers/fixtures.js'
import { startTestService, type TestService } from './helpers/service.js'

describe('POST /presentations/verify', () => {
  let svc: TestService
  let board: { did: string; apiKey: string }
  let clinician: HolderWallet
  let license: any
  const binding = { challenge: 'c-7f3a91', domain: 'mercy-general.example' }

  beforeAll(async () => {
    svc = await startTestService()
    board = await svc.api.createTrustedBoard('Texas Medical Board')
    clinician = await HolderWallet.create()
    license = (await svc.api.post('/credentials/issue', { credential: licenseCredential(clinician.did) }, board.apiKey)).body
      .verifiableCredential
  })
  afterAll(() => svc?.dispose())

  const verify = (verifiablePresentation: unknown, options: unknown = binding) =>
    svc.api.post('/presentations/verify', { verifiablePresentation, options })
  const failedChecks = (body: any) => body.errors.map((e: { check: string }) => e.check)

  it("verifies the clinician's presentation and every credential in it", async () => {
    const vp = await clinician.present([license], binding)
    for (const form of [vp, vp.proof.jwt]) {
      const res = await verify(form)
      expect(res.status).toBe(200)
      expect(res.body.verified).toBe(true)
      expect(res.body.holder).toBe(clinician.did)
      const names = res.body.checks.map((c: { check: string }) => c.check)
      expect(names).toEqual(
        expect.arrayContaining(['presentationProof', 'holderDid', 'challenge', 'domain', 'holderBinding', 'credentials[0].proof', 'credentials[0].issuerDid', 'credentials[0].schema']),
      )
    }
  })

  it('fails a presentation made for another challenge', async () => {
    const vp = await clinician.present([license], { ...binding, challenge: 'someone-elses' })
    const res = await verify(vp)
    expect(res.status).toBe(400)
    expect(failedChecks(res.body)).toEqual(['challenge'])
  })

  it('fails a presentation made for another domain', async () => {
    const vp = await clinician.present([license], { ...binding, domain: 'evil.example' })
    const res = await verify(vp)
    expect(failedChecks(res.body)).toEqual(['domain'])
  })

  it('fails a presentation bound to no challenge or domain at all', async () => {
    const vp = await clinician.present([license], {})
    const res = await verify(vp)
    expect(failedChecks(res.body)).toEqual(['challenge', 'domain'])
  })

  it('fails a presentation by someone who is not the subject (holderBinding)', async () => {
    const thief = await HolderWallet.create()
    const vp = await thief.present([license], binding)
    const res = await verify(vp)
    expect(res.status).toBe(400)
    expect(failedChecks(res.body)).toEqual(['holderBinding'])
    expect(res.body.errors[0].detail).toMatch(/not the subject/)
  })

  it('fails a validly signed presentation carrying a tampered credential', async () => {
    const tampered = tamperPayload(license.proof.jwt, 'Q-48211', 'Q-48212')
    const vp = await clinician.present([tampered], binding)
    const res = await verify(vp)
    expect(res.status).toBe(400)
    expect(failedChecks(res.body)).toEqual(['credentials[0].proof'])
    expect(res.body.checks.find((c: any) => c.check === 'presentationProof').ok).toBe(true)
  })

  it('fails a presentation whose signature does not match its payload', async () => {
    const vp = await clinician.present([license], binding)
    const res = await verify(tamperPayload(vp.proof.jwt, binding.challenge, 'c-7f3a92'))
    expect(failedChecks(res.body)).toEqual(expect.arrayContaining(['presentationProof']))
  })

  it('fails a presentation JSON edited beside its proof.jwt (integrity)', async () => {
    const vp: any = await clinician.present([license], binding)
    vp.holder = 'did:key:z6MkSomeoneElse'
    const res = await verify(vp)
    expect(failedChecks(res.body)).toEqual(['integrity'])
  })

  it('fails a presentation whose signer names a different holder', async () => {
    const vp = await clinician.present([license], binding)
    const other = await HolderWallet.create()
    const relabelled = reencodeJwt(vp.proof.jwt, (_h, p) => {
      p.vp.holder = other.did
    })
    const res = await verify(relabelled)
    expect(failedChecks(res.body)).toEqual(expect.arrayContaining(['presentationProof']))
  })

  it('requires a challenge and a domain in the request (400)', async () => {
    const vp = await clinician.present([license], binding)
    for (const options of [undefined, {}, { challenge: 'x' }, { domain: 'y' }]) {
      const res = await svc.api.post('/presentations/verify', { verifiablePresentation: vp, options })
      expect(res.status).toBe(400)
      expect(res.body.type).toBe('https://medcred.dev/problems/invalid-request')
    }
  })
})
