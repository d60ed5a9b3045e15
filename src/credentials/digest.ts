import { createHash } from 'node:crypto'

/**
 * Identifies a JWT credential by its signed payload, not by the JWT string: ECDSA signatures are malleable,
 * so one credential has several valid JWT strings, all with the same payload.
 */
export function credentialDigest(jwt: string): string {
  const payload = jwt.split('.')[1] ?? ''
  return createHash('sha256').update(Buffer.from(payload, 'base64url')).digest('hex')
}
