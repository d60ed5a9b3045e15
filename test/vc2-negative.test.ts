import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HolderWallet } from '../src/holder/wallet.js'
import { reencodeJwt, tamperJwt } from './helpers/fixtures.js'
import { startTestService, type TestService } from './helpers/service.js'
import { VC_V2, decodePart, jwtOfEnvelope, licenseCredentialV2 } from './helpers/vc2.js'

const enveloped = (jwt: string) => ({ '@context': [VC_V2], type: 'EnvelopedVerifiableCredential', id: `data:application/vc+jwt,${jwt}` })

describe('VC 2.0 credentials that must not verify fail by the check that catches them', () => {
  let svc: TestService
  let board: { apiKey: string; did: string }
  let otherBoard: { apiKey: string; did: string }
  let jwt: string
  let otherJwt: string
  let v1: any
  beforeAll(async () => {
    svc = await startTestService()
    board = await svc.api.createTrustedBoard('Texas Medical Board')
    otherBoard = await svc.api.createTrustedBoard('Other Board')
    const clinician = await HolderWallet.create()
    const issue = async (b: { apiKey: string; did: string }) =>
      jwtOfEnvelope((await svc.api.post('/credentials/issue', { credential: licenseCredentialV2(clinician.did, b.did) }, b.apiKey)).body.verifiableCredential)
    jwt = await issue(board)
    otherJwt = await issue(otherBoard)
    v1 = (await svc.api.post('/credentials/issue', { credential: { ...licenseCredentialV2(clinician.did, board.did), '@context': ['https://www.w3.org/2018/credentials/v1'], validUntil: undefined, expirationDate: decodePart(jwt, 1).validUntil } }, board.apiKey)).body.verifiableCredential
  })
  afterAll(() => svc?.dispose())
  const verify = (verifiableCredential: unknown) => svc.api.post('/credentials/verify', { verifiableCredential })
  const failed = (res: { body: { errors?: { check: string }[] } }) => res.body.errors?.map((e) => e.check)

  it('a tampered payload or signature fails proof', async () => {
    const payload = reencodeJwt(jwt, (_h, p) => {
      p.credentialSubject.licenseType = 'DO'
    })
    for (const bad of [payload, tamperJwt(jwt, 2)]) {
      const res = await verify(enveloped(bad))
      expect(res.status).toBe(400)
      expect(failed(res)).toEqual(['proof'])
      expect(res.body.errors[0].detail).toMatch(/signature does not verify/)
    }
  })

  it("signed by another board's key but naming this board as issuer fails proof (kid not the issuer's; or the issuer's kid, wrong signature)", async () => {
    const otherSig = otherJwt.split('.')[2]
    const claimsBoard = reencodeJwt(otherJwt, (_h, p) => {
      p.issuer = board.did
    }, otherSig)
    const res = await verify(claimsBoard)
    expect(failed(res)).toEqual(['proof'])
    expect(res.body.errors[0].detail).toMatch(/is not a key of the issuer/)
    const boardKid = decodePart(jwt, 0).kid
    const borrowedKid = reencodeJwt(otherJwt, (h, p) => {
      p.issuer = board.did
      h.kid = boardKid
    }, otherSig)
    const again = await verify(borrowedKid)
    expect(failed(again)).toEqual(['proof'])
    expect(again.body.errors[0].detail).toMatch(/signature does not verify/)
  })

  it('an iss other than the issuer fails proof', async () => {
    const res = await verify(reencodeJwt(jwt, (_h, p) => {
      p.iss = otherBoard.did
    }))
    expect(failed(res)).toEqual(['proof'])
    expect(res.body.errors[0].detail).toMatch(/is not the credential's issuer/)
  })

  it('an envelope with anything besides @context, type and id fails integrity', async () => {
    const res = await verify({ ...enveloped(jwt), credentialSubject: { licenseType: 'DO' } })
    expect(failed(res)).toEqual(['integrity'])
    const proof = await verify({ ...enveloped(jwt), proof: { type: 'DataIntegrityProof' } })
    expect(proof.status).toBe(400)
  })

  it('a vc+jwt as JSON with proof.jwt fails integrity, and so does a VC 1.1 JWT in an envelope', async () => {
    const asJson = await verify({ ...decodePart(jwt, 1), proof: { type: 'JwtProof2020', jwt } })
    expect(failed(asJson)).toEqual(['integrity'])
    const v1InEnvelope = await verify(enveloped(v1.proof.jwt))
    expect(failed(v1InEnvelope)).toEqual(['integrity'])
    expect(v1InEnvelope.body.errors[0].detail).toMatch(/not a VC 1\.1 JWT/)
  })

  it('a vc+jwt payload with a VC 1.1 @context or no subject fails format', async () => {
    // Signed afresh is not possible without the key, so these keep the signature and fail proof too: format says why.
    const res = await verify(reencodeJwt(jwt, (_h, p) => {
      p['@context'] = ['https://www.w3.org/2018/credentials/v1']
    }))
    expect(failed(res)).toEqual(expect.arrayContaining(['proof', 'format']))
  })

  it('an envelope of the wrong media type is refused', async () => {
    const res = await verify({ '@context': [VC_V2], type: 'EnvelopedVerifiableCredential', id: `data:application/jwt,${jwt}` })
    expect(res.status).toBe(400)
    expect(failed(res)).toEqual(['integrity'])
    expect(res.body.errors[0].detail).toMatch(/data:application\/vc\+jwt/)
  })
})
