import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HolderWallet } from '../src/holder/wallet.js'
import { startTestService, type TestService } from './helpers/service.js'

describe('GET /1.0/identifiers/{did} (universal resolver driver)', () => {
  let svc: TestService
  beforeAll(async () => {
    svc = await startTestService()
  })
  afterAll(() => svc?.dispose())

  const resolve = (did: string) => svc.api.get(`/1.0/identifiers/${encodeURIComponent(did)}`)

  it('resolves an institution did:ethr from the chain as a DID resolution result', async () => {
    const board = await svc.api.createInstitution({ name: 'Board', kind: 'board' })
    const res = await resolve(board.did)
    expect(res.status).toBe(200)
    expect(res.type).toBe('application/ld+json;profile="https://w3id.org/did-resolution"')
    expect(res.body.didDocument.id).toBe(board.did)
    expect(res.body.didDocument.assertionMethod).toContain(`${board.did}#controllerKey`)
    expect(res.body.didResolutionMetadata.error).toBeUndefined()
  })

  it('resolves a holder did:key', async () => {
    const holder = await HolderWallet.create()
    const res = await resolve(holder.did)
    expect(res.status).toBe(200)
    expect(res.body.didDocument.id).toBe(holder.did)
  })

  it('answers invalidDid with 400', async () => {
    const res = await resolve('not-a-did')
    expect(res.status).toBe(400)
    expect(res.type).toBe('application/problem+json')
    expect(res.body.didResolutionMetadata.error).toBe('invalidDid')
    expect(res.body.type).toBe('https://medcred.dev/problems/invalid-did')
  })

  it('answers methodNotSupported with 501', async () => {
    const res = await resolve('did:web:example.com')
    expect(res.status).toBe(501)
    expect(res.body.didResolutionMetadata.error).toBe('methodNotSupported')
  })

  it('answers a did:ethr on an unknown network as methodNotSupported, a malformed did:key as notFound or invalid', async () => {
    const other = await resolve('did:ethr:0x1:0x0291e7e66fae7e2a2e800660d680a406f48823cae6a97c6b47d0569ff80d8b3b55')
    expect(other.status).toBe(501)
    const badKey = await resolve('did:key:zNotAKey')
    expect([400, 404]).toContain(badKey.status)
    expect(badKey.type).toBe('application/problem+json')
  })
})
