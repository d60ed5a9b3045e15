import type { Bundle, CodeableConcept, Organization, Reference, Resource, VerificationResult } from '@medplum/fhirtypes'
import type { Check } from '../verification/checks.js'
import { NPI_SYSTEM } from './practitioner.js'

const DID_SYSTEM = 'urn:ietf:rfc:3986'
const MEDCRED_PROCESS = 'https://medcred.dev/fhir/CodeSystem/validation-process'

/** One institution as FHIR names it here: by its DID (a URI identifier) and its name. */
export interface Party {
  did: string
  name?: string
}

/** Everything a VerificationResult says, gathered by the caller from the capabilities. */
export interface VerificationFacts {
  id: string
  verified: boolean
  purpose: string
  /** When this institution verified (or accepted on a receipt). */
  performedAt: string
  holderDid: string | null
  /** The license subject (from the credential the board signed), when known. */
  subject?: { npi?: string; name?: string; licenseNumber?: string; licenseType?: string; jurisdiction?: string }
  credential?: { id: string; type: string; expirationDate?: string }
  board?: Party
  /** Who did the primary-source verification and signed the receipt. */
  validator: Party
  receipt?: { jwt: string; createdAt: string; url: string }
  /** Set when this institution accepted on another's receipt instead of verifying itself. */
  reliance?: { by: Party; at: string }
  windowDays: number
  checks: Check[]
}

const code = (system: string, c: string, display?: string): CodeableConcept => ({ coding: [{ system, code: c, ...(display ? { display } : {}) }], ...(display ? { text: display } : {}) })
const party = <T extends Resource = Resource>(p: Party): Reference<T> => ({ identifier: { system: DID_SYSTEM, value: p.did }, ...(p.name ? { display: p.name } : {}) })

/** medcred's checks as validation processes (the HL7 code `primary`, then each check by name and outcome). */
function processes(facts: VerificationFacts): CodeableConcept[] {
  const list: CodeableConcept[] = [code('http://terminology.hl7.org/CodeSystem/validation-process', 'primary', 'Primary source: the board-signed credential')]
  if (facts.reliance) list.push(code(MEDCRED_PROCESS, 'accept-on-receipt', `Relied on the acceptance receipt of ${facts.validator.name ?? facts.validator.did}`))
  for (const c of facts.checks) list.push(code(MEDCRED_PROCESS, c.check.replace(/[^A-Za-z0-9.[\]-]/g, '-'), `${c.check}: ${c.ok ? 'passed' : 'failed'}${c.detail ? ` (${c.detail})` : ''}`))
  return list
}

/**
 * A medcred verification or acceptance as a FHIR R4 VerificationResult, following the HL7 National Directory
 * verification profile where it applies: target the Practitioner by NPI, validationType primary, the board as
 * primary source (its DID, the validation date), the verifying hospital as validator with its signed
 * acceptance receipt as attestationSignature, lastPerformed, and nextScheduled at the end of the receipt
 * window. An acceptance on another hospital's receipt names that hospital as validator and says so in
 * validationProcess and attestation.
 */
export function toVerificationResult(facts: VerificationFacts): VerificationResult {
  const lastPerformed = facts.receipt?.createdAt ?? facts.performedAt
  const next = new Date(Date.parse(lastPerformed) + facts.windowDays * 86_400_000).toISOString().slice(0, 10)
  const npi = facts.subject?.npi
  return {
    resourceType: 'VerificationResult',
    id: facts.id,
    target: [
      {
        ...(npi ? { reference: `Practitioner/${npi}`, identifier: { system: NPI_SYSTEM, value: npi } } : facts.holderDid ? { identifier: { system: DID_SYSTEM, value: facts.holderDid } } : {}),
        ...(facts.subject?.name ? { display: facts.subject.name } : {}),
      },
    ],
    targetLocation: ['Practitioner.qualification'],
    need: code('http://terminology.hl7.org/CodeSystem/need', facts.purpose === 'onboarding' ? 'initial' : 'periodic'),
    status: facts.verified ? 'validated' : 'val-fail',
    statusDate: facts.performedAt,
    validationType: code('http://terminology.hl7.org/CodeSystem/validation-type', 'primary', 'Primary Source'),
    validationProcess: processes(facts),
    lastPerformed,
    ...(facts.verified ? { nextScheduled: next } : {}),
    failureAction: code('http://terminology.hl7.org/CodeSystem/failure-action', 'none'),
    ...(facts.board
      ? {
          primarySource: [
            {
              who: party(facts.board),
              type: [code('http://terminology.hl7.org/CodeSystem/primary-source-type', 'lic-board', 'License Board')],
              communicationMethod: [code('http://terminology.hl7.org/CodeSystem/verificationresult-communication-method', 'pull', 'Pull')],
              validationStatus: code('http://terminology.hl7.org/CodeSystem/validation-status', facts.verified ? 'successful' : 'failed'),
              validationDate: lastPerformed,
            },
          ],
        }
      : {}),
    ...(facts.reliance
      ? {
          attestation: {
            who: party(facts.reliance.by),
            communicationMethod: code(MEDCRED_PROCESS, 'accept-on-receipt', `Accepted on the receipt of ${facts.validator.name ?? facts.validator.did}`),
            date: facts.reliance.at.slice(0, 10),
          },
        }
      : {}),
    validator: [
      {
        organization: party<Organization>(facts.validator),
        ...(facts.receipt
          ? {
              identityCertificate: facts.validator.did,
              attestationSignature: {
                type: [{ system: 'urn:iso-astm:E1762-95:2013', code: '1.2.840.10065.1.12.1.5', display: 'Verification Signature' }],
                when: facts.receipt.createdAt,
                who: party(facts.validator),
                targetFormat: 'application/vc+jwt',
                sigFormat: 'application/vc+jwt',
                data: Buffer.from(facts.receipt.jwt, 'utf8').toString('base64'),
              },
            }
          : {}),
      },
    ],
  }
}

export function searchBundle(results: VerificationResult[], selfUrl: string): Bundle<VerificationResult> {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: results.length,
    link: [{ relation: 'self', url: selfUrl }],
    entry: results.map((resource) => ({ resource, search: { mode: 'match' } })),
  }
}
