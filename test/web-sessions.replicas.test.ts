import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TEST_DB } from './helpers/database.js'
import { startReplicaPair, type ReplicaPair } from './helpers/replicas.js'
import type { TestService } from './helpers/service.js'
import { signInPage } from './helpers/web.js'

/** Page sessions across two replicas on one PostgreSQL: signed in on one, served and signed out on the other. */
describe.runIf(TEST_DB === 'postgres')('page sessions on two replicas', () => {
  let pair: ReplicaPair
  let a: TestService
  let b: TestService

  beforeAll(async () => {
    pair = await startReplicaPair()
    ;({ a, b } = pair)
  })
  afterAll(() => pair?.dispose())

  it('a session and its CSRF token from one replica work on the other; signing out on one ends it on both', async () => {
    const hospital = await a.api.createInstitution({ name: 'Mercy General', kind: 'hospital' })
    // Signed in on A; the page and its CSRF token come from B.
    const { cookie } = await signInPage(a.url, hospital.apiKey)
    const page = await fetch(`${b.url}/web/office`, { headers: { cookie } })
    expect(page.status).toBe(200)
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1]
    const started = await fetch(`${a.url}/web/office/requests`, { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', origin: a.url }, body: new URLSearchParams({ _csrf: csrf, purpose: 'onboarding', type_ClinicianLicenseCredential: 'on' }).toString() })
    expect(started.status).toBe(303)
    const request = await fetch(`${b.url}${started.headers.get('location')}`, { headers: { cookie } })
    expect(request.status).toBe(200)
    const out = await fetch(`${b.url}/web/sign-out`, { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', origin: b.url }, body: `_csrf=${csrf}` })
    expect(out.status).toBe(303)
    expect((await fetch(`${a.url}/web/office`, { headers: { cookie } })).status).toBe(401)
  })
})
