import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { routersOf } from '../src/api/app.js'
import { ACCESS, routeKeys, type Access } from '../src/api/authorization.js'
import { PAGE_ROUTE } from '../src/api/openapi/route-doc.js'
import { HolderWallet } from '../src/holder/wallet.js'
import { grantConsent, patientBearer, signConsent } from './helpers/consent.js'
import { licenseCredential, patientIdentityCredential, VALID_NPI } from './helpers/fixtures.js'
import { Oid4vcWallet } from './helpers/oid4vc-wallet.js'
import { startTestService, type TestService } from './helpers/service.js'
import { WebhookListener } from './helpers/webhook-listener.js'
import { waitFor } from './helpers/audit.js'
import { pageHtml, postForms, signInPage, type PageSession } from './helpers/web.js'

/**
 * The authorization table (src/api/authorization.ts), walked in full over HTTP: every route it names × every
 * role (nobody, the admin, each kind of institution, a patient) × the caller's own resource and another
 * institution's (of the same kind). What each cell must answer follows from the table alone:
 * - a role the entry does not admit: 401 when nobody is signed in (a patient's token counts only where
 *   patients are admitted), else 403;
 * - an admitted role on its own resource: neither 401, 403 nor 404 (the request may still be a 400: the
 *   probe's body is not always valid, authorization came first);
 * - an admitted institution on another's: 403 for `path` and `body`, 404 for `lookup` (as if unknown),
 *   and for `list` the other's resource is not in the reply.
 * The pages (`/`, `/web/…`) are walked with page sessions, where the session is the caller.
 */

type Inst = { id: string; did: string; apiKey: string; kind: string }
type Role = 'anonymous' | 'admin' | 'board' | 'hospital' | 'identity-provider' | 'patient'
const ROLES: Role[] = ['anonymous', 'admin', 'board', 'hospital', 'identity-provider', 'patient']
type Whose = 'own' | 'other'

interface Probe {
  path: string
  body?: unknown
  form?: Record<string, string>
}

interface Actor {
  role: Role
  /** The institution acting (its own), and another of the same kind. */
  inst?: Inst
  other?: Inst
}

const METRICS_TOKEN = 'metrics-scraper-token-for-the-authorization-walk'

