import net from 'node:net'
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
      migrations: 'ok',
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

  /** Sends raw bytes and reads the whole answer: Node's parser refuses these before Koa sees them. */
  const raw = (bytes: string) =>
    new Promise<string>((resolve, reject) => {
      const socket = net.connect(svc.port, '127.0.0.1', () => socket.write(bytes))
      let answer = ''
      socket.on('data', (d) => (answer += d))
      socket.on('end', () => resolve(answer))
      socket.on('error', reject)
    })
  const parse = (answer: string) => {
    const [head, body] = answer.split('\r\n\r\n')
    return { statusLine: head.split('\r\n')[0], head: head.toLowerCase(), body: JSON.parse(body) }
  }

  it('answers a request line over the header limit with a 431 problem and the security headers', async () => {
    const res = parse(await raw(`GET /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`))
    expect(res.statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large')
    expect(res.head).toContain('content-type: application/problem+json')
    expect(res.head).toContain('x-content-type-options: nosniff')
    expect(res.body).toMatchObject({ type: 'https://medcred.dev/problems/headers-too-large', status: 431, title: expect.any(String), detail: expect.any(String) })
  })

  it('answers a request Node cannot parse with a 400 problem', async () => {
    const res = parse(await raw('NOT HTTP AT ALL\r\n\r\n'))
    expect(res.statusLine).toMatch(/^HTTP\/1\.1 400/)
    expect(res.body).toMatchObject({ type: 'https://medcred.dev/problems/malformed-request', status: 400 })
  })
})
