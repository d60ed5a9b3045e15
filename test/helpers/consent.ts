import { randomBytes } from 'node:crypto'
import type { HolderWallet } from '../../src/holder/wallet.js'
import type { TestService } from './service.js'

/** A PatientConsentCredential (VC-JWT) signed by the patient's wallet. */
export async function signConsent(
  patient: HolderWallet,
  grantee: string,
  opts: { purposes?: string[]; credentialTypes?: string[]; expiresInSeconds?: number } = {},
): Promise<string> {
  const vc = await patient.selfIssue({
    '@context': ['https://www.w3.org/2018/credentials/v1'],
    type: ['VerifiableCredential', 'PatientConsentCredential'],
    issuanceDate: new Date(Date.now() - 1000).toISOString(),
    expirationDate: new Date(Date.now() + (opts.expiresInSeconds ?? 86_400) * 1000).toISOString(),
    credentialSubject: {
      id: grantee,
      purposes: opts.purposes ?? ['treatment'],
      credentialTypes: opts.credentialTypes ?? ['PatientIdentityCredential'],
    },
  })
  return vc.proof.jwt as string
}

/** The short JWT a patient signs to revoke a consent: names it, with iat and a fresh nonce. */
export function signRevocation(patient: HolderWallet, consentId: string, overrides: Record<string, unknown> = {}): Promise<string> {
  return patient.signJwt({ iss: patient.did, consent_id: consentId, iat: Math.floor(Date.now() / 1000), nonce: randomBytes(16).toString('base64url'), ...overrides })
}

/** A patient's single-use bearer token for medcred (aud = PUBLIC_URL, exp within 5 minutes). */
export function patientBearer(svc: TestService, patient: HolderWallet, overrides: Record<string, unknown> = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  return patient.signJwt({ iss: patient.did, aud: svc.config.publicUrl, iat: now, exp: now + 120, jti: randomBytes(16).toString('base64url'), ...overrides })
}

/** Grants a consent over HTTP; returns its id. */
export async function grantConsent(svc: TestService, consent: string): Promise<string> {
  const res = await svc.api.post('/consents', { consent })
  if (res.status !== 201) throw new Error(`granting consent failed: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body.id as string
}

/**
 * A hospital's full verification of a patient's SD-JWT presentation: a fresh challenge, the wallet's
 * presentation of the chosen claims bound to it, POST /verifications with the purpose.
 */
export async function verifyPatientAt(
  svc: TestService,
  hospital: { apiKey: string; did: string },
  present: (binding: { challenge: string; domain: string }) => Promise<string>,
  purpose = 'treatment',
) {
  const c = await svc.api.post('/verifications/challenges', {}, hospital.apiKey)
  if (c.status !== 201) throw new Error(`challenge failed: ${c.status}`)
  const verifiablePresentation = await present({ challenge: c.body.challenge, domain: c.body.domain })
  return svc.api.post('/verifications', { verifiablePresentation, challenge: c.body.challenge, domain: c.body.domain, purpose }, hospital.apiKey)
}

/** The names of the failed checks in a verification reply. */
export const failedChecks = (body: any): string[] => (body.errors ?? []).map((e: any) => e.check)
