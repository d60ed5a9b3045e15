import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import { AppError } from '../errors.js'
import { classifyAddress } from './ip-ranges.js'

export interface ResolvedAddress {
  address: string
  family: 4 | 6
}

/** Host name → every address it resolves to (injectable so tests can play a rebinding DNS server). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>

/** getaddrinfo, as a connection would resolve (honours /etc/hosts, so `localhost` is caught too). */
export const systemResolver: Resolver = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }))

const MAX_URL_LENGTH = 2048

function reject(detail: string): never {
  throw new AppError('invalid-webhook-url', detail)
}

/**
 * Decides whether the service may call a webhook URL: https to public addresses only; loopback (over http
 * or https) only when `allowLoopback` is set, as in development and tests. Checked at registration, and again
 * before every delivery with the addresses the connection then uses (see sender.ts), so a host name that
 * later resolves somewhere private (DNS rebinding) gets nothing.
 */
export class WebhookUrlGuard {
  private readonly resolve: Resolver

  constructor(private readonly opts: { allowLoopback: boolean; resolve?: Resolver }) {
    this.resolve = opts.resolve ?? systemResolver
  }

  /** The checks that need no DNS: shape, scheme, no credentials. Returns the URL without its fragment. */
  parse(raw: string): URL {
    if (raw.length > MAX_URL_LENGTH) reject(`the URL is longer than ${MAX_URL_LENGTH} characters`)
    let url: URL
    try {
      url = new URL(raw)
    } catch {
      reject('not an absolute URL')
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') reject(`the URL must use https, not ${url.protocol.replace(':', '')}`)
    if (url.protocol === 'http:' && !this.opts.allowLoopback) reject('the URL must use https')
    if (url.username || url.password) reject('the URL must not carry credentials; verify the signature instead')
    if (!url.hostname) reject('the URL has no host')
    url.hash = ''
    return url
  }

  /** Every address `url` reaches, each one allowed; throws `invalid-webhook-url` otherwise. */
  async addresses(url: URL): Promise<ResolvedAddress[]> {
    const host = url.hostname.replace(/^\[|\]$/g, '')
    const family = isIP(host)
    let addresses: ResolvedAddress[]
    if (family) addresses = [{ address: host, family: family as 4 | 6 }]
    else {
      try {
        addresses = await this.resolve(host)
      } catch (e) {
        reject(`the host ${host} does not resolve (${(e as NodeJS.ErrnoException).code ?? 'lookup failed'})`)
      }
      if (addresses.length === 0) reject(`the host ${host} does not resolve`)
    }
    // Every address, not just the first: the connection may use any of them.
    for (const { address } of addresses) {
      const cls = classifyAddress(address)
      if (cls === 'loopback' && this.opts.allowLoopback) continue
      if (cls) reject(`the host ${host} is or resolves to a ${cls} address (${address}); webhooks go to public addresses only`)
      if (url.protocol === 'http:') reject('the URL must use https (http is allowed for loopback addresses in development only)')
    }
    return addresses
  }

  /** The registration check: the normalised URL, once every address it resolves to is allowed. */
  async check(raw: string): Promise<string> {
    const url = this.parse(raw)
    await this.addresses(url)
    return url.href
  }
}
