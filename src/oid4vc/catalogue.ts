import { KNOWN_TYPES } from '../credentials/subject-schemas.js'
import { RECEIPT_TYPE } from '../acceptance/receipts.js'
import type { InstitutionKind } from '../institutions/institution.entity.js'

/**
 * What an institution issues to wallets: the credential types with a schema its kind may issue (offered
 * with `POST /oid4vci/offers`), and for hospitals the acceptance receipts they signed (offered only to the
 * holder who presented, never through the generic path).
 */
export function walletTypes(kind: InstitutionKind): { offerable: string[]; all: string[] } {
  const offerable = Object.entries(KNOWN_TYPES)
    .filter(([, spec]) => spec.issuerKinds.includes(kind))
    .map(([name]) => name)
  return { offerable, all: kind === 'hospital' ? [...offerable, RECEIPT_TYPE] : offerable }
}

/** `ClinicianLicenseCredential` → `Clinician License`: the display name in issuer metadata. */
export function displayName(type: string): string {
  return type.replace(/Credential$/, '').replace(/([a-z])([A-Z])/g, '$1 $2').replace(/^DEA/, 'DEA ').trim()
}
