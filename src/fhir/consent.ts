import type { Bundle, Consent } from '@medplum/fhirtypes'
import type { ConsentView } from '../consent/service.js'

const DID_SYSTEM = 'urn:ietf:rfc:3986'
const did = (value: string) => ({ identifier: { system: DID_SYSTEM, value } })

/**
 * A patient's consent (a PatientConsentCredential the patient signed) as a FHIR R4 Consent: a permit for the
 * grantee institution, for these purposes and credential types, over the consent's validity period.
 * Revoked or expired consents are `inactive`.
 */
export function toFhirConsent(c: ConsentView): Consent {
  return {
    resourceType: 'Consent',
    id: c.id,
    status: c.status === 'active' ? 'active' : 'inactive',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy', display: 'Privacy Consent' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0', display: 'Patient Consent' }] }],
    patient: did(c.patient),
    dateTime: c.issuedAt,
    performer: [did(c.patient)],
    organization: [did(c.grantee)],
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
    provision: {
      type: 'permit',
      period: { start: c.issuedAt, end: c.revokedAt ?? c.expiresAt },
      actor: [{ role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP', display: 'information recipient' }] }, reference: did(c.grantee) }],
      purpose: c.purposes.map((p) => ({ system: 'https://medcred.dev/fhir/CodeSystem/consent-purpose', code: p })),
      class: c.credentialTypes.map((t) => ({ system: 'https://medcred.dev/fhir/CodeSystem/credential-type', code: t })),
    },
  }
}

export function consentBundle(consents: ConsentView[], selfUrl: string): Bundle<Consent> {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: consents.length,
    link: [{ relation: 'self', url: selfUrl }],
    entry: consents.map((c) => ({ resource: toFhirConsent(c), search: { mode: 'match' } })),
  }
}
