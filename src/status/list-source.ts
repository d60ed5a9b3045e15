import { createHash } from 'node:crypto'
import type { DidResolver } from '../did/resolver.js'
import type { StatusService } from './service.js'
import { verifyStatusList, type VerifiedList } from './list-credential.js'
import { verifyStatusListToken, type VerifiedToken } from './token-status-check.js'
import type { TokenStatusLists } from './token-status-list.js'

export interface StatusFetchPolicy {
  /** Hosts whose status lists may be fetched over https. */
  allowedHosts: string[]
  /** Development and tests: also fetch from loopback addresses, over http too. */
  allowLoopback: boolean
  timeoutMs: number
  maxBytes: number
}

export type ListLookup = { ok: true; list: VerifiedList } | { ok: false; reason: string }
export type TokenLookup = { ok: true; token: VerifiedToken } | { ok: false; reason: string }

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1'])

/**
 * Where status list credentials come from: our own lists straight from the database (always their
 * current version), anyone else's over HTTP under a fetch policy, since a `statusListCredential` URL is
 * attacker-chosen. A verified list is cached by the digest of its JWT, so each version is checked once.
 */
export class StatusListSource {
  private readonly verified = new Map<string, VerifiedList>()
  /** Our own lists: the last version verified of each. */
  private readonly local = new Map<string, { version: number; list: VerifiedList }>()
  private readonly remote = new Map<string, { etag: string; jwt: string }>()
  private readonly verifiedTokens = new Map<string, VerifiedToken>()

  constructor(private readonly deps: { status: StatusService; tokenLists?: TokenStatusLists; resolver: DidResolver; policy: StatusFetchPolicy }) {}

  /**
   * An IETF Status List Token (`status.status_list.uri` of an SD-JWT VC): ours from the database, anyone
   * else's under the same fetch policy as the W3C lists; verified once per version.
   */
  async loadToken(uri: string): Promise<TokenLookup> {
    const localId = this.deps.tokenLists?.localListId(uri)
    let jwt: string
    if (localId !== undefined) {
      const published = await this.deps.tokenLists!.published(localId)
      if (!published) return { ok: false, reason: `status list ${uri} does not exist` }
      jwt = published.jwt
    } else {
      const fetched = await this.fetchRemote(uri, 'application/statuslist+jwt', (text) => (/^[\w-]+\.[\w-]+\.[\w-]+$/.test(text.trim()) ? text.trim() : undefined))
      if (!fetched.ok) return fetched
      jwt = fetched.jwt
    }
    const key = createHash('sha256').update(jwt).digest('hex')
    const cached = this.verifiedTokens.get(key)
    if (cached) return { ok: true, token: cached }
    const result = await verifyStatusListToken(jwt, uri, this.deps.resolver)
    if (result.ok) {
      if (this.verifiedTokens.size > 1000) this.verifiedTokens.clear()
      this.verifiedTokens.set(key, result.token)
    }
    return result
  }

  async load(url: string): Promise<ListLookup> {
    const localId = this.deps.status.localListId(url)
    let jwt: string
    if (localId !== undefined) {
      // Our own list: its version is one cheap read, and each version is verified once.
      const version = await this.deps.status.publishedVersion(localId)
      const known = version === undefined ? undefined : this.local.get(localId)
      if (known && known.version === version) return { ok: true, list: known.list }
      const published = await this.deps.status.published(localId)
      if (!published) return { ok: false, reason: `status list ${url} does not exist` }
      const result = await this.verify(published.jwt)
      if (result.ok) this.local.set(localId, { version: published.version, list: result.list })
      return result
    } else {
      const fetched = await this.fetchRemote(url)
      if (!fetched.ok) return fetched
      jwt = fetched.jwt
    }
    return this.verify(jwt)
  }

  private async verify(jwt: string): Promise<ListLookup> {
    const key = createHash('sha256').update(jwt).digest('hex')
    const cached = this.verified.get(key)
    if (cached) return { ok: true, list: cached }
    const result = await verifyStatusList(jwt, this.deps.resolver)
    if (result.ok) {
      if (this.verified.size > 1000) this.verified.clear()
      this.verified.set(key, result.list)
    }
    return result
  }

  private async fetchRemote(
    url: string,
    accept = 'application/vc+jwt, application/jwt, application/json',
    extract: (text: string) => string | undefined = extractJwt,
  ): Promise<{ ok: true; jwt: string } | { ok: false; reason: string }> {
    const { policy } = this.deps
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      return { ok: false, reason: `statusListCredential is not a URL: ${url.slice(0, 200)}` }
    }
    const loopback = LOOPBACK.has(parsed.hostname)
    const allowed =
      (loopback && policy.allowLoopback && (parsed.protocol === 'http:' || parsed.protocol === 'https:')) ||
      (!loopback && parsed.protocol === 'https:' && policy.allowedHosts.includes(parsed.hostname))
    if (!allowed) return { ok: false, reason: `status lists are not fetched from ${parsed.origin} (not an allowed https host)` }

    const previous = this.remote.get(url)
    try {
      const res = await fetch(url, {
        headers: { accept, ...(previous ? { 'if-none-match': previous.etag } : {}) },
        redirect: 'error',
        signal: AbortSignal.timeout(policy.timeoutMs),
      })
      if (res.status === 304 && previous) return { ok: true, jwt: previous.jwt }
      if (!res.ok) return { ok: false, reason: `status list ${url} answered ${res.status}` }
      const text = await readBounded(res, policy.maxBytes)
      const jwt = extract(text)
      if (!jwt) return { ok: false, reason: `status list ${url} did not return a ${accept.split(',')[0].replace('application/', '')}` }
      const etag = res.headers.get('etag')
      if (etag) this.remote.set(url, { etag, jwt })
      return { ok: true, jwt }
    } catch (e) {
      return { ok: false, reason: `status list ${url} could not be fetched: ${(e as Error).message.slice(0, 200)}` }
    }
  }
}

async function readBounded(res: Response, maxBytes: number): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? 0)
  if (declared > maxBytes) throw new Error(`larger than ${maxBytes} bytes`)
  const reader = res.body?.getReader()
  if (!reader) return ''
  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > maxBytes) {
      await reader.cancel()
      throw new Error(`larger than ${maxBytes} bytes`)
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function extractJwt(text: string): string | undefined {
  const trimmed = text.trim()
  if (/^[\w-]+\.[\w-]+\.[\w-]*$/.test(trimmed)) return trimmed
  try {
    const json = JSON.parse(trimmed) as { proof?: { jwt?: unknown } }
    return typeof json.proof?.jwt === 'string' ? json.proof.jwt : undefined
  } catch {
    return undefined
  }
}
