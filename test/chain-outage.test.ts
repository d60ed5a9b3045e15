import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HolderWallet } from '../src/holder/wallet.js'
import { InstitutionEntity } from '../src/institutions/institution.entity.js'
import { licenseCredential } from './helpers/fixtures.js'
import { ExternalChain } from './helpers/external-chain.js'
import { startTestService, type TestService } from './helpers/service.js'

/**
 * medcred on a configured chain (ETHR_RPC_URL + ETHR_REGISTRY), whose node the test stops and restarts:
 * while it is down, verification fails closed and writes fail with 503 leaving nothing half-done.
 */
describe('a dead chain RPC', () => {
  let node: ExternalChain
  let svc: TestService
  let board: { id: string; did: string; apiKey: string }
  let license: any

  beforeAll(async () => {
    node = await ExternalChain.start()
    svc = await startTestService({ env: { ...node.env(), TX_TIMEOUT_MS: '3000' } })
    board = await svc.api.createTrustedBoard('Board')
    const clinician = await HolderWallet.create()
    license = (await svc.api.post('/credentials/issue', { credential: licenseCredential(clinician.did) }, board.apiKey)).body
      .verifiableCredential
  })
  afterAll(async () => {
    await svc?.dispose()
    await node?.dispose()
  })

  it('uses the configured chain and deploys nothing', () => {
    expect(svc.chain.local).toBe(false)
    expect(svc.chain.rpcUrl).toBe(node.rpcUrl)
    expect(fs.existsSync(path.join(svc.dataDir, 'chain'))).toBe(false)
  })

  it('fails verification closed, saying the issuer DID cannot be checked now', async () => {
    await node.stop()
    const res = await svc.api.post('/credentials/verify', { verifiableCredential: license })
    expect(res.status).toBe(400)
    expect(res.body.verified).toBe(false)
    expect(res.body.errors[0]).toMatchObject({ check: 'issuerDid', detail: expect.stringMatching(/cannot be checked now/) })
  })

  it('answers DID resolution and health with 503 while the chain is down', async () => {
    const resolved = await svc.api.get(`/1.0/identifiers/${encodeURIComponent(board.did)}`)
    expect(resolved.status).toBe(503)
    // DID Resolution's error type, with 503: the chain cannot be read now, which is neither invalid nor absent.
    expect(resolved.body.type).toBe('https://www.w3.org/ns/did#INTERNAL_ERROR')
    expect(resolved.body.didResolutionMetadata.error.detail).toMatch(/chain could not be read/)
    const health = await svc.api.get('/health')
    expect(health.status).toBe(503)
    expect(health.body).toMatchObject({ status: 'degraded', db: 'ok', chain: { status: 'unreachable', blockNumber: null } })
  })

  it('refuses to create an institution with 503 and leaves no half-made record; the retry succeeds', async () => {
    const before = await svc.db.getRepository(InstitutionEntity).count()
    const res = await svc.api.post('/institutions', { name: 'Late Hospital', kind: 'hospital' }, svc.api.adminToken)
    expect(res.status).toBe(503)
    expect(res.body.type).toBe('https://medcred.dev/problems/chain-unavailable')
    expect(await svc.db.getRepository(InstitutionEntity).count()).toBe(before)
    expect(await svc.agent.didManagerFind()).toHaveLength(before)

    await node.restart()
    const retry = await svc.api.post('/institutions', { name: 'Late Hospital', kind: 'hospital' }, svc.api.adminToken)
    expect(retry.status).toBe(201)
    const verified = await svc.api.post('/credentials/verify', { verifiableCredential: license })
    expect(verified.status).toBe(200)
  })
})
