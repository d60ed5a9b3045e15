import { Wallet } from 'ethers'
import { EthrDidController } from 'ethr-did-resolver'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestService, type TestService } from './helpers/service.js'

const OUTSIDER_KEY = '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a' // anvil dev account 2

/** A DID changed on chain by someone other than medcred: the cache must not keep serving the old document. */
describe('the DID cache follows the registry', () => {
  let svc: TestService
  beforeAll(async () => {
    svc = await startTestService({ env: { DID_CACHE_POLL_MS: '50' } })
  })
  afterAll(() => svc?.dispose())

  const resolve = (did: string) => svc.api.get(`/1.0/identifiers/${encodeURIComponent(did)}`)
  const until = async (test: () => Promise<boolean>, timeoutMs = 5000) => {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      if (await test()) return true
      await new Promise((r) => setTimeout(r, 25))
    }
    return false
  }

  it('serves the new document once a registry event for the DID is mined', async () => {
    const owner = new Wallet(OUTSIDER_KEY, svc.chain.provider)
    const did = `did:ethr:${svc.chain.network}:${owner.address}`
    const before = await resolve(did)
    expect(before.status).toBe(200)
    expect(before.body.didDocument.service ?? []).toEqual([])
    // Resolve twice so the document is cached.
    expect((await resolve(did)).body).toEqual(before.body)

    const controller = new EthrDidController(did, undefined, owner as never, svc.chain.network, svc.chain.provider as never, undefined, svc.chain.registry)
    await controller.setAttribute('did/svc/Outside', 'https://outside.example/endpoint', 86400)

    const seen = await until(async () => ((await resolve(did)).body.didDocument.service ?? []).length === 1)
    expect(seen).toBe(true)
    expect((await resolve(did)).body.didDocument.service[0]).toMatchObject({ type: 'Outside', serviceEndpoint: 'https://outside.example/endpoint' })
  })
})
