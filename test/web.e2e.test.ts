import fs from 'node:fs'
import { execFileSync } from 'node:child_process'
import axe from 'axe-core'
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HolderWallet } from '../src/holder/wallet.js'
import { startTestService, type TestService } from './helpers/service.js'
import { Oid4vcWallet } from './helpers/oid4vc-wallet.js'

/** Debian's chromium (never a downloaded browser): .ci/run installs it when it is missing. */
function chromiumPath(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim() || undefined
  } catch {
    return undefined
  }
}
const executablePath = chromiumPath()
if (!executablePath) {
  console.warn('\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n!! SKIPPED: the browser tests need chromium (apt-get install -y chromium) !!\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n')
}

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
const SHOTS = 'test-results'

let step = 0
async function shot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SHOTS, { recursive: true })
  step += 1
  await page.screenshot({ path: `${SHOTS}/web-${String(step).padStart(2, '0')}-${name}.png`, fullPage: true })
}

/** axe-core in the page: no serious or critical violation (WCAG 2 A/AA rules). */
async function expectAccessible(page: Page): Promise<void> {
  await page.evaluate(axe.source)
  const violations = await page.evaluate(async () => {
    const result = await (window as any).axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })
    return result.violations.filter((v: any) => v.impact === 'serious' || v.impact === 'critical').map((v: any) => `${v.id}: ${v.help} (${v.nodes.map((n: any) => n.target.join(' ')).join(', ')})`)
  })
  expect(violations, `accessibility on ${page.url()}`).toEqual([])
}

/** Waits until the elements' text holds `text` (Playwright's own expect is @playwright/test's, not used here). */
async function hasText(locator: Locator, text: string, timeout = 10_000): Promise<void> {
  await expect.poll(async () => (await locator.allTextContents()).join(' '), { timeout }).toContain(text)
}

async function fillLicense(page: Page, f: { name: string; npi: string; number: string; subject?: string }): Promise<void> {
  await page.getByLabel('Full name').fill(f.name)
  await page.getByLabel(/^NPI/).fill(f.npi)
  if (f.subject) await page.getByLabel(/wallet DID/).fill(f.subject)
  await page.getByLabel('License number', { exact: true }).fill(f.number)
  await page.getByLabel('Expires on').fill(new Date(Date.now() + 365 * 86400_000).toISOString().slice(0, 10))
  await page.getByRole('button', { name: 'Issue license' }).click()
  await page.waitForLoadState()
}

async function signIn(context: BrowserContext, url: string, secret: string): Promise<Page> {
  const page = await context.newPage()
  await page.goto(url + '/')
  await page.getByLabel(/API key, or the admin token/).fill(secret)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.waitForLoadState()
  return page
}

