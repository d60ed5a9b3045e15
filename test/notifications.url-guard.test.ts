import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AppError } from '../src/errors.js'
import { classifyAddress } from '../src/notifications/ip-ranges.js'
import { postJson } from '../src/notifications/sender.js'
import { WebhookUrlGuard, type ResolvedAddress, type Resolver } from '../src/notifications/url-guard.js'
import { WebhookListener } from './helpers/webhook-listener.js'

/** A DNS server under the test's control: answers change between calls, as in a rebinding attack. */
function scriptedResolver(answers: Record<string, ResolvedAddress[][]>): Resolver {
  return async (host) => {
    const queue = answers[host]
    if (!queue?.length) throw Object.assign(new Error(`no such host ${host}`), { code: 'ENOTFOUND' })
    return queue.length > 1 ? queue.shift()! : queue[0]
  }
}

const v4 = (address: string): ResolvedAddress => ({ address, family: 4 })
const v6 = (address: string): ResolvedAddress => ({ address, family: 6 })

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (e) {
    if (e instanceof AppError) return `${e.code}: ${e.detail}`
    throw e
  }
  return 'accepted'
}

describe('classifyAddress', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.1.2', 'loopback'],
    ['::1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.0.10', 'private'],
    ['100.64.0.1', 'shared'],
    ['169.254.169.254', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fd00::1', 'unique-local'],
    ['fc12:3456::1', 'unique-local'],
    ['224.0.0.251', 'multicast'],
    ['ff02::1', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['255.255.255.255', 'reserved'],
    ['192.0.2.7', 'documentation'],
    ['2001:db8::1', 'documentation'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:a00:1', 'private'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['2002:7f00:1::1', 'reserved'],
    ['[::1]', 'loopback'],
    ['fe80::1%eth0', 'link-local'],
  ])('%s is %s', (ip, cls) => {
    expect(classifyAddress(ip)).toBe(cls)
  })

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808'])('%s is public', (ip) => {
    expect(classifyAddress(ip)).toBeUndefined()
  })

  it('throws for something that is not an address', () => {
    expect(() => classifyAddress('example.com')).toThrow(TypeError)
  })
})

describe('WebhookUrlGuard', () => {
  const strict = (answers: Record<string, ResolvedAddress[][]> = {}) => new WebhookUrlGuard({ allowLoopback: false, resolve: scriptedResolver(answers) })

  it('accepts https to a host whose every address is public, and drops the fragment', async () => {
    const guard = strict({ 'hooks.example': [[v4('93.184.216.34'), v6('2606:2800:220:1::1')]] })
    expect(await guard.check('https://hooks.example/medcred?x=1#frag')).toBe('https://hooks.example/medcred?x=1')
  })

  it.each([
    ['https://private.example/', [v4('10.0.0.8')], /private address \(10\.0\.0\.8\)/],
    ['https://meta.example/', [v4('169.254.169.254')], /link-local/],
    ['https://mixed.example/', [v4('93.184.216.34'), v4('192.168.1.1')], /private address \(192\.168\.1\.1\)/],
    ['https://ula.example/', [v6('fd12::1')], /unique-local/],
    ['https://lo.example/', [v4('127.0.0.1')], /loopback/],
    ['https://mapped.example/', [v6('::ffff:10.0.0.1')], /private/],
  ])('rejects %s (resolves to %j) with invalid-webhook-url', async (url, addresses, detail) => {
    const host = new URL(url).hostname
    const result = await codeOf(strict({ [host]: [addresses] }).check(url))
    expect(result).toMatch(/^invalid-webhook-url: /)
    expect(result).toMatch(detail)
  })

  it('rejects a host that does not resolve', async () => {
    expect(await codeOf(strict().check('https://nowhere.example/'))).toMatch(/^invalid-webhook-url: .*does not resolve \(ENOTFOUND\)/)
  })

  it('sees a rebinding host: public at registration, private at delivery', async () => {
    const guard = strict({ 'rebind.example': [[v4('93.184.216.34')], [v4('10.0.0.1')]] })
    await expect(guard.check('https://rebind.example/hook')).resolves.toBe('https://rebind.example/hook')
    const atDelivery = await codeOf(guard.addresses(guard.parse('https://rebind.example/hook')))
    expect(atDelivery).toMatch(/^invalid-webhook-url: .*private address \(10\.0\.0\.1\)/)
  })

  it('allows loopback only with allowLoopback, and http only to loopback', async () => {
    const dev = new WebhookUrlGuard({ allowLoopback: true, resolve: scriptedResolver({ 'pub.example': [[v4('93.184.216.34')]] }) })
    await expect(dev.check('http://127.0.0.1:9/hook')).resolves.toBe('http://127.0.0.1:9/hook')
    await expect(dev.check('https://[::1]/hook')).resolves.toBe('https://[::1]/hook')
    expect(await codeOf(dev.check('http://pub.example/hook'))).toMatch(/^invalid-webhook-url: the URL must use https/)
    expect(await codeOf(dev.check('http://10.0.0.1/hook'))).toMatch(/^invalid-webhook-url: .*private/)
    expect(await codeOf(strict().check('http://127.0.0.1:9/hook'))).toBe('invalid-webhook-url: the URL must use https')
  })

  it.each([
    ['ftp://93.184.216.34/x', /must use https, not ftp/],
    ['https://user:pw@93.184.216.34/', /must not carry credentials/],
    ['/relative/path', /not an absolute URL/],
    [`https://a.example/${'x'.repeat(2100)}`, /longer than 2048/],
  ])('rejects %s before any DNS lookup', async (url, detail) => {
    const result = await codeOf(strict().check(url))
    expect(result).toMatch(/^invalid-webhook-url: /)
    expect(result).toMatch(detail)
  })
})

