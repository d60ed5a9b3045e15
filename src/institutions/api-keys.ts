import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

/** A new API key: 256 bits of randomness behind a recognisable prefix (so leaked keys can be spotted). */
export function generateApiKey(): string {
  return `mck_${randomBytes(32).toString('base64url')}`
}

/**
 * Keys are high-entropy random strings, so a plain SHA-256 is a sound at-rest form (no dictionary to try)
 * and lets us look a key up by its hash with an index.
 */
export function hashApiKey(apiKey: string): string {
  return createHash('sha256').update(apiKey, 'utf8').digest('hex')
}

/** Constant-time comparison of two secrets of any length. */
export function secretsEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest()
  const hb = createHash('sha256').update(b).digest()
  return timingSafeEqual(ha, hb)
}
