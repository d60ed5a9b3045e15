import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

/** The header that carries the signature: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export const SIGNATURE_HEADER = 'Medcred-Signature'

/** A new signing secret: 256 random bits behind a prefix that makes a leaked one easy to spot. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`
}

function hmac(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex')
}

/**
 * Signs a payload. The timestamp is inside the MAC so a receiver can refuse replays of old deliveries;
 * each retry is signed afresh with its own time over the same body.
 */
export function signPayload(secret: string, body: string, timestamp = Math.floor(Date.now() / 1000)): string {
  return `t=${timestamp},v1=${hmac(secret, timestamp, body)}`
}

/**
 * What a receiver does (exported for receivers written in TypeScript, and for the tests): true when `header`
 * holds a v1 signature of `body` under `secret` made within `toleranceSeconds` of now.
 */
export function verifySignature(secret: string, body: string, header: string, toleranceSeconds = 300, now = Date.now()): boolean {
  const parts = new Map<string, string[]>()
  for (const item of header.split(',')) {
    const [k, v] = item.split('=', 2).map((s) => s.trim())
    if (k && v) parts.set(k, [...(parts.get(k) ?? []), v])
  }
  const t = Number(parts.get('t')?.[0])
  if (!Number.isInteger(t) || Math.abs(now / 1000 - t) > toleranceSeconds) return false
  const expected = Buffer.from(hmac(secret, t, body), 'hex')
  return (parts.get('v1') ?? []).some((v) => {
    const given = Buffer.from(v, 'hex')
    return given.length === expected.length && timingSafeEqual(given, expected)
  })
}
