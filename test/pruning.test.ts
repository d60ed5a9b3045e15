import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ChallengeEntity } from '../src/acceptance/acceptance.entities.js'
import { Database } from '../src/db/database.js'
import { Pruner, type PruneRule } from '../src/db/pruner.js'
import { NonceEntity, OfferEntity, PresentationRequestEntity } from '../src/oid4vc/entities.js'
import { WebSessionEntity, WebSignInLinkEntity } from '../src/web/session.entities.js'
import { checkTrail, waitFor } from './helpers/audit.js'
import { forTestDb, openAtMigrations } from './helpers/database.js'
import { licenseCredential } from './helpers/fixtures.js'
import { Oid4vcWallet } from './helpers/oid4vc-wallet.js'
import { startTestService, type TestService } from './helpers/service.js'
import { sessionCookieOf, signInPage } from './helpers/web.js'

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex')
/** An ISO time `seconds` ago. */
const ago = (seconds: number) => new Date(Date.now() - seconds * 1000).toISOString()
/** Past the grace period the service runs with (PRUNE_GRACE_SECONDS=60). */
const LONG_AGO = 2 * 3600

function capturingLog() {
  const errors: Record<string, unknown>[] = []
  return { errors, log: { error: (message: string, fields?: Record<string, unknown>) => errors.push({ message, ...fields }), info: () => undefined } }
}

/** A license offer body: the issue body without credentialSubject.id. */
function offerBody() {
  const credential = licenseCredential('did:placeholder')
  delete (credential.credentialSubject as Record<string, unknown>).id
  return { credential }
}

