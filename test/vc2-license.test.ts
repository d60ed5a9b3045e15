import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HolderWallet } from '../src/holder/wallet.js'
import { startTestService, type TestService } from './helpers/service.js'
import { VC_V2, decodePart, jwtOfEnvelope, licenseCredentialV2 } from './helpers/vc2.js'

describe('VC 2.0 license: issued as vc+jwt, verified (bare and enveloped), revoked through its Bitstring Status List', () => {
  let svc: TestService
  let board: { apiKey: string; did: string }
  let clinician: HolderWallet
  let envelope: { '@context': string[]; type: string; id: string }
  let jwt: string
  beforeAll(async () => {
    svc = await startTestService()
    board = await svc.api.createTrustedBoard('Texas Medical Board')
    clinician = await HolderWallet.create()
    const res = await svc.api.post('/credentials/issue', { credential: licenseCredentialV2(clinician.did, board.did) }, board.apiKey)
    expect(res.status).toBe(201)
    envelope = res.body.verifiableCredential
    jwt = jwtOfEnvelope(envelope)
  })
  afterAll(() => svc?.dispose())
  const verify = (verifiableCredential: unknown) => svc.api.post('/credentials/verify', { verifiableCredential })

  it('answers POST /credentials/issue with an EnvelopedVerifiableCredential whose JWT is VC-JOSE-COSE', () => {
    expect(envelope).toEqual({ '@context': [VC_V2], type: 'EnvelopedVerifiableCredential', id: `data:application/vc+jwt,${jwt}` })
    const header = decodePart(jwt, 0)
    expect(header).toMatchObject({ typ: 'vc+jwt', alg: 'ES256K' })
    expect(header.kid.startsWith(`${board.did}#`)).toBe(true)
    const payload = decodePart(jwt, 1)
    expect(payload['@context'][0]).toBe(VC_V2)
    expect(payload.issuer).toBe(board.did)
    expect(payload.type).toEqual(['VerifiableCredential', 'ClinicianLicenseCredential'])
    expect(payload.validFrom).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    expect(payload.validUntil).toBeDefined()
    expect(payload.vc).toBeUndefined()
    expect(payload.issuanceDate).toBeUndefined()
    expect(payload.credentialSubject.id).toBe(clinician.did)
    const entries = payload.credentialStatus
    expect(entries.map((e: any) => [e.type, e.statusPurpose])).toEqual([
      ['BitstringStatusListEntry', 'revocation'],
      ['BitstringStatusListEntry', 'suspension'],
    ])
    for (const e of entries) expect(e.statusListCredential).toMatch(new RegExp(`^${svc.config.publicUrl}/status/`))
  })

  it('verifies it bare and enveloped, every check by its name, reporting the format', async () => {
    for (const input of [jwt, envelope]) {
      const res = await verify(input)
      expect(res.status).toBe(200)
      expect(res.body.format).toBe('vc+jwt')
      const names = res.body.checks.map((c: { check: string }) => c.check)
      expect(names).toEqual(['issuerDid', 'proof', 'format', ...(typeof input === 'string' ? [] : ['integrity']), 'dates', 'schema', 'trustedIssuer', 'status'])
      expect(res.body.checks.find((c: any) => c.check === 'format').detail).toMatch(/VC 2\.0/)
    }
  })

  it('reports a VC 1.1 credential as jwt_vc, its output unchanged', async () => {
    const v1 = await svc.api.post('/credentials/issue', { credential: { ...licenseCredentialV2(clinician.did, board.did), '@context': ['https://www.w3.org/2018/credentials/v1'], validUntil: undefined, expirationDate: decodePart(jwt, 1).validUntil } }, board.apiKey)
    expect(v1.status).toBe(201)
    expect(v1.body.verifiableCredential.proof.type).toBe('JwtProof2020')
    const res = await verify(v1.body.verifiableCredential)
    expect(res.status).toBe(200)
    expect(res.body.format).toBe('jwt_vc')
  })

  it('refuses a StatusList2021Entry change for it, and revokes it with BitstringStatusListEntry: status then fails', async () => {
    const id = decodePart(jwt, 1).id
    const wrongType = await svc.api.post('/credentials/status', { credentialId: id, credentialStatus: [{ type: 'StatusList2021Entry', status: 'revoked' }] }, board.apiKey)
    expect(wrongType.status).toBe(400)
    expect(wrongType.body.detail).toMatch(/BitstringStatusListEntry/)
    const revoked = await svc.api.post('/credentials/status', { credentialId: id, credentialStatus: [{ type: 'BitstringStatusListEntry', status: 'revoked' }] }, board.apiKey)
    expect(revoked.status).toBe(200)
    expect(revoked.body).toMatchObject({ status: 'revoked', changed: true })
    for (const input of [jwt, envelope]) {
      const res = await verify(input)
      expect(res.status).toBe(400)
      expect(res.body.errors).toEqual([{ check: 'status', detail: 'revoked' }])
    }
  })
})
