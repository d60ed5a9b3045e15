import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebhookEntity } from '../src/notifications/webhook.entity.js'
import { startTestService, type TestService } from './helpers/service.js'

const problem = (code: string) => `https://medcred.dev/problems/${code}`

describe('webhook registration (WEBHOOKS_ALLOW_LOOPBACK=1, as in development)', () => {
  let svc: TestService
  let hospital: { id: string; apiKey: string }
  let other: { id: string; apiKey: string }
  beforeAll(async () => {
    svc = await startTestService()
    hospital = await svc.api.createInstitution({ name: "St. Luke's", kind: 'hospital' })
    other = await svc.api.createInstitution({ name: 'Mercy', kind: 'hospital' })
  })
  afterAll(() => svc?.dispose())

  it('registers a webhook and shows its signing secret once, stored encrypted', async () => {
    const res = await svc.api.post('/webhooks', { url: 'http://127.0.0.1:9/hook#x', events: ['credential.revoked', 'issuer.untrusted', 'credential.revoked'] }, hospital.apiKey)
    expect(res.status).toBe(201)
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(res.headers.get('location')).toBe(`/webhooks/${res.body.id}`)
    expect(res.body).toEqual({
      id: expect.any(String),
      url: 'http://127.0.0.1:9/hook',
      events: ['credential.revoked', 'issuer.untrusted'],
      createdAt: expect.any(String),
      secret: expect.stringMatching(/^whsec_/),
    })

    const row = await svc.db.getRepository(WebhookEntity).findOneByOrFail({ id: res.body.id })
    expect(row.secretCiphertext).toMatch(/^v1\./)
    expect(JSON.stringify(row)).not.toContain(res.body.secret)

    const list = await svc.api.get('/webhooks', hospital.apiKey)
    expect(list.status).toBe(200)
    expect(list.body.items).toEqual([{ id: res.body.id, url: 'http://127.0.0.1:9/hook', events: ['credential.revoked', 'issuer.untrusted'], createdAt: res.body.createdAt }])
    expect(JSON.stringify(list.body)).not.toContain('whsec_')
  })

  it.each([
    ['http to a public address', 'http://93.184.216.34/hook', /must use https/],
    ['a private address', 'https://10.0.0.1/hook', /private address \(10\.0\.0\.1\)/],
    ['another private range', 'https://192.168.1.20/hook', /private/],
    ['cloud metadata (link-local)', 'https://169.254.169.254/latest/meta-data', /link-local/],
    ['a unique-local IPv6 address', 'https://[fd00::1]/hook', /unique-local/],
    ['a link-local IPv6 address', 'https://[fe80::1]/hook', /link-local/],
    ['an IPv4-mapped private address', 'https://[::ffff:10.0.0.1]/hook', /private/],
    ['multicast', 'https://224.0.0.1/hook', /multicast/],
    ['the unspecified address', 'https://0.0.0.0/hook', /unspecified/],
    ['credentials in the URL', 'https://user:pw@93.184.216.34/hook', /credentials/],
    ['another scheme', 'ftp://93.184.216.34/hook', /must use https/],
    ['not a URL', 'hook', /not an absolute URL/],
  ])('refuses %s with 422 invalid-webhook-url', async (_what, url, detail) => {
    const res = await svc.api.post('/webhooks', { url, events: ['credential.revoked'] }, hospital.apiKey)
    expect(res.status).toBe(422)
    expect(res.type).toBe('application/problem+json')
    expect(res.body.type).toBe(problem('invalid-webhook-url'))
    expect(res.body.detail).toMatch(detail)
  })

  it.each([
    [{ url: 'http://127.0.0.1:9/', events: [] }, 'events'],
    [{ url: 'http://127.0.0.1:9/', events: ['credential.deleted'] }, 'events.0'],
    [{ url: 'http://127.0.0.1:9/' }, 'events'],
    [{ events: ['credential.revoked'] }, 'url'],
    [{ url: 'http://127.0.0.1:9/', events: ['credential.revoked'], secret: 'mine' }, '(body)'],
  ])('refuses %j naming the field %s', async (body, field) => {
    const res = await svc.api.post('/webhooks', body, hospital.apiKey)
    expect(res.status).toBe(400)
    expect(res.body.type).toBe(problem('invalid-request'))
    expect(res.body.errors[0].field).toBe(field)
  })

  it('needs an institution API key: 401 anonymous, 403 with the admin token', async () => {
    const anon = await svc.api.post('/webhooks', { url: 'http://127.0.0.1:9/', events: ['credential.revoked'] })
    expect(anon.status).toBe(401)
    expect(anon.body.type).toBe(problem('unauthorized'))
    const admin = await svc.api.get('/webhooks', svc.api.adminToken)
    expect(admin.status).toBe(403)
    expect(admin.body.type).toBe(problem('forbidden'))
    expect((await svc.api.request('DELETE', '/webhooks/x')).status).toBe(401)
    expect((await svc.api.get('/notifications')).status).toBe(401)
  })

  it("hides one institution's webhooks from another: not listed, and deleting one is a 404", async () => {
    const mine = await svc.api.post('/webhooks', { url: 'http://127.0.0.1:9/mercy', events: ['credential.suspended'] }, other.apiKey)
    expect(mine.status).toBe(201)
    const seenByHospital = await svc.api.get('/webhooks', hospital.apiKey)
    expect(seenByHospital.body.items.map((w: { id: string }) => w.id)).not.toContain(mine.body.id)

    const foreign = await svc.api.request('DELETE', `/webhooks/${mine.body.id}`, { token: hospital.apiKey })
    expect(foreign.status).toBe(404)
    expect(foreign.body.type).toBe(problem('not-found'))
    expect((await svc.api.get('/webhooks', other.apiKey)).body.items).toHaveLength(1)

    const own = await svc.api.request('DELETE', `/webhooks/${mine.body.id}`, { token: other.apiKey })
    expect(own.status).toBe(204)
    expect((await svc.api.get('/webhooks', other.apiKey)).body.items).toEqual([])
    const again = await svc.api.request('DELETE', `/webhooks/${mine.body.id}`, { token: other.apiKey })
    expect(again.status).toBe(404)
  })

  it('caps the webhooks per institution (409 conflict)', async () => {
    const capped = await svc.api.createInstitution({ name: 'Capped', kind: 'hospital' })
    for (let i = 0; i < 10; i++) {
      expect((await svc.api.post('/webhooks', { url: `http://127.0.0.1:9/${i}`, events: ['credential.revoked'] }, capped.apiKey)).status).toBe(201)
    }
    const over = await svc.api.post('/webhooks', { url: 'http://127.0.0.1:9/11', events: ['credential.revoked'] }, capped.apiKey)
    expect(over.status).toBe(409)
    expect(over.body.type).toBe(problem('conflict'))
  })
})

