import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

/** 256 bits of randomness, base64url: pre-authorized codes, access tokens, nonces, OAuth `state`. */
export function randomToken(): string {
  return randomBytes(32).toString('base64url')
}

/** High-entropy secrets are stored as this (hex SHA-256) and looked up by it. */
export function sha256Hex(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex')
}

/** Constant-time comparison of a presented secret with a stored hash. */
export function matchesHash(secret: string, storedHash: string): boolean {
  const a = Buffer.from(sha256Hex(secret), 'hex')
  const b = Buffer.from(storedHash, 'hex')
  return a.length === b.length && timingSafeEqual(a, b)
}

/**
 * A secret recomputable from its id with a server key, for a URI that must be shown again later (a receipt
 * offer on `GET /oid4vp/requests/{id}`) while only its hash is stored.
 */
export function derivedToken(key: Buffer, purpose: string, id: string): string {
  return createHmac('sha256', key).update(`${purpose}:${id}`).digest('base64url')
}

/**
 * A keyed hash (hex HMAC-SHA256) for a low-entropy secret, such as a 6-digit tx_code, that a plain hash would
 * not protect: whoever reads the database cannot try all million codes without the server key.
 */
export function keyedHash(key: Buffer, purpose: string, secret: string): string {
  return createHmac('sha256', key).update(`${purpose}:${secret}`).digest('hex')
}

/** Constant-time comparison of two hex hashes. */
export function hashesEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex')
  const y = Buffer.from(b, 'hex')
  return x.length === y.length && timingSafeEqual(x, y)
}