describe('the authorization table, walked: every route × role × own / another institution’s resource', () => {
  let svc: TestService
  let net: { publicUrl: string; baseUrl: string }
  let listener: WebhookListener
  const A: Record<string, Inst> = {}
  const B: Record<string, Inst> = {}
  let patientA: HolderWallet
  let patientB: HolderWallet
  let clinician: HolderWallet

  beforeAll(async () => {
    // Many cells are refusals by design: the failed-authentication limit (tested in auth-rate-limit) is lifted here.
    svc = await startTestService({ env: { METRICS_TOKEN, AUTH_FAILURES_PER_MINUTE: '100000' } })
    net = { publicUrl: svc.config.publicUrl, baseUrl: svc.url }
    listener = await WebhookListener.start()
    for (const [set, suffix] of [[A, 'A'], [B, 'B']] as const) {
      set.board = { ...(await svc.api.createTrustedBoard(`Board ${suffix}`)), kind: 'board' }
      set.hospital = { ...(await svc.api.createInstitution({ name: `Hospital ${suffix}`, kind: 'hospital' })), kind: 'hospital' }
      set['identity-provider'] = { ...(await svc.api.createInstitution({ name: `IdP ${suffix}`, kind: 'identity-provider' })), kind: 'identity-provider' }
    }
    patientA = await HolderWallet.create()
    patientB = await HolderWallet.create()
    clinician = await HolderWallet.create()
  }, 120_000)
  afterAll(async () => {
    await listener?.close()
    await svc?.dispose()
  })

  // ---- resources, made once per institution, through the API ----
  const memo = <T>(make: (i: Inst) => Promise<T>) => {
    const cache = new Map<string, Promise<T>>()
    return (i: Inst) => {
      if (!cache.has(i.id)) cache.set(i.id, make(i))
      return cache.get(i.id)!
    }
  }
  const ok = (res: { status: number; body: any }, what: string) => {
    if (res.status >= 300) throw new Error(`${what}: ${res.status} ${JSON.stringify(res.body)}`)
    return res.body
  }
  /** What an institution of this kind issues: a board a license, a hospital or identity provider a patient's identity. */
  const unsigned = (i: Inst, subject?: string): any => {
    const vc: any = i.kind === 'board' ? licenseCredential(subject ?? clinician.did, { issuer: i.did }) : patientIdentityCredential(subject ?? patientA.did, { issuer: i.did })
    if (!subject) delete vc.credentialSubject.id
    return vc
  }
  const credential = memo(async (i) => ok(await svc.api.post('/credentials/issue', { credential: unsigned(i, i.kind === 'board' ? clinician.did : patientA.did) }, i.apiKey), 'issue').verifiableCredential)
  /** A hospital's verification of a license from the board of its own letter. */
  const verification = memo(async (h) => {
    const board = h === A.hospital ? A.board : B.board
    const license = ok(await svc.api.post('/credentials/issue', { credential: licenseCredential(clinician.did) }, board.apiKey), 'issue').verifiableCredential
    const { challenge, domain } = ok(await svc.api.post('/verifications/challenges', {}, h.apiKey), 'challenge')
    const vp = await clinician.present([license], { challenge, domain })
    const verified = ok(await svc.api.post('/verifications', { verifiablePresentation: vp, challenge, domain, purpose: 'onboarding' }, h.apiKey), 'verify')
    return { id: verified.id as string, license }
  })
  const file = memo(async (h) => {
    const board = h === A.hospital ? A.board : B.board
    const license = ok(await svc.api.post('/credentials/issue', { credential: licenseCredential(clinician.did) }, board.apiKey), 'issue').verifiableCredential
    const { challenge, domain } = ok(await svc.api.post('/verifications/challenges', {}, h.apiKey), 'challenge')
    const vp = await clinician.present([license], { challenge, domain })
    return ok(await svc.api.post('/credentialing-files', { verifiablePresentation: vp, challenge, domain }, h.apiKey), 'file').id as string
  })
  const webhook = memo(async (i) => newWebhook(i))
  const newWebhook = async (i: Inst) => ok(await svc.api.post('/webhooks', { url: listener.url(), events: ['credential.revoked'] }, i.apiKey), 'webhook').id as string
  const offer = memo(async (i) => ok(await svc.api.post('/oid4vci/offers', { credential: unsigned(i) }, i.apiKey), 'offer') as { id: string; offer: string })
  const vpRequest = memo(async (h) => ok(await svc.api.post('/oid4vp/requests', { purpose: 'onboarding', credentialTypes: ['ClinicianLicenseCredential'] }, h.apiKey), 'vp request').id as string)
  const consentTo = memo(async (i) => grantConsent(svc, await signConsent(patientA, i.did)))
  const otherPatientsConsent = memo(async (i) => grantConsent(svc, await signConsent(patientB, i.did)))
  /** The audit sequence number of the institution's own issuance. */
  const issuedEvent = memo(async (i) => {
    const vc = await credential(i)
    const page = ok(await svc.api.get('/audit/events?limit=500', svc.api.adminToken), 'audit')
    return (page.events as any[]).find((e) => e.action === 'credential.issued' && e.subject?.id === vc.id).seq as number
  })
  /** A notice to the hospital: a license it verified is suspended by its board. */
  const notice = memo(async (h) => {
    const { license } = await verification(h)
    const board = h === A.hospital ? A.board : B.board
    ok(await svc.api.post('/credentials/status', { credentialId: license.id, credentialStatus: [{ type: 'StatusList2021Entry', status: 'suspended' }] }, board.apiKey), 'suspend')
    const notices = await waitFor('a notice', async () => {
      const text = JSON.stringify(ok(await svc.api.get('/notifications?limit=100', h.apiKey), 'notices'))
      return text.includes(license.id) ? text : undefined
    })
    return notices.match(/"id":"([^"]+)"/)![1]
  })
  /** A one-use OID4VCI access token for the institution's offer (the wallet's side, by the spec). */
  const accessToken = async (i: Inst) => {
    const wallet = await Oid4vcWallet.create(net)
    const { offer: uri } = ok(await svc.api.post('/oid4vci/offers', { credential: unsigned(i) }, i.apiKey), 'offer')
    return ok(await wallet.token(await wallet.resolveOffer(uri)), 'token').access_token as string
  }

  // ---- how each route is probed as `actor` on whose resource ----
  const whoseInst = (a: Actor, whose: Whose): Inst => (whose === 'own' ? a.inst ?? A.hospital : a.other ?? B.hospital)
  const hospitalOf = (a: Actor, whose: Whose) => (whoseInst(a, whose).kind === 'hospital' ? whoseInst(a, whose) : whose === 'own' ? A.hospital : B.hospital)
  const boardOf = (a: Actor, whose: Whose) => (whoseInst(a, whose).kind === 'board' ? whoseInst(a, whose) : whose === 'own' ? A.board : B.board)
  const id = (s: string) => encodeURIComponent(s)

  /** Routes whose resource the table marks `lookup` (or `list`): the probe names the actor's or the other's. */
  const LOOKUP: Record<string, (a: Actor, whose: Whose) => Promise<Probe>> = {
    'POST /credentials/status': async (a, w) => ({ path: '/credentials/status', body: { credentialId: (await credential(whoseInst(a, w))).id, credentialStatus: [{ type: 'StatusList2021Entry', status: 'active' }] } }),
    'GET /credentials/:id/status': async (a, w) => ({ path: `/credentials/${id((await credential(whoseInst(a, w))).id)}/status` }),
    'GET /verifications/:id': async (a, w) => ({ path: `/verifications/${(await verification(hospitalOf(a, w))).id}` }),
    'GET /credentialing-files/:id': async (a, w) => ({ path: `/credentialing-files/${await file(hospitalOf(a, w))}` }),
    'DELETE /webhooks/:id': async (a, w) => ({ path: `/webhooks/${await newWebhook(whoseInst(a, w))}` }),
    'GET /audit/events/:seq/proof': async (a, w) => ({ path: `/audit/events/${await issuedEvent(whoseInst(a, w))}/proof` }),
    'GET /oid4vci/offers/:id': async (a, w) => ({ path: `/oid4vci/offers/${(await offer(whoseInst(a, w))).id}` }),
    'GET /oid4vp/requests/:id': async (a, w) => ({ path: `/oid4vp/requests/${await vpRequest(hospitalOf(a, w))}` }),
    'GET /fhir/VerificationResult/:id': async (a, w) => ({ path: `/fhir/VerificationResult/${(await verification(hospitalOf(a, w))).id}` }),
    'GET /web/board/credential': async (a, w) => ({ path: `/web/board/credential?id=${id((await credential(boardOf(a, w))).id)}` }),
    'POST /web/board/status': async (a, w) => ({ path: '/web/board/status', form: { credentialId: (await credential(boardOf(a, w))).id, action: 'reinstate', reason: 'unspecified' } }),
    'GET /web/office/requests/:id': async (a, w) => ({ path: `/web/office/requests/${await vpRequest(hospitalOf(a, w))}` }),
    'GET /web/office/requests/:id/state': async (a, w) => ({ path: `/web/office/requests/${await vpRequest(hospitalOf(a, w))}/state` }),
  }

  /** Sign-in endpoints authenticate by what the form carries (their 401 is a wrong secret): probe them with a right one. */
  const SIGN_IN: Record<string, () => Promise<Probe>> = {
    'POST /web/sign-in': async () => ({ path: '/web/sign-in', form: { secret: A.board.apiKey } }),
    'POST /web/sign-in-link': async () => {
      const link = ok(await svc.api.post('/sign-in-links', {}, A.board.apiKey), 'sign-in link')
      return { path: '/web/sign-in-link', form: { token: new URL(link.url).searchParams.get('token')! } }
    },
  }

  /** Routes the table marks `list`: the probe, and a resource of `inst` that must be listed to it and to no other. */
  const LIST: Record<string, { probe: (a: Actor) => Promise<Probe> | Probe; mark: (i: Inst) => Promise<string | undefined> }> = {
    'GET /consents': { probe: () => ({ path: '/consents' }), mark: async (i) => consentTo(i) },
    'GET /webhooks': { probe: () => ({ path: '/webhooks' }), mark: async (i) => webhook(i) },
    'GET /notifications': { probe: () => ({ path: '/notifications?limit=100' }), mark: async (i) => (i.kind === 'hospital' ? notice(i) : undefined) },
    'GET /audit/events': { probe: () => ({ path: '/audit/events?limit=500' }), mark: async (i) => `"seq":${await issuedEvent(i)},` },
    'GET /fhir/VerificationResult': { probe: () => ({ path: `/fhir/VerificationResult?target=Practitioner/${VALID_NPI}` }), mark: async (i) => (i.kind === 'hospital' ? (await verification(i)).id : undefined) },
    'GET /fhir/Consent': { probe: () => ({ path: `/fhir/Consent?patient=${id(patientA.did)}` }), mark: async (i) => consentTo(i) },
  }

  /** Any other route: its path parameters filled (an institution's id where the table says `path`), an empty body. */
  function genericProbe(key: string, access: Access, a: Actor, whose: Whose): Probe {
    const path = key.split(' ')[1].replace(/:(\w+)/g, (_, name: string) => {
      if (access.own.rule === 'path' && access.own.param === name) return whoseInst(a, whose).id
      return 'x'
    })
    if (access.own.rule === 'body') return { path, body: { [access.own.field]: whoseInst(a, whose).id } }
    return PAGE_ROUTE.test(key) && key.startsWith('POST') ? { path, form: {} } : { path, body: key.startsWith('GET') || key.startsWith('DELETE') ? undefined : {} }
  }

  // ---- callers: a bearer for the API, a page session for the pages ----
  const sessions = new Map<string, PageSession>()
  const signIn = (secret: string) => signInPage(svc.url, secret)
  const secretOf = (a: Actor) => (a.role === 'admin' ? svc.api.adminToken : a.inst!.apiKey)

  async function send(key: string, a: Actor, probe: Probe): Promise<{ status: number; text: string }> {
    const method = key.split(' ')[0]
    const headers: Record<string, string> = {}
    let body: string | undefined
    if (PAGE_ROUTE.test(key)) {
      if (a.role !== 'anonymous' && a.role !== 'patient') {
        // Signing out ends the session: that probe gets one of its own.
        const fresh = key === 'POST /web/sign-out'
        const s = fresh ? await signIn(secretOf(a)) : sessions.get(a.role) ?? (await signIn(secretOf(a)))
        if (!fresh) sessions.set(a.role, s)
        headers.cookie = s.cookie
        if (method === 'POST') probe.form = { _csrf: s.csrf, ...probe.form }
      }
      if (method === 'POST') {
        headers.origin = svc.url
        headers['content-type'] = 'application/x-www-form-urlencoded'
        body = new URLSearchParams(probe.form ?? {}).toString()
      }
    } else {
      if (a.role === 'admin') headers.authorization = `Bearer ${svc.api.adminToken}`
      else if (a.role === 'patient') headers.authorization = `Bearer ${await patientBearer(svc, patientA)}`
      else if (a.role !== 'anonymous') headers.authorization = `Bearer ${a.inst!.apiKey}`
      if (probe.body !== undefined) {
        headers['content-type'] = 'application/json'
        body = JSON.stringify(probe.body)
      }
    }
    const res = await fetch(svc.url + probe.path, { method, headers, body, redirect: 'manual' })
    return { status: res.status, text: await res.text() }
  }

  const actor = (role: Role): Actor => (role in A ? { role, inst: A[role], other: B[role] } : { role })

  /** Routes whose probe on one's own would spend the actor (its key replaced): a fresh institution of its kind stands in. */
  const SPENDS_THE_ACTOR = ['POST /institutions/:id/api-key']
  const fresh = async (kind: string): Promise<Inst> => ({ ...(await svc.api.createInstitution({ name: `Fresh ${kind}`, kind })), kind })

  /** What the cell must answer, from the table alone; undefined when it passed. */
  async function cell(key: string, role: Role, whose: Whose): Promise<string | undefined> {
    const access = ACCESS[key]
    let a = actor(role)
    if (SPENDS_THE_ACTOR.includes(key)) {
      // The admin may act on any institution: it gets fresh ones too.
      if (!a.inst) a = { ...a, other: await fresh('hospital') }
      if (whose === 'own' || !a.inst) a = { ...a, inst: await fresh(a.inst?.kind ?? 'hospital') }
    }
    const listed = LIST[key]
    // The list's resources exist before it is read: the caller's own and the other's.
    const mark = listed && a.inst ? await listed.mark(a.inst) : listed && role === 'patient' ? await consentTo(A.hospital) : undefined
    const theirs = listed && a.other ? await listed.mark(a.other) : listed && role === 'patient' ? await otherPatientsConsent(A.hospital) : undefined
    const probe = listed ? await listed.probe(a) : LOOKUP[key] ? await LOOKUP[key](a, whose) : SIGN_IN[key] ? await SIGN_IN[key]() : genericProbe(key, access, a, whose)
    const { status, text } = await send(key, a, probe)
    const seen = `${key} as ${role} on ${whose}: ${status} ${text.includes('<!doctype') ? (/<div class="notice"[^>]*>(.*?)<\/div>/s.exec(text)?.[1] ?? '') : text.slice(0, 300)}`
    const admitted = access.roles.includes('anyone') || access.roles.includes(role as never)
    if (!admitted) {
      const signedIn = role !== 'anonymous' && role !== 'patient'
      return status === (signedIn ? 403 : 401) ? undefined : `expected ${signedIn ? 403 : 401}: ${seen}`
    }
    const institution = a.inst !== undefined && role !== 'admin'
    const named = whose === 'other' && institution && (access.own.rule === 'path' || access.own.rule === 'body')
    if (named) return status === 403 ? undefined : `expected 403 for another institution's: ${seen}`
    if (status === 401 || status === 403) return `expected to be let through: ${seen}`
    if (whose === 'own' || !institution) {
      if (access.own.rule === 'lookup' && status === 404) return `expected its own resource to be found: ${seen}`
      if (mark && !text.includes(mark)) return `expected its own ${mark} in the list: ${seen}`
      // A patient's list is the patient's own: another patient's consent (to the same hospital) is not in it.
      if (role === 'patient' && theirs && text.includes(theirs)) return `another patient's consent is listed: ${seen}`
      return undefined
    }
    if (access.own.rule === 'lookup') return status === 404 ? undefined : `expected 404 (as if unknown) for another institution's: ${seen}`
    if (access.own.rule === 'list' && theirs && text.includes(theirs)) return `another institution's ${theirs} is listed: ${seen}`
    return undefined
  }

  it('names every route the service serves, and only those', () => {
    const served = routersOf(svc.app).flatMap(routeKeys).sort()
    expect(served).toEqual(Object.keys(ACCESS).sort())
  })

  it('matches paths exactly: another letter case is no route (and no way around the pages’ or wallets’ rules)', async () => {
    expect((await fetch(`${svc.url}/WEB/admin`, { headers: { authorization: `Bearer ${svc.api.adminToken}` } })).status).toBe(404)
    expect((await svc.api.get(`/INSTITUTIONS/${A.board.id}`, svc.api.adminToken)).status).toBe(404)
    expect((await svc.api.get(`/institutions/${A.board.id}`, svc.api.adminToken)).status).toBe(200)
  })

  it('has a probe for every `lookup` and `list` route', () => {
    for (const [key, access] of Object.entries(ACCESS)) {
      if (access.own.rule === 'lookup') expect(LOOKUP[key], key).toBeDefined()
      if (access.own.rule === 'list') expect(LIST[key], key).toBeDefined()
    }
  })

  // Handler-proven credentials are walked with them: the wallet's access token and the metrics token.
  const HANDLER_CHECKED = Object.entries(ACCESS).filter(([, a]) => a.roles.includes('wallet') || a.roles.includes('metrics-reader')).map(([k]) => k)

  it('holds in every cell: route × role × own / another’s', { timeout: 600_000 }, async () => {
    const failures: string[] = []
    for (const key of Object.keys(ACCESS)) {
      if (HANDLER_CHECKED.includes(key)) continue
      for (const role of ROLES) {
        for (const whose of ['own', 'other'] as const) {
          const failure = await cell(key, role, whose)
          if (failure) failures.push(failure)
        }
      }
    }
    expect(failures).toEqual([])
  })

  it('the credential endpoint takes only an access token of its own issuer', async () => {
    const at = (i: Inst, token?: string) => fetch(`${svc.url}/oid4vci/${i.id}/credential`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify({ credential_configuration_id: 'x' }) })
    for (const token of [undefined, svc.api.adminToken, A.board.apiKey, await patientBearer(svc, patientA)]) expect((await at(A.board, token)).status).toBe(401)
    expect((await at(B.board, await accessToken(A.board))).status).toBe(401)
    expect((await at(A.board, await accessToken(A.board))).status).not.toBe(401)
  })

  it('metrics are read with the admin token or METRICS_TOKEN only', async () => {
    const read = (token?: string) => fetch(`${svc.url}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} })
    expect((await read()).status).toBe(401)
    expect((await read(A.hospital.apiKey)).status).toBe(401)
    expect((await read(svc.api.adminToken)).status).toBe(200)
    expect((await read(METRICS_TOKEN)).status).toBe(200)
  })

  it('a replaced API key stops at once, with the page sessions it opened; the new key works', async () => {
    const idp = { ...(await svc.api.createInstitution({ name: 'Leaky IdP', kind: 'identity-provider' })), kind: 'identity-provider' }
    const session = await signIn(idp.apiKey)
    const other = await svc.api.post(`/institutions/${A.board.id}/api-key`, {}, idp.apiKey)
    expect(other.status).toBe(403)
    const replaced = await svc.api.post(`/institutions/${idp.id}/api-key`, {}, idp.apiKey)
    expect(replaced.status).toBe(200)
    expect(replaced.headers.get('cache-control')).toBe('no-store')
    expect(replaced.body.apiKey).toMatch(/^mck_/)
    expect((await svc.api.get(`/institutions/${idp.id}`, idp.apiKey)).status).toBe(401)
    expect((await fetch(`${svc.url}/web/board`, { headers: { cookie: session.cookie } })).status).toBe(401)
    expect((await svc.api.get(`/institutions/${idp.id}`, replaced.body.apiKey)).status).toBe(200)
    const events = (await svc.api.get('/audit/events?limit=500', svc.api.adminToken)).body.events as any[]
    const event = events.find((e) => e.action === 'institution.api-key-replaced' && e.subject.id === idp.id)
    expect(event).toBeDefined()
    expect(JSON.stringify(event)).not.toContain(replaced.body.apiKey)
  })

  it("the admin's page replaces an institution's API key: shown once, the old key and its sessions end", async () => {
    const clinic = await svc.api.createInstitution({ name: 'Leaky Clinic', kind: 'hospital' })
    const clinicSession = await signInPage(svc.url, clinic.apiKey)
    const admin = await signInPage(svc.url, svc.api.adminToken)
    expect(postForms(await pageHtml(svc.url, '/web/admin', admin))).toContainEqual({ action: '/web/admin/institutions/key', fields: ['_csrf', 'id'] })
    const res = await fetch(`${svc.url}/web/admin/institutions/key`, { method: 'POST', headers: { cookie: admin.cookie, origin: svc.url, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: admin.csrf, id: clinic.id }).toString() })
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store')
    const newKey = /mck_[\w-]+/.exec(await res.text())![0]
    expect((await svc.api.get(`/institutions/${clinic.id}`, clinic.apiKey)).status).toBe(401)
    expect((await fetch(`${svc.url}/web/office`, { headers: { cookie: clinicSession.cookie } })).status).toBe(401)
    expect((await svc.api.get(`/institutions/${clinic.id}`, newKey)).status).toBe(200)
  })
})