describe('pruning expired single-use rows', () => {
  let svc: TestService
  let board: { id: string; apiKey: string }
  let hospital: { id: string; did: string; apiKey: string }
  let wallet: Oid4vcWallet
  let issuer: string

  beforeAll(async () => {
    svc = await startTestService({ env: { PRUNE_GRACE_SECONDS: '60', PRUNE_INTERVAL_SECONDS: '86400' } })
    board = await svc.api.createTrustedBoard('Texas Medical Board')
    hospital = await svc.api.createInstitution({ name: 'Mercy General Hospital', kind: 'hospital' })
    wallet = await Oid4vcWallet.create({ publicUrl: svc.config.publicUrl, baseUrl: svc.url })
    issuer = `${svc.config.publicUrl}/oid4vci/${board.id}`
  })
  afterAll(() => svc?.dispose())

  const createOffer = async () => {
    const res = await svc.api.post('/oid4vci/offers', offerBody(), board.apiKey)
    expect(res.status, JSON.stringify(res.body)).toBe(201)
    return res.body as { id: string; offer: string }
  }
  const createRequest = async () => {
    const res = await svc.api.post('/oid4vp/requests', { purpose: 'onboarding', credentialTypes: ['ClinicianLicenseCredential'] }, hospital.apiKey)
    expect(res.status, JSON.stringify(res.body)).toBe(201)
    return res.body as { id: string; request: string }
  }
  const createChallenge = async () => (await svc.api.post('/verifications/challenges', {}, hospital.apiKey)).body as { challenge: string; domain: string }
  const createLink = async () => new URL((await svc.api.post('/sign-in-links', {}, hospital.apiKey)).body.url).searchParams.get('token')!
  const signInLink = (token: string) =>
    fetch(`${svc.url}/web/sign-in-link`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: svc.url }, body: new URLSearchParams({ token }).toString() })
  const auditCount = async () => Number((await svc.db.query('SELECT COUNT(*) AS n FROM "medcred_audit_event"'))[0].n)

  it('deletes what expired longer ago than the grace period, keeps the rest, and what it kept still works', async () => {
    // OID4VCI offers: never redeemed and long expired (gone), expired within the grace (kept), live (kept),
    // redeemed for an access token that expired unused (gone), redeemed into a credential (kept for good).
    const staleOffer = await createOffer()
    const recentOffer = await createOffer()
    const liveOffer = await createOffer()
    const tokenOffer = await createOffer()
    expect((await wallet.token(await wallet.resolveOffer(tokenOffer.offer))).status).toBe(200)
    const redeemedOffer = await createOffer()
    const license = await wallet.receive(redeemedOffer.offer)
    const offers = svc.db.getRepository(OfferEntity)
    await offers.update({ id: staleOffer.id }, { expiresAt: ago(LONG_AGO) })
    await offers.update({ id: recentOffer.id }, { expiresAt: ago(10) })
    await offers.update({ id: tokenOffer.id }, { expiresAt: ago(LONG_AGO), tokenExpiresAt: ago(LONG_AGO) })
    await offers.update({ id: redeemedOffer.id }, { expiresAt: ago(LONG_AGO), tokenExpiresAt: ago(LONG_AGO) })

    // c_nonces, OID4VP requests (one never answered, one live, one answered long ago), challenges.
    const staleNonce = await wallet.nonce(issuer)
    const liveNonce = await wallet.nonce(issuer)
    await svc.db.getRepository(NonceEntity).update({ nonceHash: sha256(staleNonce) }, { expiresAt: ago(LONG_AGO) })
    const staleRequest = await createRequest()
    const liveRequest = await createRequest()
    const answeredRequest = await createRequest()
    expect((await wallet.answer(answeredRequest.request, [license])).reply.status).toBe(200)
    const requests = svc.db.getRepository(PresentationRequestEntity)
    await requests.update({ id: staleRequest.id }, { expiresAt: ago(LONG_AGO) })
    await requests.update({ id: answeredRequest.id }, { expiresAt: ago(LONG_AGO) })
    const staleChallenge = await createChallenge()
    const liveChallenge = await createChallenge()
    await svc.db.getRepository(ChallengeEntity).update({ challenge: staleChallenge.challenge }, { expiresAt: ago(LONG_AGO) })

    // Page sessions and sign-in links.
    const staleSession = await signInPage(svc.url, hospital.apiKey)
    const liveSession = await signInPage(svc.url, hospital.apiKey)
    await svc.db.getRepository(WebSessionEntity).update({ tokenHash: sha256(staleSession.cookie.split('=')[1]) }, { expiresAt: ago(LONG_AGO) })
    const staleLink = await createLink()
    const liveLink = await createLink()
    await svc.db.getRepository(WebSignInLinkEntity).update({ tokenHash: sha256(staleLink) }, { expiresAt: ago(LONG_AGO) })

    // Rate-limit windows (PostgreSQL writes them; the table exists on SQLite too): one long ended, one current.
    const minute = Math.floor(Date.now() / 60_000) * 60_000
    await svc.store.transaction((m) => m.query(forTestDb('INSERT INTO "medcred_rate_limit" ("key", "windowStart", "count") VALUES ($1, $2, 1), ($3, $4, 1)'), ['prune:old', minute - LONG_AGO * 1000, 'prune:now', minute]))

    const auditBefore = await auditCount()
    const summary = await svc.pruner.pruneOnce()
    expect(summary.failed).toEqual([])
    // (On PostgreSQL this test's own requests counted in rate-limit windows too: at least the one set up ended.)
    expect(summary.deleted).toEqual({
      'oid4vci-nonce': 1,
      'oid4vci-offer': 2,
      'oid4vp-request': 1,
      'web-session': 1,
      'web-sign-in-link': 1,
      'verification-challenge': 1,
      'rate-limit': svc.database.url ? expect.any(Number) : 1,
    })
    expect(summary.deleted['rate-limit']).toBeGreaterThanOrEqual(1)
    // Pruning neither removes nor adds audit events.
    expect(await auditCount()).toBe(auditBefore)

    expect(await offers.findOneBy({ id: staleOffer.id })).toBeNull()
    expect(await offers.findOneBy({ id: tokenOffer.id })).toBeNull()
    for (const kept of [recentOffer, liveOffer, redeemedOffer]) expect(await offers.findOneBy({ id: kept.id }), kept.id).not.toBeNull()
    expect((await svc.api.get(`/oid4vci/offers/${redeemedOffer.id}`, board.apiKey)).body.state).toBe('credential-issued')
    expect(await svc.db.getRepository(NonceEntity).findOneBy({ nonceHash: sha256(staleNonce) })).toBeNull()
    expect(await svc.db.getRepository(NonceEntity).findOneBy({ nonceHash: sha256(liveNonce) })).not.toBeNull()
    expect(await requests.findOneBy({ id: staleRequest.id })).toBeNull()
    expect((await svc.api.get(`/oid4vp/requests/${answeredRequest.id}`, hospital.apiKey)).body.status).toBe('verified')
    expect(await svc.db.getRepository(ChallengeEntity).findOneBy({ challenge: staleChallenge.challenge })).toBeNull()
    const rateKeys = (await svc.db.query('SELECT "key" FROM "medcred_rate_limit" WHERE "key" LIKE \'prune:%\'')).map((r: { key: string }) => r.key)
    expect(rateKeys).toEqual(['prune:now'])

    // What was pruned is refused as before (never a 5xx); what was kept still works.
    expect((await wallet.fetch(new URL(staleOffer.offer).searchParams.get('credential_offer_uri')!)).status).toBe(400)
    expect(await wallet.receive(liveOffer.offer)).toMatch(/^ey/)
    expect((await wallet.answer(liveRequest.request, [license])).reply.status).toBe(200)
    expect((await svc.api.get(`/oid4vp/requests/${liveRequest.id}`, hospital.apiKey)).body.status).toBe('verified')
    const answer = async (c: { challenge: string; domain: string }) =>
      svc.api.post('/verifications', { verifiablePresentation: await wallet.presentation([license], { aud: c.domain, nonce: c.challenge }), challenge: c.challenge, domain: c.domain, purpose: 'onboarding' }, hospital.apiKey)
    const live = await answer(liveChallenge)
    expect(live.status, JSON.stringify(live.body)).toBe(201)
    const late = await answer(staleChallenge)
    expect(late.status, JSON.stringify(late.body)).toBe(400)
    expect(late.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ check: 'challenge' })]))
    expect((await fetch(`${svc.url}/web/office`, { headers: { cookie: liveSession.cookie } })).status).toBe(200)
    expect((await fetch(`${svc.url}/web/office`, { headers: { cookie: staleSession.cookie } })).status).toBe(401)
    const redeemed = await signInLink(liveLink)
    expect(redeemed.status).toBe(303)
    expect(sessionCookieOf(redeemed)).not.toBe('')
    expect((await signInLink(staleLink)).status).toBe(401)

    const report = await checkTrail(svc)
    expect(report.problems).toEqual([])
    expect(report.ok).toBe(true)
  })

  it('deletes in bounded batches: a run stops after its last batch, the next one goes on', async () => {
    const nonces = svc.db.getRepository(NonceEntity)
    await svc.store.transaction((m) =>
      m.getRepository(NonceEntity).insert(Array.from({ length: 7 }, (_, i) => ({ nonceHash: sha256(`batch-${i}`), issuerInstitutionId: board.id, expiresAt: ago(LONG_AGO), usedAt: null }))),
    )
    const { log } = capturingLog()
    const rules = svc.pruner.rules.filter((r) => r.name === 'oid4vci-nonce')
    const pruner = new Pruner({ db: svc.store, rules, log, intervalMs: 86_400_000, graceMs: 60_000, batchSize: 2, maxBatchesPerRun: 2 })
    expect((await pruner.pruneOnce()).deleted['oid4vci-nonce']).toBe(4)
    expect((await pruner.pruneOnce()).deleted['oid4vci-nonce']).toBe(3)
    expect((await pruner.pruneOnce()).deleted['oid4vci-nonce']).toBe(0)
    for (let i = 0; i < 7; i++) expect(await nonces.findOneBy({ nonceHash: sha256(`batch-${i}`) })).toBeNull()
  })

  it('survives a database error: the failing rule is logged and tried again, the other rules still run, the timer goes on', async () => {
    await svc.store.transaction((m) => m.getRepository(NonceEntity).insert({ nonceHash: sha256('after-error'), issuerInstitutionId: board.id, expiresAt: ago(LONG_AGO), usedAt: null }))
    const broken: PruneRule = { name: 'broken', table: 'medcred_no_such_table', key: 'id', where: '"expiresAt" < $1', params: (c) => [c.toISOString()] }
    const { errors, log } = capturingLog()
    const pruner = new Pruner({ db: svc.store, rules: [broken, ...svc.pruner.rules], log, intervalMs: 86_400_000, graceMs: 60_000 })
    const summary = await pruner.pruneOnce()
    expect(summary.failed).toEqual(['broken'])
    expect(summary.deleted['oid4vci-nonce']).toBe(1)
    expect(errors).toEqual([expect.objectContaining({ message: expect.stringContaining('pruning expired rows failed'), rule: 'broken' })])

    // A database that is gone altogether: every rule fails, every run, and the timer keeps running.
    const ds = await openAtMigrations(svc.database.url, svc.dataDir, [])
    const gone = new Database(ds)
    await ds.destroy()
    const down = capturingLog()
    const onDown = new Pruner({ db: gone, rules: svc.pruner.rules, log: down.log, intervalMs: 20, graceMs: 0 })
    onDown.start()
    await waitFor('two failed runs', async () => down.errors.length >= 2 * svc.pruner.rules.length, 10_000)
    await onDown.stop()
    expect(new Set(down.errors.map((e) => e.rule))).toEqual(new Set(svc.pruner.rules.map((r) => r.name)))
    expect((await onDown.pruneOnce()).failed).toEqual(svc.pruner.rules.map((r) => r.name))
    // The service itself never noticed.
    expect((await svc.api.get('/health')).status).toBe(200)
  })

  it('runs in the background of the worker that runs background jobs, every PRUNE_INTERVAL_SECONDS', async () => {
    const other = await startTestService({ env: { PRUNE_GRACE_SECONDS: '0', PRUNE_INTERVAL_SECONDS: '1' } })
    try {
      const session = await signInPage(other.url, other.secrets.adminToken)
      const tokenHash = sha256(session.cookie.split('=')[1])
      const sessions = other.db.getRepository(WebSessionEntity)
      await sessions.update({ tokenHash }, { expiresAt: ago(1) })
      await waitFor('the expired session pruned', async () => (await sessions.findOneBy({ tokenHash })) === null, 10_000)
    } finally {
      await other.dispose()
    }
  }, 60_000)
})