describe.skipIf(!executablePath)('the office and board pages in Chromium', () => {
  let svc: TestService
  let browser: Browser
  let board: { id: string; did: string; apiKey: string }
  let hospital: { id: string; did: string; apiKey: string }
  let boardCtx: BrowserContext
  let officeCtx: BrowserContext
  let boardPage: Page
  let officePage: Page
  const clinician = HolderWallet.create()
  let licenseJwt = ''
  let licenseId = ''

  beforeAll(async () => {
    svc = await startTestService({ env: { AUDIT_ANCHOR_EVERY: '5', AUDIT_ANCHOR_SECONDS: '3600' } })
    board = await svc.api.createTrustedBoard('Texas Medical Board')
    hospital = await svc.api.createInstitution({ name: 'Mercy General Hospital', kind: 'hospital' })
    browser = await chromium.launch({ executablePath, args: ARGS })
    boardCtx = await browser.newContext({ viewport: { width: 1100, height: 900 } })
    officeCtx = await browser.newContext({ viewport: { width: 1100, height: 900 } })
  }, 120_000)
  afterAll(async () => {
    await browser?.close()
    await svc?.dispose()
  })

  it('serves the sign-in page with security headers and no inline script', async () => {
    const res = await fetch(svc.url + '/')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/html/)
    const csp = res.headers.get('content-security-policy') ?? ''
    expect(csp).toContain("frame-ancestors 'none'")
    expect(csp).toContain("script-src 'self'")
    expect(csp).not.toContain('unsafe-inline')
    expect(await res.text()).not.toMatch(/<script>(?!<\/script>)/)
    const page = await boardCtx.newPage()
    await page.goto(svc.url + '/')
    await expectAccessible(page)
    await shot(page, 'sign-in')
    await page.close()
  })

  it('board: signs in with the API key (HttpOnly, SameSite=Strict cookie, key not stored) and issues a license', async () => {
    boardPage = await signIn(boardCtx, svc.url, board.apiKey)
    expect(new URL(boardPage.url()).pathname).toBe('/web/board')
    const [cookie] = await boardCtx.cookies()
    expect(cookie).toMatchObject({ name: 'medcred_session', httpOnly: true, sameSite: 'Strict' })
    expect(cookie.value).not.toContain(board.apiKey)
    const stored = await boardPage.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }))
    expect(stored).not.toContain(board.apiKey)
    await expectAccessible(boardPage)
    await shot(boardPage, 'board')

    // Validated as the API validates: a wrong NPI check digit is refused naming the field.
    const wallet = await clinician
    await fillLicense(boardPage, { name: 'Dr. Ada Rivera', npi: '1234567890', number: 'Q-48211', subject: wallet.did })
    await hasText(boardPage.locator('main'), 'credentialSubject.npi')
    await shot(boardPage, 'board-refused-npi')

    await boardPage.goto(svc.url + '/web/board')
    await fillLicense(boardPage, { name: 'Dr. Ada Rivera', npi: '1234567893', number: 'Q-48211', subject: wallet.did })
    await hasText(boardPage.getByRole('status'), 'Issued')
    licenseJwt = ((await boardPage.locator('details code').textContent()) ?? '').trim()
    expect(licenseJwt.split('.')).toHaveLength(3)
    licenseId = JSON.parse(Buffer.from(licenseJwt.split('.')[1], 'base64url').toString()).jti
    await expectAccessible(boardPage)
    await shot(boardPage, 'board-issued')

    await boardPage.goto(svc.url + '/web/board?q=Rivera')
    expect(await boardPage.locator('tbody tr').count()).toBe(1)
    await expectAccessible(boardPage)
    await shot(boardPage, 'board-search')
  })

  it('board: offers a license to a wallet as a QR code, which a wallet redeems', async () => {
    await boardPage.goto(svc.url + '/web/board')
    await fillLicense(boardPage, { name: 'Dr. Ben Okafor', npi: '1234567893', number: 'Q-99120' })
    await boardPage.getByRole('img', { name: /credential offer/ }).first().waitFor()
    const offer = ((await boardPage.locator('code.mono').first().textContent()) ?? '').trim()
    expect(offer).toMatch(/^openid-credential-offer:\/\//)
    await expectAccessible(boardPage)
    await shot(boardPage, 'board-offer-qr')
    const wallet = await Oid4vcWallet.create({ publicUrl: svc.config.publicUrl, baseUrl: svc.url })
    const jwt = await wallet.receive(offer)
    expect(jwt.split('.')).toHaveLength(3)
  })

  it('hospital: verifies a pasted presentation and sees each check in plain words', async () => {
    officePage = await signIn(officeCtx, svc.url, hospital.apiKey)
    expect(new URL(officePage.url()).pathname).toBe('/web/office')
    await expectAccessible(officePage)
    await shot(officePage, 'office')
    const challenge = (await officePage.locator('#challenge').textContent())!.trim()
    const domain = (await officePage.locator('#domain').textContent())!.trim()
    const vp = await (await clinician).present([licenseJwt], { challenge, domain })
    await officePage.getByLabel(/Presentation, credential or receipt/).fill(vp.proof.jwt as string)
    await officePage.getByRole('button', { name: 'Verify' }).click()
    await expect(officePage.getByRole('status'), 'Verified: every check passed')
    const checks = officePage.getByRole('list', { name: 'Checks' })
    for (const words of ['Signed by the issuer', 'Not revoked or suspended', "Answers this hospital's one-time challenge", 'The credential belongs to the person presenting it', 'Issuer is trusted by the consortium']) {
      await hasText(checks, words)
    }
    expect(await checks.locator('li.fail').count()).toBe(0)
    await expectAccessible(officePage)
    await shot(officePage, 'office-verified')
  })

  it('hospital: starts a wallet verification with a QR code; the page updates by itself when the wallet answers', async () => {
    await officePage.goto(svc.url + '/web/office')
    await officePage.getByRole('button', { name: 'Show QR code' }).click()
    await (officePage.getByRole('img', { name: /presentation request/ })).first().waitFor()
    await expectAccessible(officePage)
    await shot(officePage, 'office-request-qr')
    const requestUri = ((await officePage.locator('code.mono').first().textContent()) ?? '').trim()
    const wallet = await Oid4vcWallet.create({ publicUrl: svc.config.publicUrl, baseUrl: svc.url })
    const offer = (await svc.api.post('/oid4vci/offers', { credential: { type: ['VerifiableCredential', 'ClinicianLicenseCredential'], expirationDate: new Date(Date.now() + 86400_000 * 300).toISOString(), credentialSubject: { name: 'Dr. Ben Okafor', npi: '1234567893', licenseNumber: 'Q-1', licenseType: 'MD', jurisdiction: 'US-TX', status: 'active' } } }, board.apiKey)).body
    const jwt = await wallet.receive(offer.offer)
    const { reply } = await wallet.answer(requestUri, [jwt])
    expect(reply.status).toBe(200)
    await hasText(officePage.locator('main'), 'The request is verified', 15_000)
    await expect(officePage.getByRole('list', { name: 'Checks' }), 'The wallet answered this very request')
    await shot(officePage, 'office-request-answered')
  })

  it('board revokes with a reason; the hospital page shows the notice and the failed status', async () => {
    await boardPage.goto(`${svc.url}/web/board/credential?id=${encodeURIComponent(licenseId)}`)
    await boardPage.getByLabel('Revoke (final)').check()
    await boardPage.getByLabel('Reason').selectOption('disciplinary-action')
    await boardPage.getByRole('button', { name: 'Apply' }).click()
    await hasText(boardPage.locator('main'), 'is revoked')
    await hasText(boardPage.locator('table'), 'disciplinary-action')
    await expectAccessible(boardPage)
    await shot(boardPage, 'board-revoked')

    await officePage.goto(svc.url + '/web/office')
    const notice = officePage.getByRole('alert')
    await hasText(notice, 'Revoked')
    await hasText(notice, licenseId)
    const row = officePage.locator('tbody tr', { hasText: licenseId })
    await hasText(row, 'FAILED')
    await hasText(row, 'revoked')
    await expectAccessible(officePage)
    await shot(officePage, 'office-notice')
  })

  it('reads at 200 % zoom (no sideways scrolling) and in forced high-contrast colours', async () => {
    // 200 % zoom of a 1100 px window lays the page out in 550 CSS pixels.
    await officePage.setViewportSize({ width: 550, height: 900 })
    for (const path of ['/web/office', '/web/office/requests/' + 'x']) {
      await officePage.goto(svc.url + path)
      const { scroll, client } = await officePage.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }))
      expect(scroll, path).toBeLessThanOrEqual(client)
    }
    await officePage.goto(svc.url + '/web/office')
    await shot(officePage, 'office-200-percent')
    await officePage.emulateMedia({ forcedColors: 'active' })
    await expectAccessible(officePage)
    await shot(officePage, 'office-forced-colors')
    await officePage.emulateMedia({ forcedColors: 'none' })
    await officePage.setViewportSize({ width: 1100, height: 900 })
  })

  it('signs in and works from the keyboard alone', async () => {
    const ctx = await browser.newContext()
    const page = await ctx.newPage()
    await page.goto(svc.url + '/')
    await page.keyboard.press('Tab')
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content')
    await page.keyboard.press('Tab')
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('secret')
    await page.keyboard.type(hospital.apiKey)
    await page.keyboard.press('Enter')
    await page.waitForURL('**/web/office')
    await page.getByLabel('Purpose').first().focus()
    await page.keyboard.press('Tab')
    await page.keyboard.press('Tab')
    await page.keyboard.press('Tab')
    await page.keyboard.press('Tab')
    await page.keyboard.press('Tab')
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Show QR code')
    await page.keyboard.press('Enter')
    await page.getByRole('img', { name: /presentation request/ }).first().waitFor()
    await ctx.close()
  })

  it('admin: trust, institutions and the audit trail with a verify button showing the anchor on chain', async () => {
    await svc.auditAnchorer.runOnce()
    const adminCtx = await browser.newContext({ viewport: { width: 1100, height: 900 } })
    const page = await signIn(adminCtx, svc.url, svc.api.adminToken)
    expect(new URL(page.url()).pathname).toBe('/web/admin')
    await hasText(page.locator('main'), 'Texas Medical Board')
    await expectAccessible(page)
    await shot(page, 'admin')
    await page.getByRole('link', { name: 'Verify event 1', exact: true }).click()
    await hasText(page.getByRole('status'), 'Verified on chain')
    await expectAccessible(page)
    await shot(page, 'admin-audit-verified')
    await adminCtx.close()
  })

  it('refuses a state change without the CSRF token, and after sign-out', async () => {
    const form = { purpose: 'onboarding', type_ClinicianLicenseCredential: 'on' }
    const withoutToken = await officeCtx.request.post(svc.url + '/web/office/requests', { form, maxRedirects: 0 })
    expect(withoutToken.status()).toBe(403)
    expect(await withoutToken.text()).toContain('csrf-refused')
    const csrf = await officePage.locator('input[name=_csrf]').first().inputValue()
    const foreign = await officeCtx.request.post(svc.url + '/web/office/requests', { form: { ...form, _csrf: csrf }, headers: { origin: 'https://evil.example' }, maxRedirects: 0 })
    expect(foreign.status()).toBe(403)

    await officePage.getByRole('button', { name: 'Sign out' }).click()
    await officePage.getByRole('button', { name: 'Sign in' }).first().waitFor()
    await shot(officePage, 'signed-out')
    expect(await officeCtx.cookies()).toEqual([])
    const afterSignOut = await officeCtx.request.post(svc.url + '/web/office/requests', { form: { ...form, _csrf: csrf }, maxRedirects: 0 })
    expect(afterSignOut.status()).toBe(401)
    const page = await officeCtx.newPage()
    await page.goto(svc.url + '/web/office')
    await expect(page.locator('main'), 'sign in first')
  })

  it('a one-time sign-in link signs in once', async () => {
    const link = await svc.api.post('/sign-in-links', {}, hospital.apiKey)
    expect(link.status).toBe(201)
    const ctx = await browser.newContext()
    const page = await ctx.newPage()
    await page.goto(link.body.url.replace(svc.config.publicUrl, svc.url))
    await page.getByRole('button', { name: 'Sign in' }).click()
    expect(new URL(page.url()).pathname).toBe('/web/office')
    const again = await browser.newContext()
    const second = await again.newPage()
    await second.goto(link.body.url.replace(svc.config.publicUrl, svc.url))
    await second.getByRole('button', { name: 'Sign in' }).click()
    await hasText(second.locator('main'), 'used up, expired or unknown')
    await ctx.close()
    await again.close()
  })
})
