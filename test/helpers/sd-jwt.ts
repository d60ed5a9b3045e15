import { createPublicKey, verify } from 'node:crypto'
import { SigningKey } from 'ethers'
import type { TestService } from './service.js'
import { patientIdentityCredential } from './fixtures.js'

export const PATIENT_NAME = 'Sam Patient'
export const PATIENT_BIRTH_DATE = '1984-03-09'

/** Issues a PatientIdentityCredential as an SD-JWT VC to `subjectDid` through the HTTP API. */
export async function issueSdJwt(svc: TestService, apiKey: string, subjectDid: string, overrides: Record<string, unknown> = {}): Promise<string> {
  const credential = patientIdentityCredential(subjectDid, overrides)
  ;(credential.credentialSubject as Record<string, unknown>).address = { locality: 'Austin', region: 'TX', country: 'US' }
  const res = await svc.api.post('/credentials/issue', { credential, options: { format: 'dc+sd-jwt' } }, apiKey)
  if (res.status !== 201) throw new Error(`SD-JWT issuance failed: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body.verifiableCredential as string
}

export const b64json = (s: string) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'))
export const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')

/** Header and payload of a compact JWS. */
export function decodeJws(jwt: string): { header: any; payload: any } {
  const [h, p] = jwt.split('.')
  return { header: b64json(h), payload: b64json(p) }
}

/** The claim name of each disclosure in an SD-JWT. */
export function disclosedNames(sdJwt: string): string[] {
  return sdJwt.split('~').slice(1, -1).map((d) => b64json(d)[1])
}

/**
 * An issuer-signature verifier for the `@sd-jwt` libraries, independent of medcred's verification code:
 * the key named by the JWS `kid`, read from medcred's DID resolution endpoint, checked with node:crypto.
 */
export function didJwsVerifier(svc: TestService) {
  return async (data: string, signature: string): Promise<boolean> => {
    const { header, payload } = decodeJws(`${data}.x`)
    const did = String(header.kid).split('#')[0]
    if (did !== payload.iss) return false
    const res = await svc.api.get(`/1.0/identifiers/${encodeURIComponent(did)}`)
    const method = res.body.didDocument.verificationMethod.find((m: any) => m.id === header.kid)
    if (!method?.publicKeyHex) return false
    const uncompressed = SigningKey.computePublicKey(`0x${method.publicKeyHex}`, false).slice(4)
    const jwk = {
      kty: 'EC',
      crv: 'secp256k1',
      x: Buffer.from(uncompressed.slice(0, 64), 'hex').toString('base64url'),
      y: Buffer.from(uncompressed.slice(64), 'hex').toString('base64url'),
    }
    return verify('sha256', Buffer.from(data), { key: createPublicKey({ key: jwk, format: 'jwk' }), dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'))
  }
}

/** Fails when any captured log line holds one of `values` (a test patient's name, birth date, identifier). */
export function expectNoneIn(lines: string[], values: string[]): void {
  const text = lines.join('\n')
  const found = values.filter((v) => text.includes(v))
  if (found.length) throw new Error(`patient data in the logs: ${found.length} value(s) found`)
}
