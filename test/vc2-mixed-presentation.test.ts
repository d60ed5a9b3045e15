import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HolderWallet } from '../src/holder/wallet.js'
import { licenseCredential } from './helpers/fixtures.js'
import { startTestService, type TestService } from './helpers/service.js'
import { VC_V2, decodePart, jwtOfEnvelope, licenseCredentialV2 } from './helpers/vc2.js'

describe('a presentation mixing a VC 1.1 and a VC 2.0 credential verifies each, as VP-JWT, vp+jwt or EnvelopedVerifiablePresentation', () => {
  let svc: TestService
  let board: { apiKey: string; did: string }
  let clinician: HolderWallet
  let v1: any
  let v2: { '@context': string[]; type: string; id: string }
  const binding = { challenge: 'c-mixed-1', domain: 'mercy-general.example' }
  beforeAll(async () => {
    svc = await startTestService()
    board = await svc.api.createTrustedBoard('Texas Medical Board')
    clinician = await HolderWallet.create()
    v1 = (await svc.api.post('/credentials/issue', { credential: { ...licenseCredential(clinician.did), issuer: board.did } }, board.apiKey)).body.verifiableCredential
    v2 = (await svc.api.post('/credentials/issue', { credential: licenseCredentialV2(clinician.did, board.did, { credentialSubject: { licenseNumber: 'Q-2' } }) }, board.apiKey)).body.verifiableCredential
  })
  afterAll(() => svc?.dispose())

  const vpJwt = (credentials: unknown[], b = binding) =>
    clinician.signJwt({ iss: clinician.did, nonce: b.challenge, aud: b.domain, vp: { '@context': ['https://www.w3.org/2018/credentials/v1'], type: ['VerifiablePresentation'], verifiableCredential: credentials } })
  const vpJose = (credentials: unknown[], b: Partial<typeof binding> = binding, signer = clinician) =>
    signer.signJwt(
      { '@context': [VC_V2], type: ['VerifiablePresentation'], holder: clinician.did, verifiableCredential: credentials, ...(b.challenge ? { nonce: b.challenge } : {}), ...(b.domain ? { aud: b.domain } : {}) },
      { typ: 'vp+jwt' },
    )
  const verify = (verifiablePresentation: unknown) => svc.api.post('/presentations/verify', { verifiablePresentation, options: binding })
  const checks = (body: any, prefix: string) => body.checks.filter((c: any) => c.check.startsWith(prefix)).map((c: any) => c.check.slice(prefix.length))

  it('verifies both credentials of a VP-JWT, every check by its name for each generation', async () => {
    const res = await verify(await vpJwt([v1, v2]))
    expect(res.status).toBe(200)
    expect(res.body.holder).toBe(clinician.did)
    const common = ['issuerDid', 'proof', 'format', 'dates', 'schema', 'trustedIssuer', 'status', 'integrity']
    expect(checks(res.body, 'credentials[0].')).toEqual(expect.arrayContaining(common))
    expect(checks(res.body, 'credentials[1].')).toEqual(expect.arrayContaining(common))
    const format = (i: number) => res.body.checks.find((c: any) => c.check === `credentials[${i}].format`).detail
    expect(format(0)).toMatch(/VC 1\.1/)
    expect(format(1)).toMatch(/VC 2\.0/)
    expect(res.body.checks.find((c: any) => c.check === 'holderBinding').ok).toBe(true)
  })

  it('verifies a VC 2.0 vp+jwt carrying both, bare and as an EnvelopedVerifiablePresentation', async () => {
    const jwt = await vpJose([v2, v1])
    for (const input of [jwt, { '@context': [VC_V2], type: 'EnvelopedVerifiablePresentation', id: `data:application/vp+jwt,${jwt}` }]) {
      const res = await verify(input)
      expect(res.status).toBe(200)
      expect(res.body.checks.find((c: any) => c.check === 'format').detail).toMatch(/vp\+jwt/)
      expect(res.body.checks.filter((c: any) => /^credentials\[\d\]\.proof$/.test(c.check))).toHaveLength(2)
    }
  })

  it('fails only the revoked 2.0 credential, by its status check', async () => {
    const id = decodePart(jwtOfEnvelope(v2), 1).id
    await svc.api.post('/credentials/status', { credentialId: id, credentialStatus: [{ type: 'BitstringStatusListEntry', status: 'revoked' }] }, board.apiKey)
    for (const vp of [await vpJwt([v1, v2]), await vpJose([v1, v2])]) {
      const res = await verify(vp)
      expect(res.status).toBe(400)
      expect(res.body.errors).toEqual([{ check: 'credentials[1].status', detail: 'revoked' }])
    }
  })

  it('fails a vp+jwt without a challenge, or signed by someone other than its holder', async () => {
    const unbound = await verify(await vpJose([v1], { domain: binding.domain }))
    expect(unbound.body.errors.map((e: any) => e.check)).toEqual(['challenge'])
    const mallory = await HolderWallet.create()
    const forged = await verify(await vpJose([v1], binding, mallory))
    expect(forged.body.errors.map((e: any) => e.check)).toContain('presentationProof')
    expect(forged.body.errors.find((e: any) => e.check === 'presentationProof').detail).toMatch(/not a key of the holder/)
  })

  it('fails an EnvelopedVerifiablePresentation carrying something beside its id (integrity)', async () => {
    const jwt = await vpJose([v1])
    const res = await verify({ '@context': [VC_V2], type: 'EnvelopedVerifiablePresentation', id: `data:application/vp+jwt,${jwt}`, holder: 'did:example:x' })
    expect(res.body.errors.map((e: any) => e.check)).toEqual(['integrity'])
  })
})
