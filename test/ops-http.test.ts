import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HolderWallet } from '../src/holder/wallet.js'
import { licenseCredential, tamperJwt } from './helpers/fixtures.js'
import { startTestService, type TestService } from './helpers/service.js'

const METRICS_TOKEN = 'scraper-token-0123456789abcdef'
const ORIGIN = 'https://office.example.org'

/** Metrics, health, logs and the HTTP edge (headers, CORS, caching) of a real service. */
describe('operating medcred over HTTP', () => {
  let svc: TestService
  beforeAll(async () => {
    svc = await startTestService({ env: { METRICS_TOKEN, CORS_ORIGINS: ORIGIN } })
  })
  afterAll(async () => svc?.dispose())

  const scrape = async (token = svc.secrets.adminToken) => {
    const res = await fetch(`${svc.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })
    return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() }
  }
  const value = (text: string, name: string, labels: Record<string, string> = {}): number => {
    const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`)
    const line = text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `) ? want.every((w) => l.includes(w)) : false)
    return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0
  }

  it('counts an issuance and a verification (passed and failed, by check) in /metrics', async () => {
    const before = (await scrape()).text
    const board = await svc.api.createTrustedBoard('Metrics Board')
    const holder = await HolderWallet.create()
    const issued = await svc.api.post('/credentials/issue', { credential: licenseCredential(holder.did) }, board.apiKey)
    expect(issued.status).toBe(201)
    const jwt = issued.body.verifiableCredential.proof.jwt as string
    expect((await svc.api.post('/credentials/verify', { verifiableCredential: jwt })).status).toBe(200)
    expect((await svc.api.post('/credentials/verify', { verifiableCredential: tamperJwt(jwt, 2) })).status).toBe(400)

    const after = await scrape()
    expect(after.status).toBe(200)
    expect(after.type).toMatch(/^text\/plain/)
    const t = after.text
    expect(value(t, 'medcred_credentials_issued_total', { via: 'api' }) - value(before, 'medcred_credentials_issued_total', { via: 'api' })).toBe(1)
    expect(value(t, 'medcred_verifications_total', { kind: 'credential', outcome: 'success' })).toBe(value(before, 'medcred_verifications_total', { kind: 'credential', outcome: 'success' }) + 1)
    expect(value(t, 'medcred_verifications_total', { kind: 'credential', outcome: 'failure' })).toBe(value(before, 'medcred_verifications_total', { kind: 'credential', outcome: 'failure' }) + 1)
    const checkLines = t.split('\n').filter((l) => l.startsWith('medcred_verification_failed_checks_total{') && l.includes('kind="credential"'))
    expect(checkLines.length).toBeGreaterThanOrEqual(1)
    // Per route pattern, never the raw path.
    expect(value(t, 'medcred_http_requests_total', { route: '/credentials/issue', status: '201' })).toBeGreaterThanOrEqual(1)
    expect(t).toContain('medcred_http_request_duration_seconds_bucket{')
    expect(t).not.toContain(board.id)
    for (const name of ['medcred_audit_unanchored_events', 'medcred_audit_oldest_unanchored_seconds', 'medcred_webhook_deliveries', 'medcred_chain_block_age_seconds', 'medcred_chain_rpc_errors_total', 'medcred_db_pool_connections']) {
      expect(t).toContain(`# TYPE ${name} `)
    }
    expect(value(t, 'medcred_audit_unanchored_events')).toBeGreaterThanOrEqual(1)
  })

  it('reads /metrics with METRICS_TOKEN, refuses anonymous, wrong tokens and institution keys', async () => {
    expect((await scrape(METRICS_TOKEN)).status).toBe(200)
    const anonymous = await svc.api.get('/metrics')
    expect(anonymous.status).toBe(401)
    expect(anonymous.type).toBe('application/problem+json')
    expect((await scrape('not-the-metrics-token-at-all-xx')).status).toBe(401)
    const hospital = await svc.api.createInstitution({ name: 'Scrape Hospital', kind: 'hospital' })
    expect((await scrape(hospital.apiKey)).status).toBe(401)
  })

  it('answers /health/live, /health/ready (database, chain, migrations) and /health', async () => {
    const live = await svc.api.get('/health/live')
    expect(live.status).toBe(200)
    expect(live.body.status).toBe('ok')
    const ready = await svc.api.get('/health/ready')
    expect(ready.status).toBe(200)
    expect(ready.body).toMatchObject({ status: 'ok', db: 'ok', migrations: 'ok', chain: { status: 'ok' } })
    expect((await svc.api.get('/health')).body.migrations).toBe('ok')
  })

  it('sets helmet security headers and the API CSP on every reply, problems included', async () => {
    for (const res of [await svc.api.get('/health'), await svc.api.get('/no/such/path')]) {
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'")
      expect(res.headers.get('x-content-type-options')).toBe('nosniff')
      expect(res.headers.get('strict-transport-security')).toMatch(/max-age=/)
      expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN')
      expect(res.headers.get('x-powered-by')).toBeNull()
    }
  })

  it('keeps CORS closed except for configured origins', async () => {
    const pre = (origin: string) => fetch(`${svc.url}/credentials/verify`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } })
    const allowed = await pre(ORIGIN)
    expect(allowed.status).toBe(204)
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ORIGIN)
    const other = await pre('https://evil.example.com')
    expect(other.headers.get('access-control-allow-origin')).toBeNull()
    const get = await svc.api.request('GET', '/health', { headers: { origin: 'https://evil.example.com' } })
    expect(get.headers.get('access-control-allow-origin')).toBeNull()
  })

  it('defaults replies to no-store; cacheable routes revalidate with an ETag (304)', async () => {
    const board = await svc.api.createInstitution({ name: 'Cache Board', kind: 'board', jurisdiction: 'US-TX' })
    expect((await svc.api.get(`/institutions/${board.id}`, svc.secrets.adminToken)).headers.get('cache-control')).toBe('no-store')
    expect((await svc.api.get('/nothing-here')).headers.get('cache-control')).toBe('no-store')
    const holder = await HolderWallet.create()
    const issued = await svc.api.post('/credentials/issue', { credential: licenseCredential(holder.did) }, board.apiKey)
    const listUrl = new URL(issued.body.verifiableCredential.credentialStatus[0].statusListCredential as string).pathname
    const first = await svc.api.get(listUrl)
    expect(first.status).toBe(200)
    const etag = first.headers.get('etag')!
    expect(etag).toBeTruthy()
    expect(first.headers.get('cache-control')).toContain('no-cache')
    expect((await svc.api.request('GET', listUrl, { headers: { 'if-none-match': etag } })).status).toBe(304)
  })

  it('logs one JSON line per request with request id, route pattern, status, duration and institution', async () => {
    const board = await svc.api.createInstitution({ name: 'Log Board', kind: 'board', jurisdiction: 'US-TX' })
    await svc.api.request('GET', `/institutions/${board.id}`, { token: board.apiKey, headers: { 'x-request-id': 'log-probe-1' } })
    const line = svc.logs.map((l) => JSON.parse(l)).find((l) => l.requestId === 'log-probe-1' && l.message === 'request')
    expect(line).toMatchObject({ level: 'info', method: 'GET', route: '/institutions/:id', status: 200, institutionId: board.id, service: 'medcred' })
    expect(typeof line.durationMs).toBe('number')
    expect(typeof line.time).toBe('string')
  })
})
