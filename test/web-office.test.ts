import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HolderWallet } from '../src/holder/wallet.js'
import { licenseCredential } from './helpers/fixtures.js'
import { startTestService, type TestService } from './helpers/service.js'
import { signInPage } from './helpers/web.js'

/** The office page's paste flows over plain HTTP (the browser test covers the presentation; these the rest). */
describe('the office page: receipts, credentialing files, lone credentials', () => {
  let svc: TestService
  let board: { apiKey: string }
  let mercy: { did: string; apiKey: string }
  let stLukes: { apiKey: string }
  let clinician: HolderWallet
  let license = ''
  let receipt = ''
  let cookie = ''

  async function page(path: string): Promise<{ html: string; csrf: string; challenge: string; domain: string }> {
    const html = await (await fetch(svc.url + path, { headers: { cookie } })).text()
    const pick = (re: RegExp) => re.exec(html)?.[1] ?? ''
    return { html, csrf: pick(/name="_csrf" value="([^"]+)"/), challenge: pick(/name="challenge" value="([^"]+)"/), domain: pick(/name="domain" value="([^"]+)"/) }
  }
  async function post(path: string, fields: Record<string, string>) {
    const res = await fetch(svc.url + path, { method: 'POST', redirect: 'manual', headers: { cookie, origin: svc.url, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() })
    return { status: res.status, html: await res.text() }
  }

  beforeAll(async () => {
    svc = await startTestService()
    board = await svc.api.createTrustedBoard('Texas Medical Board')
    mercy = await svc.api.createInstitution({ name: 'Mercy General Hospital', kind: 'hospital' })
    stLukes = await svc.api.createInstitution({ name: "St. Luke's Hospital", kind: 'hospital' })
    await svc.api.post('/trust/verifiers', { did: mercy.did }, svc.api.adminToken)
    clinician = await HolderWallet.create()
    license = (await svc.api.post('/credentials/issue', { credential: licenseCredential(clinician.did) }, board.apiKey)).body.verifiableCredential.proof.jwt
    const binding = (await svc.api.post('/verifications/challenges', {}, mercy.apiKey)).body
    const vp = await clinician.present([license], binding)
    const verified = await svc.api.post('/verifications', { verifiablePresentation: vp.proof.jwt, challenge: binding.challenge, domain: binding.domain, purpose: 'onboarding' }, mercy.apiKey)
    receipt = verified.body.receipts[0].proof.jwt
    cookie = (await signInPage(svc.url, stLukes.apiKey)).cookie
  })
  afterAll(() => svc?.dispose())

  it("accepts a pasted credential on another hospital's receipt, saying whose and how old", async () => {
    const { csrf, challenge, domain } = await page('/web/office')
    const res = await post('/web/office/verify', { _csrf: csrf, challenge, domain, purpose: 'onboarding', presentation: license, receipt })
    expect(res.status).toBe(200)
    expect(res.html).toContain('Settled on the acceptance receipt of <strong>Mercy General Hospital</strong>')
    expect(res.html).toMatch(/\d+ minutes? ago/)
    expect(res.html).toContain('Verified: every check passed')
    expect(res.html).toContain("The other hospital&#39;s receipt is genuinely signed")
    const home = await page('/web/office')
    expect(home.html).toContain('On the receipt of Mercy General Hospital')
    expect(home.html).toContain('Good standing')
  })

  it('accepts a presentation that carries the credential and the receipt', async () => {
    const { csrf, challenge, domain } = await page('/web/office')
    const vp = await clinician.present([license, receipt], { challenge, domain })
    const res = await post('/web/office/verify', { _csrf: csrf, challenge, domain, purpose: 'onboarding', presentation: vp.proof.jwt as string })
    expect(res.status).toBe(200)
    expect(res.html).toContain('Settled on the acceptance receipt of')
    expect(res.html).toContain('Verified: every check passed')
  })

  it('builds a credentialing file: each element, and what medcred cannot verify marked as such', async () => {
    const { csrf, challenge, domain } = await page('/web/office')
    const vp = await clinician.present([license], { challenge, domain })
    const res = await post('/web/office/verify', { _csrf: csrf, challenge, domain, purpose: 'onboarding', presentation: JSON.stringify(vp), file: 'on' })
    expect(res.status).toBe(200)
    expect(res.html).toContain('Credentialing file checklist')
    expect(res.html).toMatch(/state-license<\/td><td class="ok"><strong>Verified from the primary source/)
    expect(res.html).toMatch(/dea-registration<\/td><td class="bad"><strong>Not presented/)
    for (const element of ['education-and-training', 'npdb-query', 'oig-sam-exclusion-check']) expect(res.html).toContain(`<td>${element}</td><td><strong>Cannot be verified by medcred</strong>`)
  })

  it('checks a lone credential and says it proves nothing about who holds it', async () => {
    const { csrf, challenge, domain } = await page('/web/office')
    const res = await post('/web/office/verify', { _csrf: csrf, challenge, domain, purpose: 'onboarding', presentation: license })
    expect(res.status).toBe(200)
    expect(res.html).toContain('Credential checked')
    expect(res.html).toContain('not who holds it')
  })

  it('refuses a replayed challenge as a failed check, and bad JSON as a 400 page', async () => {
    const { csrf, challenge, domain } = await page('/web/office')
    const vp = await clinician.present([license], { challenge, domain })
    expect((await post('/web/office/verify', { _csrf: csrf, challenge, domain, purpose: 'onboarding', presentation: vp.proof.jwt as string })).html).toContain('Verified: every check passed')
    const again = await post('/web/office/verify', { _csrf: csrf, challenge, domain, purpose: 'onboarding', presentation: vp.proof.jwt as string })
    expect(again.status).toBe(200)
    expect(again.html).toContain('Not verified')
    expect(again.html).toMatch(/<span class="verdict">Fail<\/span>: Answers this hospital&#39;s one-time challenge/)
    const bad = await post('/web/office/verify', { _csrf: csrf, challenge, domain, purpose: 'onboarding', presentation: '{not json' })
    expect(bad.status).toBe(400)
    expect(bad.html).toContain('not valid JSON')
  })
})
