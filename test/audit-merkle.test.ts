import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { GENESIS_HASH, eventHash } from '../src/audit/event-hash.js'
import { merkleProof, merkleRoot, verifyInclusion } from '../src/audit/merkle.js'
import type { AuditEvent } from '../src/audit/types.js'

const h = (s: string) => createHash('sha256').update(s).digest('hex')
const leaves = (n: number) => Array.from({ length: n }, (_, i) => h(`event ${i}`))

const event: AuditEvent = {
  seq: 1,
  time: '2025-01-01T00:00:00.000Z',
  actor: { type: 'institution', id: 'inst-1', did: 'did:ethr:0x7a69:0xabc' },
  action: 'credential.issued',
  subject: { type: 'credential', id: 'urn:uuid:1', issuerInstitutionId: 'inst-1' },
  outcome: 'success',
  requestId: 'req-1',
  detail: { type: 'ClinicianLicenseCredential' },
}

describe('audit Merkle tree (pure)', () => {
  it('proves every leaf of trees of 1 to 17 leaves, odd levels included', () => {
    for (let n = 1; n <= 17; n++) {
      const l = leaves(n)
      const root = merkleRoot(l)
      for (let i = 0; i < n; i++) expect(verifyInclusion(l[i], merkleProof(l, i), root)).toBe(true)
    }
  })

  it('a single leaf is its own batch: empty proof, root is the domain-separated leaf hash', () => {
    const [only] = leaves(1)
    expect(merkleProof([only], 0)).toEqual([])
    expect(merkleRoot([only])).toBe(createHash('sha256').update(Buffer.from([0])).update(Buffer.from(only, 'hex')).digest('hex'))
  })

  it('rejects a proof for another leaf, a tampered sibling, a flipped position, another root', () => {
    const l = leaves(6)
    const root = merkleRoot(l)
    const proof = merkleProof(l, 2)
    expect(verifyInclusion(l[3], proof, root)).toBe(false)
    expect(verifyInclusion(l[2], [{ ...proof[0], sibling: h('x') }, ...proof.slice(1)], root)).toBe(false)
    expect(verifyInclusion(l[2], [{ ...proof[0], position: proof[0].position === 'left' ? 'right' : 'left' }, ...proof.slice(1)], root)).toBe(false)
    expect(verifyInclusion(l[2], proof, merkleRoot(leaves(7)))).toBe(false)
    expect(verifyInclusion(l[2], proof.slice(1), root)).toBe(false)
  })

  it('rejects malformed input instead of throwing', () => {
    const l = leaves(3)
    const root = merkleRoot(l)
    expect(verifyInclusion('xyz', merkleProof(l, 0), root)).toBe(false)
    expect(verifyInclusion(l[0], [{ sibling: 'nothex', position: 'left' }], root)).toBe(false)
    expect(verifyInclusion(l[0], [{ sibling: l[1], position: 'up' as never }], root)).toBe(false)
    expect(verifyInclusion(l[0], null as never, root)).toBe(false)
  })

  it('does not let a carried-up odd node make two leaf lists share a root (no duplication rule)', () => {
    const l = leaves(3)
    expect(merkleRoot(l)).not.toBe(merkleRoot([...l, l[2]]))
  })

  it('refuses an empty batch and out-of-range indexes', () => {
    expect(() => merkleRoot([])).toThrow(/at least one leaf/)
    expect(() => merkleProof(leaves(2), 2)).toThrow(/outside/)
  })
})

describe('audit event hash (pure)', () => {
  it('is stable, independent of member order, and chained to prevHash', () => {
    const { detail, actor, ...rest } = event
    const reordered = { detail, ...rest, actor: { did: actor.did, id: actor.id, type: actor.type } }
    expect(eventHash(reordered, GENESIS_HASH)).toBe(eventHash(event, GENESIS_HASH))
    expect(eventHash(event, h('other'))).not.toBe(eventHash(event, GENESIS_HASH))
  })

  it('changes with every member', () => {
    const base = eventHash(event, GENESIS_HASH)
    const variants: AuditEvent[] = [
      { ...event, seq: 2 },
      { ...event, time: '2025-01-01T00:00:00.001Z' },
      { ...event, actor: { ...event.actor, id: 'inst-2' } },
      { ...event, action: 'credential.revoked' },
      { ...event, subject: { ...event.subject!, issuerInstitutionId: null } },
      { ...event, outcome: 'failure' },
      { ...event, requestId: null },
      { ...event, detail: null },
    ]
    for (const v of variants) expect(eventHash(v, GENESIS_HASH)).not.toBe(base)
  })

  it('ignores members outside the hashed form (hash, prevHash carried on a stored event)', () => {
    const stored = { ...event, prevHash: GENESIS_HASH, hash: 'whatever' }
    expect(eventHash(stored, GENESIS_HASH)).toBe(eventHash(event, GENESIS_HASH))
  })

  it('refuses a malformed prevHash', () => {
    expect(() => eventHash(event, 'abc')).toThrow(/prevHash/)
  })
})
