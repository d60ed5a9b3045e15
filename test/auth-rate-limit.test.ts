import { randomBytes } from 'node:crypto'
import http from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MemoryRateCounter, RateLimits } from '../src/api/rate-limit.js'
import { TEST_DB } from './helpers/database.js'
import { startReplicaPair, type ReplicaPair } from './helpers/replicas.js'
import { startTestService, type TestService } from './helpers/service.js'

const LIMITS = { AUTH_FAILURES_PER_MINUTE: '5', RATE_LIMIT_PER_MINUTE: '20' }
const guess = () => `mck_${randomBytes(24).toString('base64url')}`

/** GET `path` from a given local address (all of 127.0.0.0/8 is this machine), with an optional token. */
function getFrom(localAddress: string, url: string, token?: string): Promise<{ status: number; type: string; retryAfter?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { localAddress, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), retryAfter: res.headers['retry-after'] as string | undefined }))
    })
    req.on('error', reject)
  })
}

/** Issue 8, hole 4: each guessed API key got a fresh rate-limit bucket, so guessing was never limited. */
describe('failed authentication is limited per client address', () => {
  let svc: TestService
  let hospital: { apiKey: string }

  beforeAll(async () => {
    svc = await startTestService({ env: LIMITS })
    hospital = await svc.api.createInstitution({ name: 'Hospital', kind: 'hospital' })
  })
  afterAll(() => svc?.dispose())

  it('answers guesses with 429 past the limit, even from an address already limited for anonymous calls', async () => {
    const url = `${svc.url}/health`
    let anonymous
    for (let i = 0; i < 25; i++) anonymous = await getFrom('127.0.0.1', url)
    expect(anonymous!.status).toBe(429)
    const answers = []
    for (let i = 0; i < 30; i++) answers.push(await getFrom('127.0.0.1', url, guess()))
    const statuses = answers.map((a) => a.status)
    expect(new Set(statuses)).toEqual(new Set([401, 429]))
    // Five failures a minute are checked; the rest are refused unchecked (ten if a minute ended meanwhile).
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(10)
    const last = answers.at(-1)!
    expect(last).toMatchObject({ status: 429, type: 'application/problem+json' })
    expect(Number(last.retryAfter)).toBeGreaterThan(0)
    expect(Number(last.retryAfter)).toBeLessThanOrEqual(60)
    // Locked out for the minute: no token from this address is looked at, a real one included.
    expect((await getFrom('127.0.0.1', url, hospital.apiKey)).status).toBe(429)
  })

  it('does not lock out the same institution calling from another address', async () => {
    expect((await getFrom('127.0.0.2', `${svc.url}/health`, hospital.apiKey)).status).toBe(200)
    expect((await getFrom('127.0.0.2', `${svc.url}/health`, guess())).status).toBe(401)
  })

  it("counts an institution's requests by who it is, from whatever address: one bucket of 20 a minute", async () => {
    const statuses = []
    for (let i = 0; i < 25; i++) statuses.push((await getFrom(i % 2 ? '127.0.0.3' : '127.0.0.5', `${svc.url}/health`, hospital.apiKey)).status)
    // It already spent one request from 127.0.0.2 above (two, should a minute end meanwhile).
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(20 + 20)
    expect(statuses.at(-1)).toBe(429)
  })
})

describe('the lockout is bounded', () => {
  it('ends with its window, by itself, and is per address', async () => {
    let now = Date.parse('2026-12-01T10:00:05Z')
    const limits = new RateLimits({ ratePerMinute: 100, authFailuresPerMinute: 3 }, new MemoryRateCounter(), () => now)
    for (let i = 0; i < 3; i++) await limits.authenticationFailed('10.0.0.1')
    await expect(limits.authenticationFailed('10.0.0.1')).rejects.toMatchObject({ code: 'rate-limited', extra: { retryAfter: 55 } })
    expect(() => limits.refuseIfLockedOut('10.0.0.1')).toThrow(/failed authentications/)
    expect(() => limits.refuseIfLockedOut('10.0.0.2')).not.toThrow()
    now += 55_000
    expect(() => limits.refuseIfLockedOut('10.0.0.1')).not.toThrow()
    await expect(limits.authenticationFailed('10.0.0.1')).resolves.toBeUndefined()
  })
})

/** Replicas behind a load balancer count against one limit (PostgreSQL holds the counts). */
describe.runIf(TEST_DB === 'postgres')('failed authentications across two replicas on one PostgreSQL', () => {
  let pair: ReplicaPair
  let a: TestService
  let b: TestService

  beforeAll(async () => {
    pair = await startReplicaPair(LIMITS)
    ;({ a, b } = pair)
  })
  afterAll(() => pair?.dispose())

  it('locks an address out after the limit, whichever replica saw its failures', async () => {
    const statuses = []
    for (let i = 0; i < 12; i++) statuses.push((await getFrom('127.0.0.4', `${(i % 2 ? a : b).url}/health`, guess())).status)
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(10)
    expect(statuses.slice(-2)).toEqual([429, 429])
  })
})

describe("a patient's refused bearer token counts as a failed authentication", () => {
  let svc: TestService
  beforeAll(async () => {
    svc = await startTestService({ env: LIMITS })
  })
  afterAll(() => svc?.dispose())

  it('locks the address out after the limit, as wrong API keys do', async () => {
    const forged = `${Buffer.from('{"alg":"EdDSA"}').toString('base64url')}.${Buffer.from('{"iss":"did:key:z6Mk"}').toString('base64url')}.${'A'.repeat(86)}`
    const statuses = []
    for (let i = 0; i < 12; i++) statuses.push((await getFrom('127.0.0.6', `${svc.url}/consents`, forged)).status)
    expect(new Set(statuses)).toEqual(new Set([401, 429]))
    // Five a minute are checked (ten if a minute ended meanwhile); the rest are refused unchecked.
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(10)
  })
})
