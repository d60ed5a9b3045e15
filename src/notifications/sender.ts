import http from 'node:http'
import https from 'node:https'
import type { LookupFunction } from 'node:net'
import type { ResolvedAddress } from './url-guard.js'

export type PostOutcome = { ok: true; status: number } | { ok: false; status?: number; error: string }

/**
 * A lookup that answers with addresses already checked, so the socket connects to exactly what the guard
 * allowed; a second DNS answer (a rebinding attack) is never asked for. Node calls it with `all: true` when
 * it races address families (the default on Node 20), else for one address.
 */
function pinnedLookup(addresses: ResolvedAddress[]): LookupFunction {
  return ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, addresses.map((a) => ({ address: a.address, family: a.family })))
    else callback(null, addresses[0].address, addresses[0].family)
  }) as LookupFunction
}

/**
 * POSTs `body` to `url`, connecting only to `addresses`, within `timeoutMs` for the whole exchange.
 * TLS still checks the certificate against the URL's host name. Redirects are not followed (a 3xx is a
 * failure): following one would send the payload to a target nobody checked.
 */
export function postJson(
  url: URL,
  addresses: ResolvedAddress[],
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<PostOutcome> {
  return new Promise((resolve) => {
    const client = url.protocol === 'https:' ? https : http
    let settled = false
    const finish = (outcome: PostOutcome) => {
      if (!settled) {
        settled = true
        resolve(outcome)
      }
    }
    const req = client.request(
      {
        method: 'POST',
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
        lookup: pinnedLookup(addresses),
        // A fresh connection per attempt: no pooled socket outlives the address check it was made under.
        agent: false,
      },
      (res) => {
        const status = res.statusCode ?? 0
        // Receivers' replies are not read: drain and forget, but stay within the time bound.
        res.resume()
        res.on('end', () => clearTimeout(timer))
        finish(status >= 200 && status < 300 ? { ok: true, status } : { ok: false, status, error: `HTTP ${status}` })
      },
    )
    const timer = setTimeout(() => req.destroy(new Error(`no response within ${timeoutMs} ms`)), timeoutMs)
    req.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      finish({ ok: false, error: e.code ? `${e.code}: ${e.message}` : e.message })
    })
    req.end(body)
  })
}
