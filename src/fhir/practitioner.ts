import type { Practitioner } from '@medplum/fhirtypes'
import { isValidNpi } from '../credentials/identifiers.js'
import type { UnsignedCredential } from '../credentials/w3c.js'
import { invalidResource, requireResourceType } from './errors.js'
import { fhirIssues, type FhirIssue } from './validator.js'

export const NPI_SYSTEM = 'http://hl7.org/fhir/sid/us-npi'
/** An ISO 3166-2 subdivision code as a FHIR identifier system (the license's jurisdiction, e.g. US-TX). */
export const ISO_3166_2_SYSTEM = 'urn:iso:std:iso:3166:-2'

/** Where each subject field of the license credential comes from in the Practitioner (for naming the failing element). */
export const LICENSE_FIELD_PATHS: Record<string, string> = {
  'credentialSubject.name': 'Practitioner.name[0]',
  'credentialSubject.npi': 'Practitioner.identifier',
  'credentialSubject.licenseNumber': 'Practitioner.qualification[0].identifier[0].value',
  'credentialSubject.licenseType': 'Practitioner.qualification[0].code',
  'credentialSubject.jurisdiction': 'Practitioner.qualification[0].issuer',
  expirationDate: 'Practitioner.qualification[0].period.end',
}

/**
 * A HumanName as one line: `text`, else prefix, given and family names. Read defensively: the validator
 * lets odd shapes through (a `given` that is an object, say), and they make no name, not an error.
 */
export function nameOf(name: { text?: unknown; prefix?: unknown; given?: unknown; family?: unknown } | undefined): string {
  if (!name || typeof name !== 'object') return ''
  const words = (v: unknown): string[] => (Array.isArray(v) ? v.filter((w): w is string => typeof w === 'string') : [])
  if (typeof name.text === 'string') return name.text.trim()
  return [...words(name.prefix), ...words(name.given), typeof name.family === 'string' ? name.family : ''].join(' ').trim()
}

/**
 * A FHIR R4 Practitioner as the ClinicianLicenseCredential it describes (without the subject's DID, which
 * the caller supplies or the wallet's key proof will): NPI from the `us-npi` identifier, the license from
 * `qualification[0]` (its code the license type, its identifier the license number, its period the dates,
 * its issuer the jurisdiction as an ISO 3166-2 identifier, else the board's own). Anything that does not fit
 * is refused naming the FHIRPath of the failing element.
 */
export function licenseFromPractitioner(input: unknown, board: { jurisdiction: string | null }, now = new Date()): UnsignedCredential {
  const resource = requireResourceType(input, 'Practitioner') as Practitioner
  const structural = fhirIssues(resource)
  if (structural.length) throw invalidResource(structural)
  const issues: FhirIssue[] = []
  const npiAt = (resource.identifier ?? []).findIndex((i) => i.system === NPI_SYSTEM)
  const npi = npiAt >= 0 ? resource.identifier![npiAt].value : undefined
  if (npiAt < 0) issues.push({ fhirPath: 'Practitioner.identifier', detail: `needs an identifier with system ${NPI_SYSTEM} (the NPI)` })
  else if (!npi || !isValidNpi(npi)) issues.push({ fhirPath: `Practitioner.identifier[${npiAt}].value`, detail: 'must be a 10-digit NPI with a valid check digit' })
  const name = nameOf(resource.name?.[0])
  if (!name) issues.push({ fhirPath: 'Practitioner.name', detail: 'needs a name' })
  if (resource.active === false) issues.push({ fhirPath: 'Practitioner.active', detail: 'an inactive practitioner is not issued a license' })
  const q = resource.qualification?.[0]
  if (!q) issues.push({ fhirPath: 'Practitioner.qualification', detail: 'needs a qualification: the license' })
  const licenseType = q?.code?.coding?.find((c) => c.code)?.code ?? q?.code?.text
  if (q && !licenseType) issues.push({ fhirPath: 'Practitioner.qualification[0].code', detail: 'needs the license type as a code (e.g. MD, DO, RN)' })
  const licenseNumber = q?.identifier?.[0]?.value
  if (q && !licenseNumber) issues.push({ fhirPath: 'Practitioner.qualification[0].identifier', detail: 'needs the license number as the qualification identifier' })
  const end = q?.period?.end
  const endMs = typeof end === 'string' ? Date.parse(end) : Number.NaN
  if (q && !end) issues.push({ fhirPath: 'Practitioner.qualification[0].period.end', detail: 'needs the date the license expires' })
  else if (end && Number.isNaN(endMs)) issues.push({ fhirPath: 'Practitioner.qualification[0].period.end', detail: 'must be a FHIR date or dateTime, e.g. 2028-06-30' })
  else if (end && endMs <= now.getTime()) issues.push({ fhirPath: 'Practitioner.qualification[0].period.end', detail: `is in the past (${end}): an expired license is not issued` })
  const start = q?.period?.start
  const startMs = typeof start === 'string' ? Date.parse(start) : Number.NaN
  if (start && Number.isNaN(startMs)) issues.push({ fhirPath: 'Practitioner.qualification[0].period.start', detail: 'must be a FHIR date or dateTime, e.g. 2020-01-01' })
  else if (start && end && startMs > endMs) issues.push({ fhirPath: 'Practitioner.qualification[0].period.start', detail: 'is after the period end' })
  if (q && !q.issuer) issues.push({ fhirPath: 'Practitioner.qualification[0].issuer', detail: 'needs the issuing board' })
  const jurisdiction = q?.issuer?.identifier?.system === ISO_3166_2_SYSTEM ? q.issuer.identifier.value : (board.jurisdiction ?? undefined)
  if (q?.issuer && !jurisdiction) issues.push({ fhirPath: 'Practitioner.qualification[0].issuer.identifier', detail: `needs the jurisdiction as an identifier with system ${ISO_3166_2_SYSTEM}` })
  if (issues.length) throw invalidResource(issues)
  return {
    type: ['VerifiableCredential', 'ClinicianLicenseCredential'],
    expirationDate: new Date(end!).toISOString(),
    credentialSubject: { name, npi: npi!, licenseNumber: licenseNumber!, licenseType: licenseType!, jurisdiction: jurisdiction!, status: 'active' },
  } as UnsignedCredential
}
