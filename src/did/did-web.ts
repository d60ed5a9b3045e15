import { readFileSync } from 'node:fs'
import { lookup } from 'node:dns/promises'
import { request } from 'node:https'
import type { DIDDocument, DIDResolutionResult } from 'did-resolver'
import { classifyAddress } from '../notifications/ip-ranges.js'

/** Where did:web documents may be fetched from: the status lists' rule (an allow-list, loopback only in development). */
export interface DidWebPolicy {
  /** Hosts whose did:web documents may be fetched (always over https). */
  allowedHosts: string[]
  /** Development and tests only: also fetch from loopback hosts (still over https). */
  allowLoopback: boolean
  timeoutMs: number
  maxBytes: number
  /** Extra trusted CA certificates (PEM) for these fetches only; never a global TLS change. */
  ca?: string
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1'])

const failed = (error: string, message: string): DIDResolutionResult => ({ didResolutionMetadata: { error, message }, didDocument: null, didDocumentMetadata: {} })

/** The https URL of a did:web document (W3C CCG did:web: `:` separates path segments, `%3A` encodes a port). */
export function didWebUrl(did: string): URL | undefined {
  const [host, ...path] = did.slice('did:web:'.length).split(':')
  if (!host || path.some((p) => !/^[A-Za-z0-9._~%-]+$/.test(p))) return undefined
  try {
    const url = new URL(`https://${decodeURIComponent(host)}`)
    if (url.pathname !== '/' || url.username || url.password) return undefined
    url.pathname = path.length ? `/${path.map(decodeURIComponent).join('/')}/did.json` : '/.well-known/did.json'
    return url
  } catch {
    return undefined
  }
}

/**
 * Resolves a did:web over https under `policy`: the host must be allowed (or loopback, in development),
 * and every address it resolves to public (or loopback, in development); the connection goes to the
 * address checked, so a DNS answer that changes in between gets nothing. The document's `id` must be the DID.
 */
export async function resolveDidWeb(did: string, policy: DidWebPolicy): Promise<DIDResolutionResult> {
  const url = didWebUrl(did)
  if (!url) return failed('invalidDid', `${did.slice(0, 100)} is not a valid did:web`)
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase()
  const loopback = LOOPBACK.has(host)
  if (loopback ? !policy.allowLoopback : !policy.allowedHosts.includes(host)) {
    return failed('notAllowed', `did:web documents are not fetched from ${url.host} (not an allowed host)`)
  }
  let address: { address: string; family: number }
  try {
    const addresses = await lookup(host, { all: true, verbatim: true })
    const refused = addresses.find((a) => {
      const cls = classifyAddress(a.address)
      return cls !== undefined && !(cls === 'loopback' && policy.allowLoopback)
    })
    if (refused || !addresses.length) return failed('notAllowed', `${url.host} resolves to a non-public address`)
    address = addresses[0]
  } catch (e) {
    return failed('notFound', `${url.host} does not resolve: ${(e as Error).message.slice(0, 100)}`)
  }
  let text: string
  try {
    text = await get(url, address, policy)
  } catch (e) {
    return failed('notFound', `the did:web document at ${url.href} could not be fetched: ${(e as Error).message.slice(0, 200)}`)
  }
  let doc: DIDDocument
  try {
    doc = JSON.parse(text)
  } catch {
    return failed('invalidDidDocument', `${url.href} is not JSON`)
  }
  if (!doc || typeof doc !== 'object' || doc.id !== did) return failed('invalidDidDocument', `the document at ${url.href} is not the document of ${did}`)
  return { didResolutionMetadata: { contentType: 'application/did+json' }, didDocument: doc, didDocumentMetadata: {} }
}

function get(url: URL, address: { address: string; family: number }, policy: DidWebPolicy): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'GET',
        headers: { accept: 'application/did+json, application/json' },
        ca: policy.ca,
        timeout: policy.timeoutMs,
        servername: LOOPBACK.has(url.hostname) || /^[\d.:[\]]+$/.test(url.hostname) ? undefined : url.hostname,
        lookup: ((_host: string, opts: { all?: boolean }, cb: (...args: unknown[]) => void) =>
          opts?.all ? cb(null, [{ address: address.address, family: address.family }]) : cb(null, address.address, address.family)) as never,
      },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume()
          reject(new Error(`answered ${res.statusCode}`))
          return
        }
        const chunks: Buffer[] = []
        let total = 0
        res.on('data', (c: Buffer) => {
          total += c.length
          if (total > policy.maxBytes) req.destroy(new Error(`larger than ${policy.maxBytes} bytes`))
          else chunks.push(c)
        })
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
        res.on('error', reject)
      },
    )
    req.on('timeout', () => req.destroy(new Error(`no answer within ${policy.timeoutMs} ms`)))
    req.on('error', reject)
    req.end()
  })
}

/** The did:web fetch policy from configuration: the CA file is read once, at start. */
export function didWebPolicy(config: { allowedHosts: string[]; allowLoopback: boolean; caFile?: string }): DidWebPolicy {
  return {
    allowedHosts: config.allowedHosts,
    allowLoopback: config.allowLoopback,
    timeoutMs: 5000,
    maxBytes: 256 * 1024,
    ca: config.caFile ? readFileSync(config.caFile, 'utf8') : undefined,
  }
}
