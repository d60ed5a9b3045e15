import type { Patient } from '@medplum/fhirtypes'
import type { UnsignedCredential } from '../credentials/w3c.js'
import { invalidResource, requireResourceType } from './errors.js'
import { nameOf } from './practitioner.js'
import { fhirIssues, type FhirIssue } from './validator.js'

export const PATIENT_FIELD_PATHS: Record<string, string> = {
  'credentialSubject.name': 'Patient.name[0]',
  'credentialSubject.birthDate': 'Patient.birthDate',
  'credentialSubject.identifiers': 'Patient.identifier',
}

/**
 * A FHIR R4 Patient as a PatientIdentityCredential (without the subject's DID): name, birth date, and the
 * identifiers that have both a system and a value (MRNs per institution). The proofing level is not a
 * Patient element; the caller states it.
 */
export function identityFromPatient(input: unknown, assuranceLevel: string): UnsignedCredential {
  const resource = requireResourceType(input, 'Patient') as Patient
  const structural = fhirIssues(resource)
  if (structural.length) throw invalidResource(structural)
  const issues: FhirIssue[] = []
  const name = nameOf(resource.name?.[0])
  if (!name) issues.push({ fhirPath: 'Patient.name', detail: 'needs a name' })
  if (!resource.birthDate) issues.push({ fhirPath: 'Patient.birthDate', detail: 'needs a birth date' })
  else if (!/^\d{4}-\d{2}-\d{2}$/.test(resource.birthDate)) issues.push({ fhirPath: 'Patient.birthDate', detail: 'needs a full date YYYY-MM-DD' })
  if (issues.length) throw invalidResource(issues)
  const identifiers = (resource.identifier ?? []).filter((i) => i.system && i.value).map((i) => ({ system: i.system!, value: i.value! }))
  return {
    type: ['VerifiableCredential', 'PatientIdentityCredential'],
    credentialSubject: { name, birthDate: resource.birthDate!, assuranceLevel, ...(identifiers.length ? { identifiers } : {}) },
  } as UnsignedCredential
}
