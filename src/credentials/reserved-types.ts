/**
 * Credential types that medcred gives meaning to and signs only through its own paths: a receipt is
 * signed after a full verification, a status list by the status service, a consent by the patient. None
 * may be signed through the generic issue path, or an API key could mint one (a "receipt" for a forged
 * license, a status list that un-revokes). The owning modules take their type names from here, so a new
 * meaningful type cannot be added without being reserved.
 */
export const RESERVED_CREDENTIAL_TYPES = {
  receipt: 'AcceptanceReceiptCredential',
  consent: 'PatientConsentCredential',
  statusList2021: 'StatusList2021Credential',
  bitstringStatusList: 'BitstringStatusListCredential',
  /** VC 2.0's wrapper for a secured credential: never a type of the credential itself. */
  enveloped: 'EnvelopedVerifiableCredential',
} as const

const RESERVED = new Set(Object.values(RESERVED_CREDENTIAL_TYPES).map((t) => t.toLowerCase()))

/**
 * The reserved types among `types` (compared without case, so `acceptancereceiptcredential` is no way
 * around the rule).
 */
export function reservedTypesOf(types: readonly unknown[]): string[] {
  return types.filter((t): t is string => typeof t === 'string' && RESERVED.has(t.toLowerCase()))
}
