import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HolderWallet } from '../src/holder/wallet.js'
import { licenseCredential } from './helpers/fixtures.js'
import { startTestService, type TestService } from './helpers/service.js'

describe('VC API exactness: POST /credentials/issue states @context and issuer; a JSON proof has its type', () => {
  let svc: TestService
  let board: { apiKey: string; did: string }
  let clinician: HolderWallet
  beforeAll(async () => {
    svc = await startTestService()
    board = await svc.api.createTrustedBoard('Texas Medical Board')
    clinician = await HolderWallet.create()
  })
  afterAll(async () => {
    await svc?.dispose()
  })
  const issueExactly = (credential: unknown) => svc.api.request('POST', '/credentials/issue', { body: { credential }, token: board.apiKey, exact: true })

  it('refuses a credential without @context, naming the field', async () => {
    const { '@context': _c, ...noContext } = { ...licenseCredential(clinician.did), issuer: board.did }
    const res = await issueExactly(noContext)
    expect(res.status).toBe(400)
    expect(res.type).toMatch(/application\/problem\+json/)
    expect(res.body.errors).toContainEqual(expect.objectContaining({ field: 'credential.@context' }))
    expect(res.body.detail).toMatch(/credential\.@context: is required/)
  })

  it('refuses a credential without issuer, naming the field', async () => {
    const res = await issueExactly(licenseCredential(clinician.did))
    expect(res.status).toBe(400)
    expect(res.body.errors).toEqual([expect.objectContaining({ field: 'credential.issuer' })])
  })

  it('issues when both are stated', async () => {
    const res = await issueExactly({ ...licenseCredential(clinician.did), issuer: board.did })
    expect(res.status).toBe(201)
  })

  it('a JSON credential whose proof.type is removed or changed does not verify (integrity)', async () => {
    const vc = (await issueExactly({ ...licenseCredential(clinician.did), issuer: board.did })).body.verifiableCredential
    expect((await svc.api.post('/credentials/verify', { verifiableCredential: vc })).status).toBe(200)
    const { type: _t, ...untyped } = vc.proof
    for (const proof of [untyped, { ...vc.proof, type: 'DataIntegrityProof' }]) {
      const res = await svc.api.post('/credentials/verify', { verifiableCredential: { ...vc, proof } })
      expect(res.status).toBe(400)
      expect(res.body.errors.map((e: { check: string }) => e.check)).toEqual(['integrity'])
      expect(res.body.errors[0].detail).toMatch(/proof\.type/)
    }
  })
})
