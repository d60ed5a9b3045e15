import { ownEntry } from '../validation.js'
import { SELECTIVELY_DISCLOSABLE } from './sd-jwt-vc.js'

/**
 * SD-JWT VC Type Metadata (draft-ietf-oauth-sd-jwt-vc §6) for the types medcred issues as SD-JWT VCs,
 * served at their `vct` URL.
 */
const DESCRIPTIONS: Record<string, { name: string; description: string; claims: Record<string, string> }> = {
  PatientIdentityCredential: {
    name: 'Patient identity',
    description: 'A patient identity, after identity proofing by an identity provider or hospital.',
    claims: {
      name: 'Name',
      birthDate: 'Date of birth',
      address: 'Address',
      identifiers: 'Identifiers (e.g. medical record numbers)',
      assuranceLevel: 'Identity assurance level (IAL1, IAL2, IAL3)',
    },
  },
}

export function typeMetadata(vct: string, type: string): Record<string, unknown> | undefined {
  const d = ownEntry(DESCRIPTIONS, type)
  if (!d) return undefined
  return {
    vct,
    name: d.name,
    description: d.description,
    display: [{ locale: 'en-US', name: d.name, description: d.description }],
    claims: SELECTIVELY_DISCLOSABLE.map((claim) => ({
      path: [claim],
      display: [{ locale: 'en-US', label: d.claims[claim] }],
      sd: 'always',
    })),
  }
}
