import { Interface, decodeBytes32String, getAddress, toUtf8String } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { didIdentity } from '../src/audit/anchor-record.js'
import { eventHash } from '../src/audit/event-hash.js'
import { verifyInclusion } from '../src/audit/merkle.js'
import { verifyEventProof } from '../src/audit/proof-check.js'
import type { EventProof } from '../src/audit/read.js'
import { createProvider } from '../src/chain/provider.js'
import { registryAbi } from '../src/chain/registry.js'
import { recordEvents } from './helpers/audit.js'
import { startTestService, type TestService } from './helpers/service.js'

/**
 * An event's inclusion proof, checked with only the proof document, the event in it and the chain: no
 * database, no medcred code beyond the pure hash and Merkle functions (and, separately, the packaged check).
 */
describe('audit inclusion proofs against the chain', () => {
  let svc: TestService
  let doc: EventProof

  beforeAll(async () => {
    svc = await startTestService({ env: { AUDIT_ANCHOR_EVERY: '7', AUDIT_ANCHOR_SECONDS: '3600' } })
    await recordEvents(svc, 9)
    await svc.auditAnchorer.runOnce()
    const res = await svc.api.get('/audit/events/6/proof', svc.api.adminToken)
    expect(res.status).toBe(200)
    doc = res.body
  })
  afterAll(async () => {
    await svc?.dispose()
  })

  it('returns the event, its proof and the anchor: root, transaction, block, registry, DID, attribute', () => {
    expect(doc.event.seq).toBe(6)
    expect(doc.proof!.length).toBeGreaterThan(0)
    expect(doc.anchor).toMatchObject({
      status: 'anchored',
      fromSeq: 1,
      toSeq: 7,
      chainId: svc.chain.chainId,
      registry: svc.chain.registry,
      did: expect.stringMatching(/^did:ethr:/),
      attribute: { name: 'medcred/audit/root', value: `1-7:0x${doc.anchor!.root}` },
      txHash: expect.stringMatching(/^0x[0-9a-f]{64}$/),
      blockNumber: expect.any(Number),
    })
  })

  it('verifies by hand: event hash, Merkle path to the root, root in the registry log of the transaction', async () => {
    const { event, proof, anchor } = structuredClone(doc)
    expect(eventHash(event, event.prevHash)).toBe(event.hash)
    expect(verifyInclusion(event.hash, proof!, anchor!.root)).toBe(true)

    const provider = createProvider(svc.chain.rpcUrl, anchor!.chainId) // a fresh connection: the chain only
    try {
      const receipt = await provider.getTransactionReceipt(anchor!.txHash!)
      expect(receipt).toMatchObject({ status: 1, blockNumber: anchor!.blockNumber })
      const registry = new Interface(registryAbi)
      const changes = receipt!.logs
        .filter((l) => getAddress(l.address) === getAddress(anchor!.registry))
        .map((l) => registry.parseLog({ topics: [...l.topics], data: l.data }))
        .filter((l) => l?.name === 'DIDAttributeChanged')
      expect(changes).toHaveLength(1)
      const [change] = changes
      expect(getAddress(change!.args.identity)).toBe(didIdentity(anchor!.did!))
      expect(decodeBytes32String(change!.args.name)).toBe('medcred/audit/root')
      expect(toUtf8String(change!.args.value)).toBe(`${anchor!.fromSeq}-${anchor!.toSeq}:0x${anchor!.root}`)
    } finally {
      provider.destroy()
    }
  })

  it('verifies with the packaged check (verifyEventProof), given only the document and a provider', async () => {
    const provider = createProvider(svc.chain.rpcUrl, svc.chain.chainId)
    try {
      expect(await verifyEventProof(doc, provider, { registry: svc.chain.registry, did: doc.anchor!.did! })).toEqual({
        ok: true,
        txHash: doc.anchor!.txHash,
        blockNumber: doc.anchor!.blockNumber,
      })
    } finally {
      provider.destroy()
    }
  })

  it('proves every event of an odd-sized batch', async () => {
    for (let seq = 1; seq <= 7; seq++) {
      const { body } = await svc.api.get(`/audit/events/${seq}/proof`, svc.api.adminToken)
      expect(verifyInclusion(body.event.hash, body.proof, body.anchor.root)).toBe(true)
    }
  })

  it.each([
    ['an edited event', (d: EventProof) => (d.event.action = 'credential.revoked'), 'event-hash'],
    ['an event moved to another batch range', (d: EventProof) => (d.anchor!.toSeq = 5), 'inclusion'],
    ['a tampered proof step', (d: EventProof) => (d.proof![0].sibling = 'f'.repeat(64)), 'inclusion'],
    ['another root', (d: EventProof) => (d.anchor!.root = 'a'.repeat(64)), 'inclusion'],
    ['another transaction', (d: EventProof) => (d.anchor!.txHash = `0x${'1'.repeat(64)}`), 'anchor'],
    ['another DID claimed', (d: EventProof) => (d.anchor!.did = 'did:ethr:0x7a69:0x000000000000000000000000000000000000dEaD'), 'anchor'],
    ['no anchor yet', (d: EventProof) => (d.anchor = null), 'not-anchored'],
  ])('rejects %s', async (_name, edit, check) => {
    const forged = structuredClone(doc)
    edit(forged)
    const provider = createProvider(svc.chain.rpcUrl, svc.chain.chainId)
    try {
      expect(await verifyEventProof(forged, provider)).toMatchObject({ ok: false, check })
    } finally {
      provider.destroy()
    }
  })

  it('rejects a document that points at its own look-alike DID when the verifier pins the real one', async () => {
    const provider = createProvider(svc.chain.rpcUrl, svc.chain.chainId)
    try {
      const verdict = await verifyEventProof(doc, provider, { did: 'did:ethr:0x7a69:0x000000000000000000000000000000000000bEEF' })
      expect(verdict).toMatchObject({ ok: false, check: 'anchor' })
    } finally {
      provider.destroy()
    }
  })

  it('gives events of a batch still waiting for its turn a proof but no anchor (8 and 9 of 9)', async () => {
    const { body } = await svc.api.get('/audit/events/9/proof', svc.api.adminToken)
    expect(body).toMatchObject({ event: { seq: 9 }, proof: null, anchor: null })
  })
})
