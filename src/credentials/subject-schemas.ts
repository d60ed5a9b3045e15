import { z } from 'zod'
import type { InstitutionKind } from '../institutions/institution.entity.js'
import { DID, JURISDICTION, isValidDeaNumber, isValidNpi } from './identifiers.js'

const did = z.string().regex(DID, 'must be a DID')
const name = z.string().trim().min(1, 'must not be empty').max(200)
const npi = z.string().refine(isValidNpi, 'must be a 10-digit NPI with a valid check digit')
const jurisdiction = z.string().regex(JURISDICTION, 'must be an ISO 3166-2 code such as US-TX')
const calendarDate = z.iso.date('must be a date YYYY-MM-DD')

const ClinicianLicenseSubject = z.looseObject({
  id: did,
  name,
  npi,
  licenseNumber: z.string().trim().min(1, 'must not be empty').max(50),
  licenseType: z.string().regex(/^[A-Z][A-Za-z-]{0,11}$/, 'must be a license type such as MD, DO, RN'),
  jurisdiction,
  status: z.enum(['active', 'probation', 'restricted']),
})

const PatientIdentitySubject = z.looseObject({
  id: did,
  name,
  birthDate: calendarDate.refine((d) => d <= new Date().toISOString().slice(0, 10), 'must not be in the future'),
  assuranceLevel: z.enum(['IAL1', 'IAL2', 'IAL3']),
  identifiers: z
    .array(z.strictObject({ system: z.string().min(1).max(200), value: z.string().min(1).max(200) }))
    .max(50)
    .optional(),
})

const BoardCertificationSubject = z.looseObject({
  id: did,
  name,
  npi,
  certifyingBoard: z.string().trim().min(1).max(200),
  specialty: z.string().trim().min(1).max(200),
  status: z.enum(['certified', 'not-certified', 'expired']),
})

const DeaRegistrationSubject = z.looseObject({
  id: did,
  name,
  deaNumber: z.string().refine(isValidDeaNumber, 'must be a DEA number (2 letters, 7 digits, valid check digit)'),
  schedules: z.array(z.enum(['2', '2N', '3', '3N', '4', '5'])).min(1),
  jurisdiction,
})

/** A credential type medcred knows: its subject schema, who may issue it, and what it requires. */
export interface KnownCredentialType {
  subject: z.ZodType<Record<string, unknown>>
  issuerKinds: readonly InstitutionKind[]
  /** A license with no end date is not something a board issues. */
  requiresExpiration: boolean
  /** When the subject names a jurisdiction, an issuer with a jurisdiction may only issue for its own. */
  jurisdictionBound: boolean
  /** Licenses and registrations can be suspended as well as revoked. */
  suspendable: boolean
}

export const KNOWN_TYPES: Record<string, KnownCredentialType> = {
  ClinicianLicenseCredential: {
    subject: ClinicianLicenseSubject,
    issuerKinds: ['board'],
    requiresExpiration: true,
    jurisdictionBound: true,
    suspendable: true,
  },
  BoardCertificationCredential: {
    subject: BoardCertificationSubject,
    issuerKinds: ['board'],
    requiresExpiration: true,
    jurisdictionBound: false,
    suspendable: true,
  },
  DEARegistrationCredential: {
    subject: DeaRegistrationSubject,
    issuerKinds: ['board'],
    requiresExpiration: true,
    jurisdictionBound: false,
    suspendable: true,
  },
  PatientIdentityCredential: {
    subject: PatientIdentitySubject,
    issuerKinds: ['identity-provider', 'hospital'],
    requiresExpiration: false,
    jurisdictionBound: false,
    suspendable: false,
  },
}

/** The known types a credential's `type` list names (a credential may name at most one; callers check). */
export function knownTypesOf(types: readonly unknown[]): { name: string; spec: KnownCredentialType }[] {
  return types
    .filter((t): t is string => typeof t === 'string' && Object.hasOwn(KNOWN_TYPES, t))
    .map((name) => ({ name, spec: KNOWN_TYPES[name] }))
}

/** Every known type must carry a credentialStatus: without one, "not revoked" cannot be known. */
export const TYPES_REQUIRING_STATUS: ReadonlySet<string> = new Set(Object.keys(KNOWN_TYPES))
