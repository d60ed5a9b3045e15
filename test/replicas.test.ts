import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HolderWallet } from '../src/holder/wallet.js'
import { TEST_DB } from './helpers/database.js'
import { licenseCredential } from './helpers/fixtures.js'
import { startReplicaPair, type ReplicaPair } from './helpers/replicas.js'
import type { TestService } from './helpers/service.js'

/**
 * Two stateless replicas on one PostgreSQL and one chain, as DESIGN's "Scale" section has it: nothing may
 * assume a single process. (SQLite is one node by nature: this runs on PostgreSQL.)
 */
describe.runIf(TEST_DB === 'postgres')('two replicas on one PostgreSQL', () => {
  let pair: ReplicaPair
  let a: TestService
  let b: TestService

  beforeAll(async () => {
    pair = await startReplicaPair()
    ;({ a, b } = pair)
  })
  afterAll(() => pair?.dispose())

  it('creates institutions on both at once: one operator account, no nonce collisions', async () => {
    const created = await Promise.all(
      Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).api.post('/institutions', { name: `Hospital ${i}`, kind: 'hospital' }, a.api.adminToken)),
    )
    expect(created.map((r) => r.status)).toEqual(Array(6).fill(201))
  })

  it('issues on both at once with distinct status indexes; a revocation through one is seen by the other', async () => {
    const board = await a.api.createTrustedBoard('Shared Board')
    const clinician = await HolderWallet.create()
    const issued = await Promise.all(
      Array.from({ length: 16 }, (_, i) => (i % 2 ? a : b).api.post('/credentials/issue', { credential: licenseCredential(clinician.did) }, board.apiKey)),
    )
    expect(issued.every((r) => r.status === 201)).toBe(true)
    const slots = issued.map((r) => `${r.body.verifiableCredential.credentialStatus[0].statusListCredential}#${r.body.verifiableCredential.credentialStatus[0].statusListIndex}`)
    expect(new Set(slots).size).toBe(16)

    const vc = issued[0].body.verifiableCredential
    expect((await b.api.post('/credentials/verify', { verifiableCredential: vc })).status).toBe(200)
    await b.api.post('/credentials/status', { credentialId: vc.id, credentialStatus: [{ type: 'StatusList2021Entry', status: 'revoked' }] }, board.apiKey)
    const after = await a.api.post('/credentials/verify', { verifiableCredential: vc })
    expect(after.body.errors).toEqual([{ check: 'status', detail: 'revoked' }])
  })

  it('keeps one gap-free audit trail written by both', async () => {
    const events = (await b.api.get('/audit/events?limit=1000', b.api.adminToken)).body.events as { seq: number }[]
    expect(events.length).toBeGreaterThan(20)
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1))
  })
})
