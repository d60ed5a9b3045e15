import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestService, type TestService } from './helpers/service.js'
import { sessionCookieOf } from './helpers/web.js'

/**
 * Replacing a leaked API key while its thief keeps using it: whatever the old key was opening at that
 * moment (page sessions, sign-in links, sessions from those links) is refused or ended. None survives the
 * replacement, on either database (on PostgreSQL the sign-in and the replacement race for real).
 */
describe('an API key replaced while the old one is in use', () => {
  let svc: TestService

  beforeAll(async () => {
    svc = await startTestService({ env: { AUTH_FAILURES_PER_MINUTE: '100000' } })
  })
  afterAll(() => svc?.dispose())

  const form = (fields: Record<string, string>) => ({ method: 'POST', redirect: 'manual' as const, headers: { 'content-type': 'application/x-www-form-urlencoded', origin: svc.url }, body: new URLSearchParams(fields).toString() })
  const signIn = async (secret: string) => sessionCookieOf(await fetch(`${svc.url}/web/sign-in`, form({ secret })))
  const makeLink = async (apiKey: string) => {
    const res = await svc.api.post('/sign-in-links', {}, apiKey)
    return res.status === 201 ? (new URL(res.body.url).searchParams.get('token') as string) : ''
  }
  const redeem = async (token: string) => sessionCookieOf(await fetch(`${svc.url}/web/sign-in-link`, form({ token })))
  const live = async (cookie: string) => (await fetch(`${svc.url}/web/office`, { headers: { cookie: `medcred_session=${cookie}` }, redirect: 'manual' })).status === 200

  it('leaves no page session or sign-in link of the old key alive', async () => {
    const hospital = await svc.api.createInstitution({ name: 'Leaky Hospital', kind: 'hospital' })
    const spare = await Promise.all(Array.from({ length: 10 }, () => makeLink(hospital.apiKey)))
    const sessions: Promise<string>[] = []
    const links: Promise<string>[] = []
    const redeemed: Promise<string>[] = []
    let replaced: Promise<{ status: number }> | undefined
    for (let i = 0; i < 60; i++) {
      sessions.push(signIn(hospital.apiKey))
      links.push(makeLink(hospital.apiKey))
      if (i < spare.length) redeemed.push(redeem(spare[i]))
      if (i === 20) replaced = svc.api.post(`/institutions/${hospital.id}/api-key`, {}, svc.api.adminToken)
      if (i % 10 === 0) await new Promise((r) => setImmediate(r))
    }
    expect((await replaced!).status).toBe(200)
    const opened = [...(await Promise.all(sessions)), ...(await Promise.all(redeemed))].filter(Boolean)
    const made = (await Promise.all(links)).filter(Boolean)
    // Links made before the replacement commits are spent by it: none signs in afterwards.
    const fromLinks = (await Promise.all(made.map(redeem))).filter(Boolean)
    const alive = (await Promise.all([...opened, ...fromLinks].map(live))).filter(Boolean)
    expect(alive).toEqual([])
    expect((await svc.api.get(`/institutions/${hospital.id}`, hospital.apiKey)).status).toBe(401)
  })
})
