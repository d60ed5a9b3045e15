/** Credential bodies as a board or identity provider would send them. */

export const VALID_NPI = '1234567893'

export function licenseCredential(subjectDid: string, overrides: Record<string, unknown> = {}) {
  const { credentialSubject, ...rest } = overrides
  return {
    '@context': ['https://www.w3.org/2018/credentials/v1'],
    type: ['VerifiableCredential', 'ClinicianLicenseCredential'],
    expirationDate: new Date(Date.now() + 365 * 86400_000).toISOString(),
    credentialSubject: {
      id: subjectDid,
      name: 'Dr. Ada Rivera',
      npi: VALID_NPI,
      licenseNumber: 'Q-48211',
      licenseType: 'MD',
      jurisdiction: 'US-TX',
      status: 'active',
      ...(credentialSubject as object),
    },
    ...rest,
  }
}

export function patientIdentityCredential(subjectDid: string, overrides: Record<string, unknown> = {}) {
  return {
    '@context': ['https://www.w3.org/2018/credentials/v1'],
    type: ['VerifiableCredential', 'PatientIdentityCredential'],
    credentialSubject: {
      id: subjectDid,
      name: 'Sam Patient',
      birthDate: '1984-03-09',
      assuranceLevel: 'IAL2',
      identifiers: [{ system: 'urn:mrn:st-lukes', value: 'MRN-0042' }],
    },
    ...overrides,
  }
}

/** Flips one character of a base64url segment of a JWT, keeping it decodable. */
export function tamperJwt(jwt: string, part: 1 | 2, at = 10): string {
  const segments = jwt.split('.')
  const s = segments[part]
  const c = s[at]
  segments[part] = s.slice(0, at) + (c === 'A' ? 'B' : 'A') + s.slice(at + 1)
  return segments.join('.')
}

/** Changes one character inside the decoded payload JSON (`from` → `to`) and re-encodes it; the signature is kept. */
export function tamperPayload(jwt: string, from: string, to: string): string {
  const [h, p, s] = jwt.split('.')
  const json = Buffer.from(p, 'base64url').toString('utf8')
  if (!json.includes(from)) throw new Error(`payload has no ${from}`)
  return [h, Buffer.from(json.replace(from, to)).toString('base64url'), s].join('.')
}

/** Re-encodes a JWT with a new header and payload, keeping the signature. */
export function reencodeJwt(jwt: string, edit: (header: any, payload: any) => void, signature?: string): string {
  const [h, p, s] = jwt.split('.')
  const header = JSON.parse(Buffer.from(h, 'base64url').toString())
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString())
  edit(header, payload)
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
  return [enc(header), enc(payload), signature ?? s].join('.')
}
