import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestService, type TestService } from './helpers/service.js'

describe('the HTTP edge: health, unknown routes, limits', () => {
  let svc: TestService
  beforeAll(async () => {
    svc = await startTestService({ env: { RATE_LIMIT_PER_MINUTE: '40' } })
  })
  afterAll(() => svc?.dispose())

  it('reports health with the database and the chain', async () => {
    const res = await svc.api.get('/health')
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      status: 'ok',
      db: 'ok',
      chain: { chainId: 31337, registry: svc.chain.registry, blockNumber: expect.any(Number), status: 'ok' },
    })
  })

  it('answers an unknown route with a 404 problem and a wrong method with 405', async () => {
    const missing = await svc.api.get('/nope')
    expect(missing.status).toBe(404)
    expect(missing.type).toBe('application/problem+json')
    expect(missing.body).toMatchObject({ type: 'https://medcred.dev/problems/not-found', status: 404, instance: '/nope' })
    const wrongMethod = await svc.api.request('DELETE', '/credentials/issue')
    expect(wrongMethod.status).toBe(405)
    expect(wrongMethod.type).toBe('application/problem+json')
  })

  it('echoes a request id, and puts it in problems', async () => {
    const res = await svc.api.request('GET', '/nope', { headers: { 'x-request-id': 'trace-123' } })
    expect(res.headers.get('x-request-id')).toBe('trace-123')
    expect(res.body.requestId).toBe('trace-123')
  })

  it('rejects a malformed Authorization header with 401', async () => {
    const res = await svc.api.request('GET', '/health', { headers: { authorization: 'Basic abc' } })
    expect(res.status).toBe(401)
  })

  it('limits the request rate per client with a 429 problem and Retry-After', async () => {
    let limited
    for (let i = 0; i < 60 && !limited; i++) {
      const res = await svc.api.request('GET', '/health', { headers: { authorization: 'Bearer rate-test-token-that-is-unknown' } })
      if (res.status === 429) limited = res
    }
    expect(limited).toBeDefined()
    expect(limited!.type).toBe('application/problem+json')
    expect(limited!.body.type).toBe('https://medcred.dev/problems/rate-limited')
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0)
  })
})