describe('webhook registration with loopback off (the default)', () => {
  let svc: TestService
  let hospital: { id: string; apiKey: string }
  beforeAll(async () => {
    svc = await startTestService({ env: { WEBHOOKS_ALLOW_LOOPBACK: '0' } })
    hospital = await svc.api.createInstitution({ name: 'Strict Hospital', kind: 'hospital' })
  })
  afterAll(() => svc?.dispose())

  it('has the flag off', () => {
    expect(svc.config.webhooks.allowLoopback).toBe(false)
  })

  it.each([
    ['http to loopback', 'http://127.0.0.1:8080/hook', /must use https/],
    ['https to 127.0.0.1', 'https://127.0.0.1/hook', /loopback address \(127\.0\.0\.1\)/],
    ['https to another 127/8 address', 'https://127.3.2.1/hook', /loopback/],
    ['https to [::1]', 'https://[::1]/hook', /loopback address \(::1\)/],
    ['loopback written as a number', 'https://2130706433/hook', /loopback/],
    ['loopback written in hex', 'https://0x7f.0.0.1/hook', /loopback/],
    ['a host name that resolves to loopback', 'https://localhost/hook', /localhost is or resolves to a loopback address/],
    ['cloud metadata', 'https://169.254.169.254/', /link-local/],
  ])('refuses %s', async (_what, url, detail) => {
    const res = await svc.api.post('/webhooks', { url, events: ['credential.revoked'] }, hospital.apiKey)
    expect(res.status).toBe(422)
    expect(res.body.type).toBe(problem('invalid-webhook-url'))
    expect(res.body.detail).toMatch(detail)
  })
})
