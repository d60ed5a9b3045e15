import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSessionEntity, WebSignInLinkEntity } from '../src/web/session.entities.js'
import { startTestService, type TestService } from './helpers/service.js'
import { sessionCookieOf } from './helpers/web.js'

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString()

describe('page sessions', () => {
  let svc: TestService
  let hospital: { id: string; apiKey: string }

  async function signIn(secret: string) {
    return fetch(`${svc.url}/web/sign-in`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: svc.url }, body: form({ secret }) })
  }
  const cookieOf = sessionCookieOf

  beforeAll(async () => {
    svc = await startTestService({ env: { AUTH_FAILURES_PER_MINUTE: '3' } })
    hospital = await svc.api.createInstitution({ name: 'Mercy General', kind: 'hospital' })
  })
  afterAll(() => svc?.dispose())

  it('stores only the hash of the session token, with an expiry', async () => {
    const res = await signIn(hospital.apiKey)
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/web/office')
    const token = cookieOf(res)
    const rows = await svc.db.getRepository(WebSessionEntity).find()
    expect(rows).toHaveLength(1)
    expect(JSON.stringify(rows)).not.toContain(token)
    expect(JSON.stringify(rows)).not.toContain(hospital.apiKey)
    expect(rows[0].tokenHash).toBe(createHash('sha256').update(token).digest('hex'))
    expect(Date.parse(rows[0].expiresAt) - Date.parse(rows[0].createdAt)).toBe(8 * 3600 * 1000)
  })

  it('an expired session is signed out, with a page saying so', async () => {
    const token = cookieOf(await signIn(hospital.apiKey))
    const page = await fetch(`${svc.url}/web/office`, { headers: { cookie: `medcred_session=${token}` } })
    expect(page.status).toBe(200)
    await svc.db.getRepository(WebSessionEntity).update({ tokenHash: createHash('sha256').update(token).digest('hex') }, { expiresAt: new Date(Date.now() - 1000).toISOString() })
    const after = await fetch(`${svc.url}/web/office`, { headers: { cookie: `medcred_session=${token}` } })
    expect(after.status).toBe(401)
    expect(after.headers.get('content-type')).toMatch(/^text\/html/)
    expect(await after.text()).toContain('sign in first')
  })

  it('the cookie means nothing to the API (CSRF cannot ride it there)', async () => {
    const token = cookieOf(await signIn(hospital.apiKey))
    const res = await fetch(`${svc.url}/verifications/challenges`, { method: 'POST', headers: { cookie: `medcred_session=${token}` } })
    expect(res.status).toBe(401)
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/)
  })

  it('a bearer token means nothing on the pages: neither checked nor refused (only the session is the caller)', async () => {
    const bogus = await fetch(`${svc.url}/`, { headers: { authorization: 'Bearer mck_not-a-real-key' } })
    expect(bogus.status).toBe(200)
    const admin = await fetch(`${svc.url}/web/admin`, { headers: { authorization: `Bearer ${svc.api.adminToken}` } })
    expect(admin.status).toBe(401)
    expect(admin.headers.get('content-type')).toMatch(/^text\/html/)
  })

  it('unknown pages and refused forms are friendly HTML pages with the right status, never a 500', async () => {
    const missing = await fetch(`${svc.url}/web/nowhere`)
    expect(missing.status).toBe(404)
    expect(missing.headers.get('content-type')).toMatch(/^text\/html/)
    expect(missing.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
    const token = cookieOf(await signIn(hospital.apiKey))
    const page = await (await fetch(`${svc.url}/web/office`, { headers: { cookie: `medcred_session=${token}` } })).text()
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)![1]
    const post = (path: string, fields: Record<string, string>) =>
      fetch(`${svc.url}${path}`, { method: 'POST', redirect: 'manual', headers: { cookie: `medcred_session=${token}`, 'content-type': 'application/x-www-form-urlencoded', origin: svc.url }, body: form({ _csrf: csrf, ...fields }) })
    const garbage = await post('/web/office/verify', { challenge: 'x', domain: 'y', purpose: 'onboarding', presentation: 'not-a-jwt' })
    expect(garbage.status).toBe(400)
    expect(await garbage.text()).toContain('presentation')
    const noType = await post('/web/office/requests', { purpose: 'onboarding' })
    expect(noType.status).toBe(400)
    const board = await post('/web/board/issue', { name: 'x' })
    expect(board.status).toBe(403)
    expect((await post('/web/office/verify', { purpose: 'nope', challenge: 'x', domain: 'y', presentation: 'a.b.c' })).status).toBe(400)
  })

  it('a sign-in link is single use even when two requests race for it', async () => {
    const link = await svc.api.post('/sign-in-links', {}, hospital.apiKey)
    const token = new URL(link.body.url).searchParams.get('token')!
    expect(JSON.stringify(await svc.db.getRepository(WebSignInLinkEntity).find())).not.toContain(token)
    const redeem = () => fetch(`${svc.url}/web/sign-in-link`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: svc.url }, body: form({ token }) })
    const results = await Promise.all([redeem(), redeem(), redeem()])
    expect(results.map((r) => r.status).sort()).toEqual([303, 401, 401])
    const other = await svc.api.createInstitution({ name: 'Other', kind: 'hospital' })
    expect((await svc.api.post('/sign-in-links', { institutionId: other.id }, hospital.apiKey)).status).toBe(403)
    expect((await svc.api.post('/sign-in-links', { institutionId: other.id }, svc.api.adminToken)).status).toBe(201)
    expect((await svc.api.post('/sign-in-links', {})).status).toBe(401)
  })

  it('wrong keys count as failed authentications and lock the address out', async () => {
    const statuses: number[] = []
    for (let i = 0; i < 6; i++) statuses.push((await signIn(`wrong-key-${i}-xxxxxxxxxxxxxxxx`)).status)
    // Three failures a minute (the race above may already have spent two of them, unless the minute turned):
    // some 401s, at most three, then nothing but 429s.
    const refused = statuses.indexOf(429)
    expect(refused).toBeGreaterThanOrEqual(1)
    expect(refused).toBeLessThanOrEqual(3)
    expect(statuses.slice(0, refused).every((s) => s === 401)).toBe(true)
    expect(statuses.slice(refused).every((s) => s === 429)).toBe(true)
    const locked = await signIn(hospital.apiKey)
    expect(locked.status).toBe(429)
    expect(locked.headers.get('content-type')).toMatch(/^text\/html/)
  })
})
