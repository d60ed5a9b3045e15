/** VC 2.0 helpers for tests: a license in VC 2.0 vocabulary, and the JWT an envelope carries. */
import { licenseCredential } from './fixtures.js'

export const VC_V2 = 'https://www.w3.org/ns/credentials/v2'

/** A ClinicianLicenseCredential as a VC 2.0 issuer sends it (`validUntil`, no VC 1.1 dates). */
export function licenseCredentialV2(subjectDid: string, issuerDid: string, overrides: Record<string, unknown> = {}) {
  const { expirationDate, '@context': _v1, ...v1 } = licenseCredential(subjectDid, overrides) as Record<string, unknown>
  return { ...v1, '@context': [VC_V2], issuer: issuerDid, validUntil: expirationDate }
}

export function jwtOfEnvelope(envelope: { id: string }): string {
  const prefix = 'data:application/vc+jwt,'
  if (!envelope.id.startsWith(prefix)) throw new Error(`not a vc+jwt envelope: ${envelope.id.slice(0, 40)}`)
  return envelope.id.slice(prefix.length)
}

export function decodePart(jwt: string, part: 0 | 1): any {
  return JSON.parse(Buffer.from(jwt.split('.')[part], 'base64url').toString('utf8'))
}
