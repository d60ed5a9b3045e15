import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HolderWallet } from '../src/holder/wallet.js'
import { InstitutionEntity } from '../src/institutions/institution.entity.js'
import { licenseCredential } from './helpers/fixtures.js'
import { startTestService, type TestService } from './helpers/service.js'

describe('signing key rotation on chain', () => {
  let svc: TestService
  let clinician: HolderWallet

  beforeAll(async () => {
    svc = await startTestService()
    clinician = await HolderWallet.create()
  })
  afterAll(() => svc?.dispose())

  const newBoard = (name: string) => svc.api.createTrustedBoard(name)
  const issue = async (apiKey: string) =>
    (await svc.api.post('/credentials/issue', { credential: licenseCredential(clinician.did) }, apiKey)).body.verifiableCredential
  const verify = (vc: unknown) => svc.api.post('/credentials/verify', { verifiableCredential: vc })
  const rotate = (id: string, reason: string, token: string) => svc.api.post(`/institutions/${id}/keys/rotate`, { reason }, token)
  const resolve = (did: string) => svc.api.get(`/1.0/identifiers/${encodeURIComponent(did)}`)

  it('superseded: the DID document changes, old credentials still verify, new ones are signed by the new key', async () => {
    const board = await newBoard('Superseding Board')
    const old = await issue(board.apiKey)
    const docBefore = (await resolve(board.did)).body

    const res = await rotate(board.id, 'superseded', board.apiKey)
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ reason: 'superseded', txHash: expect.stringMatching(/^0x[0-9a-f]{64}$/), blockNumber: expect.any(Number) })

    const docAfter = (await resolve(board.did)).body
    expect(docAfter.didDocumentMetadata.versionId).not.toBe(docBefore.didDocumentMetadata.versionId)
    const controller = (doc: any) => doc.didDocument.verificationMethod.find((m: any) => m.id.endsWith('#controller')).blockchainAccountId
    expect(controller(docAfter)).not.toBe(controller(docBefore))
    expect(docAfter.didDocument.verificationMethod.some((m: any) => m.id.endsWith('#controllerKey'))).toBe(false)

    const oldResult = await verify(old)
    expect(oldResult.status).toBe(200)
    expect(oldResult.body.checks.find((c: any) => c.check === 'proof').detail).toMatch(/superseded at block/)

    const fresh = await issue(board.apiKey)
    const freshResult = await verify(fresh)
    expect(freshResult.status).toBe(200)
    expect(freshResult.body.checks.find((c: any) => c.check === 'proof').detail).toMatch(/#controller$/)

    // Status lists were re-signed with the new key: a revocation still shows.
    await svc.api.post('/credentials/status', { credentialId: fresh.id, credentialStatus: [{ type: 'StatusList2021Entry', status: 'revoked' }] }, board.apiKey)
    expect((await verify(fresh)).body.errors).toEqual([{ check: 'status', detail: 'revoked' }])
  })

  it('superseded: a credential the old key signs after the rotation (a backdated forgery) does not verify', async () => {
    const board = await newBoard('Forgery Board')
    const row = await svc.db.getRepository(InstitutionEntity).findOneByOrFail({ id: board.id })
    const oldKid = row.signingKid!
    await rotate(board.id, 'superseded', board.apiKey)
    // Whoever still holds the old key signs a credential dated before the rotation.
    const forged = await svc.agent.createVerifiableCredential({
      credential: { ...licenseCredential(clinician.did), issuer: { id: board.did }, issuanceDate: '2020-01-01T00:00:00Z' } as never,
      proofFormat: 'jwt',
      keyRef: oldKid,
    })
    const res = await verify(forged)
    expect(res.status).toBe(400)
    expect(res.body.errors.map((e: any) => e.check)).toContain('proof')
  })

  it('compromised: credentials signed by the old key stop verifying; new ones verify', async () => {
    const board = await newBoard('Compromised Board')
    const old = await issue(board.apiKey)
    expect((await verify(old)).status).toBe(200)
    const res = await rotate(board.id, 'compromised', board.apiKey)
    expect(res.status).toBe(200)
    const oldResult = await verify(old)
    expect(oldResult.status).toBe(400)
    expect(oldResult.body.errors.map((e: any) => e.check)).toEqual(['proof'])
    expect((await verify(await issue(board.apiKey))).status).toBe(200)
  })

  it('rotates twice: the second rotation is signed by the key the first one installed', async () => {
    const board = await newBoard('Twice Board')
    const first = await issue(board.apiKey)
    expect((await rotate(board.id, 'superseded', board.apiKey)).status).toBe(200)
    const second = await issue(board.apiKey)
    expect((await rotate(board.id, 'compromised', svc.api.adminToken)).status).toBe(200)
    // The first key was only superseded: what it signed before stays valid; the second was compromised.
    expect((await verify(first)).status).toBe(200)
    expect((await verify(second)).status).toBe(400)
    expect((await verify(await issue(board.apiKey))).status).toBe(200)
  })

  it("refuses another institution's rotation (403), anonymous (401), and a bad reason (400)", async () => {
    const board = await newBoard('Guarded Board')
    const hospital = await svc.api.createInstitution({ name: 'H', kind: 'hospital' })
    expect((await rotate(board.id, 'superseded', hospital.apiKey)).status).toBe(403)
    expect((await rotate(board.id, 'superseded', '')).status).toBe(401)
    const bad = await rotate(board.id, 'bored', board.apiKey)
    expect(bad.status).toBe(400)
    expect(bad.body.errors[0].field).toBe('reason')
  })
})