describe('postJson connects to the checked address, not a fresh DNS answer', () => {
  let listener: WebhookListener
  beforeAll(async () => {
    listener = await WebhookListener.start()
  })
  afterAll(() => listener.close())

  it('reaches the pinned address while keeping the URL host in the Host header', async () => {
    // "pinned.invalid" cannot resolve in real DNS: reaching the listener proves the checked address was used.
    const url = new URL(`http://pinned.invalid:${listener.port}/hook?q=1`)
    const outcome = await postJson(url, [v4('127.0.0.1')], '{"a":1}', { 'x-test': 'yes' }, 2000)
    expect(outcome).toEqual({ ok: true, status: 200 })
    const [req] = await listener.waitForRequests(1)
    expect(req.path).toBe('/hook?q=1')
    expect(req.headers.host).toBe(`pinned.invalid:${listener.port}`)
    expect(req.headers['content-type']).toBe('application/json')
    expect(req.body).toBe('{"a":1}')
  })

  it('reports a non-2xx as a failure with the status, and does not follow redirects', async () => {
    listener.answer(302, 503)
    const url = new URL(`${listener.url()}`)
    expect(await postJson(url, [v4('127.0.0.1')], '{}', {}, 2000)).toEqual({ ok: false, status: 302, error: 'HTTP 302' })
    expect(await postJson(url, [v4('127.0.0.1')], '{}', {}, 2000)).toEqual({ ok: false, status: 503, error: 'HTTP 503' })
  })

  it('gives up on a receiver that does not answer within the timeout', async () => {
    listener.answer('hang')
    const started = Date.now()
    const outcome = await postJson(new URL(listener.url()), [v4('127.0.0.1')], '{}', {}, 200)
    expect(outcome).toMatchObject({ ok: false, error: 'no response within 200 ms' })
    expect(Date.now() - started).toBeLessThan(2000)
  })

  it('reports a refused connection', async () => {
    const outcome = await postJson(new URL('http://127.0.0.1:1/hook'), [v4('127.0.0.1')], '{}', {}, 2000)
    expect(outcome).toMatchObject({ ok: false, error: expect.stringMatching(/^ECONNREFUSED/) })
  })
})
