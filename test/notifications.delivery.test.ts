import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Notice } from '../src/notifications/index.js'
import { verifySignature } from '../src/notifications/signature.js'
import { startTestService, type TestService } from './helpers/service.js'
import { WebhookListener } from './helpers/webhook-listener.js'

const FAST = {
  WEBHOOK_POLL_MS: '25',
  WEBHOOK_RETRY_BASE_MS: '50',
  WEBHOOK_RETRY_MAX_MS: '400',
  WEBHOOK_MAX_ATTEMPTS: '4',
  WEBHOOK_TIMEOUT_MS: '500',
}

interface Inst {
  id: string
  apiKey: string
}

describe('relying-party notices: webhook delivery', () => {
  let svc: TestService
  const listeners: WebhookListener[] = []
  beforeAll(async () => {
    svc = await startTestService({ env: FAST })
  })
  afterAll(async () => {
    await svc?.dispose()
  })
  afterEach(async () => {
    await Promise.all(listeners.splice(0).map((l) => l.close()))
  })

  async function listener(): Promise<WebhookListener> {
    const l = await WebhookListener.start()
    listeners.push(l)
    return l
  }

  async function hospital(name: string): Promise<Inst> {
    return svc.api.createInstitution({ name, kind: 'hospital' })
  }

  async function subscribe(inst: Inst, l: WebhookListener, events = ['credential.revoked', 'credential.suspended']) {
    const res = await svc.api.post('/webhooks', { url: l.url(), events }, inst.apiKey)
    expect(res.status).toBe(201)
    return res.body as { id: string; secret: string }
  }

  const notify = (notice: Notice) => svc.store.transaction((m) => svc.notifier.notify(m, notice))

  async function notificationsOf(inst: Inst, query = '') {
    const res = await svc.api.get(`/notifications${query}`, inst.apiKey)
    expect(res.status).toBe(200)
    return res.body as { items: any[]; next: string | null }
  }

  /** GET /notifications until `test` holds for the notification (the worker records after the listener saw it). */
  async function settled(inst: Inst, id: string, test: (n: any) => boolean, timeoutMs = 5000) {
    const until = Date.now() + timeoutMs
    for (;;) {
      const n = (await notificationsOf(inst)).items.find((i) => i.id === id)
      if (n && test(n)) return n
      if (Date.now() > until) throw new Error(`notification ${id} did not settle: ${JSON.stringify(n)}`)
      await new Promise((r) => setTimeout(r, 25))
    }
  }

  it('A and B both receive a signed webhook for a credential they relied on, and see it in GET /notifications', async () => {
    const [a, b] = [await hospital('Hospital A'), await hospital('Hospital B')]
    const [la, lb] = [await listener(), await listener()]
    const [wa, wb] = [await subscribe(a, la), await subscribe(b, lb)]
    const data = { credentialId: 'urn:uuid:5b1f0c1e-0000-4000-8000-000000000001', issuerDid: 'did:ethr:0x7a69:0xabc', statusPurpose: 'revocation' }

    const result = await notify({ event: 'credential.revoked', recipients: [a.id, b.id, a.id], data })
    expect(result.notifications).toHaveLength(2)
    expect(result.deliveries).toBe(2)

    for (const [inst, l, w] of [[a, la, wa], [b, lb, wb]] as const) {
      const [req] = await l.waitForDeliveries(1)
      const mine = result.notifications.find((n) => n.institutionId === inst.id)!
      expect(JSON.parse(req.body)).toEqual({ id: mine.id, event: 'credential.revoked', createdAt: expect.any(String), data })
      expect(req.headers['medcred-event']).toBe('credential.revoked')
      expect(req.headers['medcred-delivery']).toMatch(/^[0-9a-f-]{36}$/)
      expect(req.headers['medcred-attempt']).toBe('1')
      expect(req.headers['content-type']).toBe('application/json')
      expect(verifySignature(w.secret, req.body, String(req.headers['medcred-signature']))).toBe(true)
      // Each institution's secret signs only its own deliveries.
      const otherSecret = w === wa ? wb.secret : wa.secret
      expect(verifySignature(otherSecret, req.body, String(req.headers['medcred-signature']))).toBe(false)

      const seen = await settled(inst, mine.id, (n) => n.deliveries[0]?.status === 'delivered')
      expect(seen).toMatchObject({ id: mine.id, event: 'credential.revoked', data })
      expect(seen.deliveries).toEqual([
        expect.objectContaining({ id: req.headers['medcred-delivery'], webhookId: w.id, status: 'delivered', attempts: 1, lastError: null, nextAttemptAt: null }),
      ])
    }
    expect(la.requests).toHaveLength(1)
    expect(lb.requests).toHaveLength(1)
  })

  it('retries with backoff when the receiver answers 500, then delivers the same body under the same delivery id', async () => {
    const a = await hospital('Retry Hospital')
    const l = (await listener()).answer(500, 500)
    const w = await subscribe(a, l)
    const { notifications } = await notify({ event: 'credential.suspended', recipients: [a.id], data: { credentialId: 'urn:uuid:retry' } })

    const reqs = await l.waitForRequests(3)
    expect(reqs.map((r) => r.answered)).toEqual([500, 500, 200])
    expect(new Set(reqs.map((r) => r.headers['medcred-delivery'])).size).toBe(1)
    expect(new Set(reqs.map((r) => r.body)).size).toBe(1)
    expect(reqs.map((r) => r.headers['medcred-attempt'])).toEqual(['1', '2', '3'])
    for (const r of reqs) expect(verifySignature(w.secret, r.body, String(r.headers['medcred-signature']))).toBe(true)
    // Equal jitter: the first retry waits at least base/2, the second at least base.
    expect(reqs[1].at - reqs[0].at).toBeGreaterThanOrEqual(25)
    expect(reqs[2].at - reqs[1].at).toBeGreaterThanOrEqual(50)

    const seen = await settled(a, notifications[0].id, (n) => n.deliveries[0].status === 'delivered')
    expect(seen.deliveries[0]).toMatchObject({ status: 'delivered', attempts: 3, deliveredAt: expect.any(String) })
  })

  it('marks a delivery failed after the last attempt, keeping the last error', async () => {
    const a = await hospital('Down Hospital')
    const l = await listener()
    l.fallback = 503
    await subscribe(a, l)
    const { notifications } = await notify({ event: 'credential.revoked', recipients: [a.id], data: { credentialId: 'urn:uuid:down' } })
    const seen = await settled(a, notifications[0].id, (n) => n.deliveries[0].status === 'failed')
    expect(seen.deliveries[0]).toMatchObject({ status: 'failed', attempts: 4, deliveredAt: null, nextAttemptAt: null })
    expect(seen.deliveries[0].lastError).toMatch(/^HTTP 503 \(gave up after 4 attempts\)$/)
    await new Promise((r) => setTimeout(r, 300))
    expect(l.requests).toHaveLength(4)
  })

  it('counts a receiver that never answers as a failed attempt (per-attempt timeout)', async () => {
    const a = await hospital('Slow Hospital')
    const l = (await listener()).answer('hang')
    await subscribe(a, l)
    const { notifications } = await notify({ event: 'credential.revoked', recipients: [a.id], data: { credentialId: 'urn:uuid:slow' } })
    await l.waitForDeliveries(1)
    const seen = await settled(a, notifications[0].id, (n) => n.deliveries[0].status === 'delivered')
    expect(seen.deliveries[0].attempts).toBe(2)
    expect(l.requests.map((r) => r.answered)).toEqual([0, 200])
  })

  it('sends only the events a webhook subscribed to, yet records the notice for GET /notifications', async () => {
    const a = await hospital('Picky Hospital')
    const l = await listener()
    await subscribe(a, l, ['issuer.untrusted'])
    const { notifications, deliveries } = await notify({ event: 'credential.revoked', recipients: [a.id], data: { credentialId: 'urn:uuid:picky' } })
    expect(deliveries).toBe(0)
    const listed = await notificationsOf(a)
    expect(listed.items).toEqual([expect.objectContaining({ id: notifications[0].id, event: 'credential.revoked', deliveries: [] })])

    await notify({ event: 'issuer.untrusted', recipients: [a.id], data: { issuerDid: 'did:ethr:0x7a69:0xdef' } })
    const [req] = await l.waitForDeliveries(1)
    expect(req.headers['medcred-event']).toBe('issuer.untrusted')
    expect(l.requests).toHaveLength(1)
  })

  it('writes nothing when the surrounding transaction rolls back', async () => {
    const a = await hospital('Rollback Hospital')
    const l = await listener()
    await subscribe(a, l)
    await expect(
      svc.store.transaction(async (m) => {
        await svc.notifier.notify(m, { event: 'credential.revoked', recipients: [a.id], data: { credentialId: 'urn:uuid:rolled-back' } })
        throw new Error('the revocation failed')
      }),
    ).rejects.toThrow('the revocation failed')
    await new Promise((r) => setTimeout(r, 200))
    expect((await notificationsOf(a)).items).toEqual([])
    expect(l.requests).toHaveLength(0)
  })

  it('cancels pending deliveries when the webhook is deleted', async () => {
    const a = await hospital('Leaving Hospital')
    const l = await listener()
    l.fallback = 500
    const w = await subscribe(a, l)
    const { notifications } = await notify({ event: 'credential.revoked', recipients: [a.id], data: { credentialId: 'urn:uuid:leaving' } })
    await l.waitForRequests(1)
    expect((await svc.api.request('DELETE', `/webhooks/${w.id}`, { token: a.apiKey })).status).toBe(204)
    const seen = await settled(a, notifications[0].id, (n) => n.deliveries[0].status === 'cancelled')
    expect(seen.deliveries[0].lastError).toMatch(/webhook was deleted/)
    const count = l.requests.length
    await new Promise((r) => setTimeout(r, 300))
    expect(l.requests.length).toBe(count)
  })

  it("shows an institution only its own notifications, newest first, in pages", async () => {
    const a = await hospital('Paging A')
    const b = await hospital('Paging B')
    const ids: string[] = []
    for (let i = 0; i < 5; i++) {
      const { notifications } = await notify({ event: 'credential.suspended', recipients: [a.id], data: { credentialId: `urn:uuid:page-${i}` } })
      ids.push(notifications[0].id)
      await new Promise((r) => setTimeout(r, 2))
    }
    await notify({ event: 'credential.revoked', recipients: [b.id], data: { credentialId: 'urn:uuid:b-only' } })

    const first = await notificationsOf(a, '?limit=2')
    expect(first.items.map((n) => n.id)).toEqual([ids[4], ids[3]])
    const second = await notificationsOf(a, `?limit=2&after=${first.next}`)
    expect(second.items.map((n) => n.id)).toEqual([ids[2], ids[1]])
    const third = await notificationsOf(a, `?limit=2&after=${second.next}`)
    expect(third.items.map((n) => n.id)).toEqual([ids[0]])
    expect(third.next).toBeNull()

    const ofB = await notificationsOf(b)
    expect(ofB.items.map((n) => n.data.credentialId)).toEqual(['urn:uuid:b-only'])
    // B cannot page from A's notification either.
    const foreignCursor = await svc.api.get(`/notifications?after=${ids[2]}`, b.apiKey)
    expect(foreignCursor.status).toBe(400)
    expect(foreignCursor.body.type).toBe('https://medcred.dev/problems/invalid-request')
  })

  it.each([
    ['?limit=0', 'query.limit'],
    ['?limit=201', 'query.limit'],
    ['?limit=ten', 'query.limit'],
    ['?after=not-a-uuid', 'query.after'],
    ['?colour=blue', 'query'],
  ])('refuses GET /notifications%s naming %s', async (query, field) => {
    const a = await hospital('Query Hospital')
    const res = await svc.api.get(`/notifications${query}`, a.apiKey)
    expect(res.status).toBe(400)
    expect(res.body.type).toBe('https://medcred.dev/problems/invalid-request')
    expect(res.body.errors[0].field).toBe(field)
  })

  it.each([
    ['an unknown event', { event: 'credential.deleted', recipients: ['x'], data: {} }, /unknown notice event/],
    ['nested data', { event: 'credential.revoked', recipients: ['x'], data: { credential: { jwt: 'eyJ…' } } }, /data.credential must be a scalar/],
    ['oversized data', { event: 'credential.revoked', recipients: ['x'], data: { blob: 'x'.repeat(5000) } }, /exceeds 4096 bytes/],
    ['a recipient that is not an id', { event: 'credential.revoked', recipients: [''], data: {} }, /recipients/],
  ])('notify refuses %s as a programmer error', async (_what, notice, message) => {
    await expect(svc.store.transaction((m) => svc.notifier.notify(m, notice as unknown as Notice))).rejects.toThrow(message)
  })

  it('does nothing for no recipients', async () => {
    expect(await notify({ event: 'credential.revoked', recipients: [], data: {} })).toEqual({ notifications: [], deliveries: 0 })
  })
})
