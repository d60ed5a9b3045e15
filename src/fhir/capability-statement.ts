import type { CapabilityStatement } from '@medplum/fhirtypes'

/** What medcred's FHIR endpoint does: the two issuing operations, VerificationResult read and search, Consent search. */
export function capabilityStatement(publicUrl: string, version: string): CapabilityStatement {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2026-12-01',
    kind: 'instance',
    software: { name: 'medcred', version },
    implementation: { description: 'medcred FHIR R4 endpoint', url: `${publicUrl}/fhir` },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json'],
    rest: [
      {
        mode: 'server',
        security: { description: 'Authorization: Bearer <institution API key>; a board issues licenses, a hospital reads its own VerificationResults.' },
        resource: [
          {
            type: 'Practitioner',
            operation: [{ name: 'issue-license', definition: 'https://medcred.dev/fhir/OperationDefinition/Practitioner-issue-license', documentation: 'Issues the ClinicianLicenseCredential the Practitioner describes: to ?subject=did:…, or as an OID4VCI offer with ?offer=true' }],
          },
          {
            type: 'Patient',
            operation: [{ name: 'issue-identity', definition: 'https://medcred.dev/fhir/OperationDefinition/Patient-issue-identity', documentation: 'Issues a PatientIdentityCredential (?subject=did:… or ?offer=true; ?assuranceLevel=IAL1|IAL2|IAL3)' }],
          },
          {
            type: 'VerificationResult',
            interaction: [{ code: 'read' }, { code: 'search-type' }],
            searchParam: [{ name: 'target', type: 'reference', documentation: 'Practitioner/{npi}' }],
          },
          {
            type: 'Consent',
            interaction: [{ code: 'search-type' }],
            searchParam: [{ name: 'patient', type: 'reference', documentation: "the patient's DID; the consents granted to the calling institution" }],
          },
        ],
      },
    ],
  }
}
