import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auditEvent } from './helpers/audit.js'
import { startTestService, type TestService } from './helpers/service.js'

/** GET /audit/events and /audit/events/{seq}/proof: who sees what, and how bad input is refused. */
describe('audit API scoping', () => {
  let svc: TestService
  let board: { id: string; did: string; apiKey: string }
  let hospital: { id: string; did: string; apiKey: string }
  const seqOf: Record<string, number> = {}

  beforeAll(async () => {
    svc = await startTestService({ env: { AUDIT_ANCHOR_EVERY: '1000', AUDIT_ANCHOR_SECONDS: '3600' } })
    board = await svc.api.createInstitution({ name: 'Texas Medical Board', kind: 'board', jurisdiction: 'US-TX' })
    hospital = await svc.api.createInstitution({ name: "St. Luke's", kind: 'hospital' })
    const asBoard = { type: 'institution' as const, id: board.id, did: board.did }
    const asHospital = { type: 'institution' as const, id: hospital.id, did: hospital.did }
    const license = { type: 'credential', id: 'urn:uuid:license-1', issuerInstitutionId: board.id }
    const record = async (name: string, e: Parameters<typeof auditEvent>[1]) => (seqOf[name] = (await svc.audit.record(auditEvent(0, e))).seq)
    await record('issued', { actor: asBoard, action: 'credential.issued', subject: license })
    await record('verifiedByHospital', { actor: asHospital, action: 'presentation.verified', subject: license })
    await record('hospitalOwn', { actor: asHospital, action: 'webhook.registered', subject: { type: 'webhook', id: 'wh-1' } })
    await record('admin', { actor: { type: 'admin' }, action: 'trust.issuer-added', subject: { type: 'institution', id: board.id } })
    await record('anonymous', { actor: { type: 'anonymous' }, action: 'credential.verified', subject: license, outcome: 'failure' })
  })
  afterAll(async () => {
    await svc?.dispose()
  })

  const list = async (token: string, query = '') => {
    const res = await svc.api.get(`/audit/events${query}`, token)
    expect(res.status).toBe(200)
    return res.body as { events: Array<{ seq: number; action: string }>; next: number | null }
  }

  it('shows the admin every event, in sequence order, hashes included', async () => {
    const { events, next } = await list(svc.api.adminToken)
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1))
    expect(events.length).toBeGreaterThanOrEqual(5)
    expect(events[0]).toMatchObject({ prevHash: '0'.repeat(64), hash: expect.stringMatching(/^[0-9a-f]{64}$/) })
    expect(next).toBeNull()
  })

  it('shows the board its own acts and every act on what it issued, whoever acted', async () => {
    const seqs = (await list(board.apiKey)).events.map((e) => e.seq)
    expect(seqs).toEqual([seqOf.issued, seqOf.verifiedByHospital, seqOf.anonymous])
  })

  it("shows the hospital its own acts only, not the board's issuance or the admin's acts", async () => {
    const seqs = (await list(hospital.apiKey)).events.map((e) => e.seq)
    expect(seqs).toEqual([seqOf.verifiedByHospital, seqOf.hospitalOwn])
  })

  it('pages with after and limit; next is the after of the following page', async () => {
    const first = await list(svc.api.adminToken, '?limit=2')
    expect(first.events.map((e) => e.seq)).toEqual([1, 2])
    expect(first.next).toBe(2)
    const second = await list(svc.api.adminToken, `?limit=2&after=${first.next}`)
    expect(second.events.map((e) => e.seq)).toEqual([3, 4])
  })

  it('refuses the anonymous with 401', async () => {
    for (const path of ['/audit/events', `/audit/events/${seqOf.issued}/proof`]) {
      const res = await svc.api.get(path)
      expect(res.status).toBe(401)
      expect(res.body.type).toBe('https://medcred.dev/problems/unauthorized')
    }
  })

  it.each([
    ['?limit=0', 'limit'],
    ['?limit=1001', 'limit'],
    ['?after=-1', 'after'],
    ['?after=abc', 'after'],
    ['?after=1&after=2', 'after'],
    ['?since=1', 'since'],
  ])('refuses %s with 400 naming the parameter (%s)', async (query, field) => {
    const res = await svc.api.get(`/audit/events${query}`, svc.api.adminToken)
    expect(res.status).toBe(400)
    expect(res.body.type).toBe('https://medcred.dev/problems/invalid-request')
    expect(JSON.stringify(res.body.errors)).toContain(field)
  })

  it('answers a proof request for an event outside the caller\'s scope with 404, as if it did not exist', async () => {
    const res = await svc.api.get(`/audit/events/${seqOf.admin}/proof`, hospital.apiKey)
    expect(res.status).toBe(404)
    expect(res.body.type).toBe('https://medcred.dev/problems/not-found')
    const missing = await svc.api.get('/audit/events/999999/proof', svc.api.adminToken)
    expect(missing.status).toBe(404)
  })

  it.each(['0', 'abc', '1.5', '-3'])('refuses the proof of event %s with 400', async (seq) => {
    const res = await svc.api.get(`/audit/events/${seq}/proof`, svc.api.adminToken)
    expect(res.status).toBe(400)
  })

  it('returns an event not yet in a batch with no proof and no anchor', async () => {
    const res = await svc.api.get(`/audit/events/${seqOf.issued}/proof`, board.apiKey)
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(res.body).toMatchObject({ event: { seq: seqOf.issued, action: 'credential.issued' }, proof: null, anchor: null })
  })
})
