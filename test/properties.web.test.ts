import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { routersOf } from '../src/api/app.js'
import { routeKeys } from '../src/api/authorization.js'
import { HolderWallet } from '../src/holder/wallet.js'
import { FC_RUNS, FC_SEED, FORM_TYPE, encodeForm, formCase, formMutation, formBytes, applyFormMutation, shortReport, type FormFields } from './helpers/arbitraries.js'
import { checkTrail } from './helpers/audit.js'
import { licenseCredential } from './helpers/fixtures.js'
import { startTestService, type TestService } from './helpers/service.js'
import { pageHtml, postForms, signInPage, type PageSession } from './helpers/web.js'

type Role = 'admin' | 'board' | 'hospital'
type Who = 'own' | 'other' | 'none' | 'bogus'

/** One POST form under /web: who posts it, and a valid filling of every field its page shows. */
interface WebForm {
  /** Whose session posts it; `none` for the sign-in forms, which take no session. */
  role: Role | 'none'
  /** A fresh session per case, for a form that ends the session it is posted with. */
  freshSession?: boolean
  fields: (csrf: string) => FormFields | Promise<FormFields>
}

/** What the pages send as their Content-Security-Policy (src/web/routes.ts). */
const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

/** What a page must never show a person: a stack frame, an error class, a source path, a driver's words. */
const INTERNALS = /\n\s+at \S|\bat [\w.<>]+ \(|node_modules|\/src\/|\.ts:\d+|\b(TypeError|RangeError|ReferenceError|SyntaxError|QueryFailedError|SqliteError|EntityNotFoundError|EntityPropertyNotFoundError|AggregateError|ZodError)\b|ECONNREFUSED|Cannot read propert|is not a function|is not defined|Invalid time value|duplicate key value|violates .* constraint/

/**
 * Property-based tests of every form the office, board and admin pages post (application/x-www-form-urlencoded
 * with a session cookie and a CSRF token): each form's valid fields mutated (any field replaced with a hostile
 * value, dropped, repeated, a hostile key added) or a raw body instead (broken percent-escapes, stray
 * separators, arbitrary bytes, past the size limit), in odd encodings and content types, posted by the right
 * session, another, none or a forged one. Properties: never a 5xx; a refusal is an HTML page with a message a
 * person can read, never a stack trace or an internal error's name; success is a page or a 303 to a path of
 * this site; every answer carries the pages' security headers; no POST without its session's CSRF token
 * changes anything; the audit trail verifies afterwards. The forms are the web router's own POST routes, so a
 * new form is fuzzed (or this test fails) without anyone remembering to add it.
 * Seeded and bounded like the JSON properties: `FC_RUNS=300 FC_SEED=7 npx vitest run test/properties.web.test.ts`.
 */
describe('the pages under arbitrary form input (property-based)', () => {
  let svc: TestService
  let board: { id: string; did: string; apiKey: string }
  let hospital: { id: string; did: string; apiKey: string }
  /** Whose API key the admin's page replaces, over and over (nobody signed in with it). */
  let spare: { id: string; did: string; apiKey: string }
  let licenseId = ''
  let licenseJwt = ''
  let presentationJwt = ''
  let challenge = { challenge: '', domain: '' }
  const sessions = {} as Record<Role, PageSession>
  const seen = new Map<string, Map<number, number>>()

  beforeAll(async () => {
    svc = await startTestService({ env: { AUTH_FAILURES_PER_MINUTE: '1000000' } })
    board = await svc.api.createTrustedBoard('Texas Medical Board')
    hospital = await svc.api.createInstitution({ name: 'Mercy General Hospital', kind: 'hospital' })
    spare = await svc.api.createInstitution({ name: 'Spare Clinic', kind: 'hospital' })
    await svc.api.post('/trust/verifiers', { did: hospital.did }, svc.api.adminToken)
    const clinician = await HolderWallet.create()
    const license = (await svc.api.post('/credentials/issue', { credential: licenseCredential(clinician.did) }, board.apiKey)).body.verifiableCredential
    licenseId = license.id
    licenseJwt = license.proof.jwt
    challenge = (await svc.api.post('/verifications/challenges', {}, hospital.apiKey)).body
    presentationJwt = (await clinician.present([licenseJwt], challenge)).proof.jwt as string
    sessions.admin = await signInPage(svc.url, svc.api.adminToken)
    sessions.board = await signInPage(svc.url, board.apiKey)
    sessions.hospital = await signInPage(svc.url, hospital.apiKey)
  }, 120_000)
  afterAll(() => svc?.dispose())

  const UNTRUSTED_DID = 'did:ethr:0x7a69:0x0000000000000000000000000000000000000009'

  const forms = (): Record<string, WebForm> => ({
    'POST /web/sign-in': { role: 'none', fields: () => [['secret', svc.api.adminToken]] },
    'POST /web/sign-in-link': {
      role: 'none',
      fields: async () => [['token', new URL((await svc.api.post('/sign-in-links', {}, svc.api.adminToken)).body.url).searchParams.get('token')!]],
    },
    'POST /web/sign-out': { role: 'admin', freshSession: true, fields: (csrf) => [['_csrf', csrf]] },
    'POST /web/board/issue': {
      role: 'board',
      fields: (csrf) => [
        ['_csrf', csrf],
        ['name', 'Dr. Ada Rivera'],
        ['npi', '1234567893'],
        ['subject', 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK'],
        ['licenseNumber', 'Q-48211'],
        ['licenseType', 'MD'],
        ['jurisdiction', 'US-TX'],
        ['status', 'active'],
        ['expirationDate', '2030-06-30'],
        ['txCode', 'on'],
      ],
    },
    'POST /web/board/status': {
      role: 'board',
      fields: (csrf) => [
        ['_csrf', csrf],
        ['credentialId', licenseId],
        ['action', 'suspend'],
        ['reason', 'unspecified'],
      ],
    },
    'POST /web/office/requests': {
      role: 'hospital',
      fields: (csrf) => [
        ['_csrf', csrf],
        ['purpose', 'onboarding'],
        ['type_ClinicianLicenseCredential', 'on'],
        ['type_BoardCertificationCredential', 'on'],
        ['type_DEARegistrationCredential', 'on'],
        ['acceptReceipts', 'on'],
      ],
    },
    'POST /web/office/verify': {
      role: 'hospital',
      fields: (csrf) => [
        ['_csrf', csrf],
        ['challenge', challenge.challenge],
        ['domain', challenge.domain],
        ['presentation', presentationJwt],
        ['receipt', ''],
        ['purpose', 'onboarding'],
        ['file', 'on'],
      ],
    },
    'POST /web/admin/issuers': {
      role: 'admin',
      fields: (csrf) => [
        ['_csrf', csrf],
        ['did', board.did],
        ['credentialTypes', 'ClinicianLicenseCredential,BoardCertificationCredential'],
        ['jurisdictions', 'US-TX'],
      ],
    },
    'POST /web/admin/issuers/remove': { role: 'admin', fields: (csrf) => [['_csrf', csrf], ['did', UNTRUSTED_DID]] },
    'POST /web/admin/verifiers': { role: 'admin', fields: (csrf) => [['_csrf', csrf], ['did', hospital.did]] },
    'POST /web/admin/verifiers/remove': { role: 'admin', fields: (csrf) => [['_csrf', csrf], ['did', UNTRUSTED_DID]] },
    'POST /web/admin/institutions/key': { role: 'admin', fields: (csrf) => [['_csrf', csrf], ['id', spare.id]] },
    'POST /web/admin/institutions': {
      role: 'admin',
      fields: (csrf) => [
        ['_csrf', csrf],
        ['name', 'Prop Hospital'],
        ['kind', 'hospital'],
        ['jurisdiction', 'US-CA'],
      ],
    },
  })

  /** The POST routes the web router really serves (the pages' forms post only there). */
  const servedForms = () =>
    routersOf(svc.app)
      .flatMap(routeKeys)
      .filter((r) => /^POST \/web\//.test(r))

  const secretOf = (role: Role) => ({ admin: svc.api.adminToken, board: board.apiKey, hospital: hospital.apiKey })[role]

  async function sessionOf(form: WebForm, who: Who): Promise<PageSession | undefined> {
    if (who === 'none') return undefined
    if (who === 'bogus') return { cookie: 'medcred_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', csrf: 'not-a-csrf-token' }
    const own = form.role === 'none' ? 'admin' : form.role
    const role = who === 'other' ? (own === 'hospital' ? 'board' : 'hospital') : own
    // A form that ends its session gets one of its own, so the other properties keep theirs.
    return form.freshSession ? signInPage(svc.url, secretOf(role)) : sessions[role]
  }

  async function post(path: string, opts: { session?: PageSession; body?: Buffer; contentType?: string | null; origin?: string | null; headers?: Record<string, string> }) {
    const headers: Record<string, string> = { ...opts.headers }
    if (opts.session) headers.cookie = opts.session.cookie
    if (opts.origin !== null) headers.origin = opts.origin ?? svc.url
    if (opts.body && opts.contentType) headers['content-type'] = opts.contentType
    const res = await fetch(svc.url + path, { method: 'POST', redirect: 'manual', headers, body: opts.body ? new Uint8Array(opts.body) : undefined })
    return { res, text: await res.text() }
  }

  /** The properties every answer of a page holds, whatever was posted. */
  function expectPageAnswer(where: string, res: Response, text: string): void {
    const requestId = res.headers.get('x-request-id') ?? '-'
    expect(res.status, res.status >= 500 ? `${where}\n${svc.logs.filter((l) => l.includes(requestId)).join('').slice(0, 4000)}` : where).toBeLessThan(500)
    expect([200, 201, 303].includes(res.status) || (res.status >= 400 && res.status < 500), where).toBe(true)
    expect(res.headers.get('content-security-policy'), where).toBe(PAGE_CSP)
    expect(res.headers.get('x-frame-options'), where).toBe('DENY')
    expect(res.headers.get('x-content-type-options'), where).toBe('nosniff')
    expect(text, where).not.toMatch(INTERNALS)
    if (res.status === 303) {
      expect(res.headers.get('location'), where).toMatch(/^\/(?![/\\])/)
      return
    }
    expect(res.headers.get('content-type'), where).toMatch(/^text\/html; charset=utf-8/)
    // Whatever was posted is escaped: the layout's one script tag is the only one.
    expect(text.match(/<script\b/g)?.length, where).toBe(1)
    if (res.status >= 400) {
      const message = /<div class="notice" role="alert"><p>([^<]*)<\/p>/.exec(text)?.[1] ?? ''
      expect(message.trim().length, `${where}: no readable message`).toBeGreaterThan(10)
    }
  }

  it('fuzzes every POST route the web router serves, and every form its pages show', async () => {
    const served = servedForms()
    expect(served.length).toBeGreaterThanOrEqual(12)
    expect(served.filter((r) => !(r in forms()))).toEqual([])
    expect(Object.keys(forms()).filter((r) => !served.includes(r))).toEqual([])
    const pages: [string, PageSession | undefined][] = [
      ['/', undefined],
      ['/web/sign-in-link?token=x', undefined],
      ['/web/admin', sessions.admin],
      ['/web/board', sessions.board],
      [`/web/board/credential?id=${encodeURIComponent(licenseId)}`, sessions.board],
      ['/web/office', sessions.hospital],
    ]
    const shown = new Set<string>()
    for (const [path, session] of pages) {
      for (const f of postForms(await pageHtml(svc.url, path, session))) {
        const route = `POST ${f.action}`
        shown.add(route)
        expect(served, `${path} posts to ${f.action}`).toContain(route)
        const template = (await forms()[route].fields('csrf')).map(([k]) => k)
        expect(f.fields.filter((k) => !template.includes(k)), `fields of the form on ${path} that ${route}'s template leaves unfuzzed`).toEqual([])
      }
    }
    expect(served.filter((r) => !shown.has(r)), 'POST routes no page has a form for').toEqual([])
  })

  for (const [i, [name, form]] of Object.entries(forms()).entries()) {
    const path = name.slice('POST '.length)
    it(`${name}: never a 5xx; refusals are readable pages; security headers always (${FC_RUNS} runs, seed ${FC_SEED + i})`, async () => {
      const who = fc.oneof({ arbitrary: fc.constant<Who>('own'), weight: 6 }, { arbitrary: fc.constantFrom<Who>('other', 'none', 'bogus'), weight: 1 })
      const origin = fc.constantFrom<string | null | undefined>(undefined, undefined, undefined, null)
      await fc.assert(
        fc.asyncProperty(who, formCase, origin, async (w, c, o) => {
          const session = await sessionOf(form, w)
          const csrf = session?.csrf ?? sessions.admin.csrf
          const body = formBytes(await form.fields(csrf), c, csrf)
          const { res, text } = await post(path, { session, body, contentType: c.encoding.contentType, origin: o })
          const counts = seen.get(name) ?? new Map()
          counts.set(res.status, (counts.get(res.status) ?? 0) + 1)
          seen.set(name, counts)
          expectPageAnswer(`${name} as ${w} (${c.body.kind}, ${c.encoding.style}, ${c.encoding.contentType}) -> ${res.status} ${res.headers.get('content-type')} ${text.slice(0, 400)}`, res, text)
        }),
        // One seed per form, derived from FC_SEED, so that no two forms get the very same cases; the form as
        // its page fills it comes first, so every run reaches the capability behind the form at least once.
        { numRuns: FC_RUNS, seed: FC_SEED + i, endOnFailure: true, reporter: shortReport, examples: [['own', { body: { kind: 'mutated', mutations: [] }, encoding: { style: 'standard', contentType: FORM_TYPE } }, undefined]] },
      )
    }, 120_000)
  }

  /** Row counts of every table but those the background workers and the rate limiter write, and the audit head. */
  async function fingerprint(): Promise<Record<string, number>> {
    const tables: { name: string }[] = svc.database.url
      ? await svc.db.query(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`)
      : await svc.db.query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
    const out: Record<string, number> = { auditSeq: await svc.audit.lastSeq() }
    for (const { name } of tables) {
      if (/^medcred_(audit_anchor|rate_limit)$/.test(name)) continue
      out[name] = Number((await svc.db.query(`SELECT COUNT(*) AS n FROM "${name}"`))[0].n)
    }
    return out
  }

  type Attack = 'missing' | 'empty' | 'garbled' | 'truncated' | 'another-session' | 'in-query' | 'in-header' | 'foreign-origin' | 'null-origin' | 'no-cookie'

  it(`no POST without its session's CSRF token (or from another origin) changes anything (${FC_RUNS * 2} runs)`, async () => {
    const guarded = Object.entries(forms()).filter(([, f]) => f.role !== 'none')
    const other = await signInPage(svc.url, svc.api.adminToken)
    const before = await fingerprint()
    const attack = fc.constantFrom<Attack>('missing', 'empty', 'garbled', 'truncated', 'another-session', 'in-query', 'in-header', 'foreign-origin', 'null-origin', 'no-cookie')
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...guarded), attack, fc.array(formMutation, { maxLength: 2 }), fc.nat(), async ([name, form], a, mutations, salt) => {
        const session = sessions[form.role as Role]
        const token = session.csrf
        let fields = (await form.fields(token)).filter(([k]) => k !== '_csrf')
        fields = mutations.reduce(applyFormMutation, fields)
        const flip = (s: string) => s.slice(0, salt % s.length) + (s[salt % s.length] === 'A' ? 'B' : 'A') + s.slice((salt % s.length) + 1)
        const given: Partial<Record<Attack, string>> = { empty: '', garbled: flip(token), truncated: token.slice(0, -1), 'another-session': other.csrf, 'foreign-origin': token, 'null-origin': token, 'no-cookie': token }
        if (a in given) fields = [['_csrf', given[a]!], ...fields]
        const path = name.slice('POST '.length) + (a === 'in-query' ? `?_csrf=${encodeURIComponent(token)}` : '')
        const seqBefore = await svc.audit.lastSeq()
        const { res, text } = await post(path, {
          session: a === 'no-cookie' ? undefined : session,
          body: encodeForm(fields, { style: 'standard', contentType: FORM_TYPE }),
          contentType: FORM_TYPE,
          origin: a === 'foreign-origin' ? 'https://evil.example' : a === 'null-origin' ? 'null' : undefined,
          headers: a === 'in-header' ? { 'x-csrf-token': token } : {},
        })
        const where = `${name} with CSRF ${a} -> ${res.status} ${text.slice(0, 300)}`
        expectPageAnswer(where, res, text)
        expect(res.status, where).toBeGreaterThanOrEqual(400)
        expect(await svc.audit.lastSeq(), where).toBe(seqBefore)
      }),
      { numRuns: FC_RUNS * 2, seed: FC_SEED, endOnFailure: true, reporter: shortReport },
    )
    expect(await fingerprint()).toEqual(before)
    // The sessions the attacks rode are still signed in.
    for (const [role, home] of [['admin', '/web/admin'], ['board', '/web/board'], ['hospital', '/web/office']] as const) {
      expect((await fetch(svc.url + home, { headers: { cookie: sessions[role].cookie }, redirect: 'manual' })).status, role).toBe(200)
    }
  }, 120_000)

  // What the properties found, pinned as examples.
  it('answers what the body reader refuses (too large, a field twice, not a form) as a page, not problem+json', async () => {
    const s = sessions.admin
    const cases: [string, Buffer, string, number][] = [
      ['too large', Buffer.from(`_csrf=${s.csrf}&did=${'A'.repeat(300_000)}`), FORM_TYPE, 413],
      ['a field twice', Buffer.from(`_csrf=${s.csrf}&did=a&did=b`), FORM_TYPE, 400],
      ['not a form', Buffer.from(`_csrf=${s.csrf}`), 'text/plain', 415],
    ]
    for (const [what, body, contentType, status] of cases) {
      const { res, text } = await post('/web/admin/verifiers', { session: s, body, contentType })
      expect(res.status, what).toBe(status)
      expectPageAnswer(what, res, text)
    }
    const { text } = await post('/web/admin/verifiers', { session: s, body: Buffer.from(`_csrf=${s.csrf}`), contentType: 'text/plain' })
    expect(text).toContain('a form is sent as application/x-www-form-urlencoded')
  })

  it('refuses a license expiry that is no calendar day with a page naming the field (it was a 500)', async () => {
    for (const day of ['9999-99-99', '2026-13-01', '2026-02-30']) {
      const fields = (await forms()['POST /web/board/issue'].fields(sessions.board.csrf)).map(([k, v]): [string, string] => [k, k === 'expirationDate' ? day : v])
      const { res, text } = await post('/web/board/issue', { session: sessions.board, body: encodeForm(fields, { style: 'standard', contentType: FORM_TYPE }), contentType: FORM_TYPE })
      expectPageAnswer(day, res, text)
      expect([400, 422], day).toContain(res.status)
      expect(text, day).toContain('credential.expirationDate')
    }
  })

  it('leaves an audit trail that still verifies, after answering many cases with something other than a refusal', async () => {
    const report = await checkTrail(svc)
    expect(report.problems).toEqual([])
    expect(report.ok).toBe(true)
    // Every form's cases reached its handler, not only the body reader and the CSRF check: each form was
    // answered at least once with something only the capability behind it says (done, conflict, not found, …).
    const refusedAtTheDoor = new Set([400, 401, 403, 413, 415])
    const reached = Object.fromEntries([...seen].map(([name, statuses]) => [name, [...statuses.keys()].some((s) => !refusedAtTheDoor.has(s))]))
    expect(reached).toEqual(Object.fromEntries(Object.keys(forms()).map((name) => [name, true])))
  })
})
