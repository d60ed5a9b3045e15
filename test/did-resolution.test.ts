import { Contract, Wallet, parseEther } from 'ethers'
import registryPkg from 'ethr-did-registry'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HolderWallet } from '../src/holder/wallet.js'
import { startTestService, type TestService } from './helpers/service.js'

const RESULT = 'application/did-resolution'
const LD_RESULT = 'application/ld+json;profile="https://w3id.org/did-resolution"'

describe('GET /1.0/identifiers/{did}: W3C DID Resolution', () => {
  let svc: TestService
  let board: { did: string }
  beforeAll(async () => {
    svc = await startTestService()
    board = await svc.api.createInstitution({ name: 'Board', kind: 'board' })
  })
  afterAll(() => svc?.dispose())

  const resolve = (did: string, accept?: string) =>
    svc.api.request('GET', `/1.0/identifiers/${encodeURIComponent(did)}`, { headers: accept ? { accept } : {} })

  it('answers the whole resolution result without Accept, its contentType equal to the Content-Type', async () => {
    const res = await resolve(board.did)
    expect(res.status).toBe(200)
    expect(res.type).toBe(RESULT)
    expect(res.body.didResolutionMetadata.contentType).toBe(res.type)
    expect(res.body.didDocument.id).toBe(board.did)
    expect(res.body.didDocument.assertionMethod).toContain(`${board.did}#controllerKey`)
  })

  it.each([RESULT, LD_RESULT, '*/*'])('answers the whole resolution result for Accept %s', async (accept) => {
    const res = await resolve(board.did, accept)
    expect(res.status).toBe(200)
    expect(res.type).toBe(accept === '*/*' ? RESULT : accept)
    expect(res.body.didResolutionMetadata.contentType).toBe(res.type)
    expect(res.body.didDocument.id).toBe(board.did)
  })

  it.each(['application/did+json', 'application/did+ld+json'])('answers only the DID document for Accept %s, with that Content-Type', async (accept) => {
    const res = await resolve(board.did, accept)
    expect(res.status).toBe(200)
    expect(res.type).toBe(accept)
    expect(res.body.id).toBe(board.did)
    expect(res.body.didResolutionMetadata).toBeUndefined()
  })

  it('prefers by q value', async () => {
    const res = await resolve(board.did, `${RESULT};q=0.5, application/did+json`)
    expect(res.type).toBe('application/did+json')
  })

  it.each(['text/html', 'application/json', 'application/ld+json'])('answers 406 REPRESENTATION_NOT_SUPPORTED for Accept %s', async (accept) => {
    const res = await resolve(board.did, accept)
    expect(res.status).toBe(406)
    expect(res.type).toBe('application/problem+json')
    expect(res.body.type).toBe('https://www.w3.org/ns/did#REPRESENTATION_NOT_SUPPORTED')
    expect(res.body.title).toBeTruthy()
    expect(res.body.detail).toMatch(/application\/did\+json/)
  })

  it('puts did:key metadata in didResolutionMetadata (contentType = Content-Type), not in didDocumentMetadata', async () => {
    const holder = await HolderWallet.create()
    for (const accept of [undefined, LD_RESULT]) {
      const res = await resolve(holder.did, accept)
      expect(res.status).toBe(200)
      expect(res.body.didDocument.id).toBe(holder.did)
      expect(res.body.didResolutionMetadata.contentType).toBe(res.type)
      expect(res.body.didDocumentMetadata.contentType).toBeUndefined()
    }
  })

  it('resolves did:jwk', async () => {
    const jwk = { kty: 'EC', crv: 'P-256', x: 'acbIQiuMs3i8_uszEjJ2tpTtRM4EU3yz91PH6CdH2V0', y: '_KcyLj9vWMptnmKtm46GqDz8wf74I5LKgrl2GzH3nSE' }
    const did = `did:jwk:${Buffer.from(JSON.stringify(jwk)).toString('base64url')}`
    const res = await resolve(did, 'application/did+json')
    expect(res.status).toBe(200)
    expect(res.body.id).toBe(did)
    expect(res.body.verificationMethod[0]).toMatchObject({ id: `${did}#0`, type: 'JsonWebKey2020', publicKeyJwk: jwk })
  })

  it.each([
    ['not-a-did', 400, 'INVALID_DID'],
    ['did:ethr:0x7a69:0x02' + 'ff'.repeat(32), 400, 'INVALID_DID'],
    ['did:example:123', 501, 'METHOD_NOT_SUPPORTED'],
    ['did:ethr:0x1:0x0291e7e66fae7e2a2e800660d680a406f48823cae6a97c6b47d0569ff80d8b3b55', 501, 'METHOD_NOT_SUPPORTED'],
    ['did:web:unlisted.example.org', 404, 'NOT_FOUND'],
  ])('answers %s with %i and https://www.w3.org/ns/did#%s', async (did, status, type) => {
    const res = await resolve(did)
    expect(res.status).toBe(status)
    expect(res.type).toBe('application/problem+json')
    expect(res.body).toMatchObject({ type: `https://www.w3.org/ns/did#${type}`, title: expect.any(String), detail: expect.any(String) })
    expect(res.body.didResolutionMetadata.error).toMatchObject({ type: `https://www.w3.org/ns/did#${type}` })
    expect(res.body.didResolutionMetadata.contentType).toBe(res.type)
    expect(res.body.didDocument).toBeNull()
    expect(JSON.stringify(res.body)).not.toMatch(/at \w+ \(/)
  })

  it('answers a deactivated did:ethr (owner set to the zero address) with 410 and deactivated: true', async () => {
    // A fresh account per test, funded by the local node's operator, deactivates its own identity.
    const identity = Wallet.createRandom().connect(svc.chain.provider)
    await (await svc.chain.operator.sendTransaction({ to: identity.address, value: parseEther('1') })).wait(1, 30_000)
    const did = `did:ethr:${svc.chain.network}:${identity.address}`
    expect((await resolve(did)).status).toBe(200)
    const registry = new Contract(svc.chain.registry, registryPkg.EthereumDIDRegistry.abi, identity)
    await (await registry.changeOwner(identity.address, '0x0000000000000000000000000000000000000000')).wait(1, 30_000)
    // The DID cache follows registry events within one poll of the chain.
    let res = await resolve(did)
    for (let i = 0; i < 50 && res.status !== 410; i++) res = await new Promise((r) => setTimeout(r, 100)).then(() => resolve(did))
    expect(res.status).toBe(410)
    expect(res.body.didDocumentMetadata.deactivated).toBe(true)
    expect(res.body.didResolutionMetadata.contentType).toBe(res.type)
    const doc = await resolve(did, 'application/did+json')
    expect(doc.status).toBe(410)
    expect(doc.body.id).toBe(did)
  })
})
