/**
 * The audit trail's plain types. An event names who did what to which subject, with what outcome; it holds
 * identifiers only (institution ids, DIDs, credential ids), never patient or clinician data.
 */

export type AuditActorType = 'institution' | 'admin' | 'anonymous' | 'system'

export interface AuditActor {
  type: AuditActorType
  /** The institution's id for `institution`; a component name for `system` (e.g. `anchor-worker`). */
  id?: string
  /** The actor's DID when it has one (an institution's did:ethr, a holder's wallet DID). */
  did?: string
}

export interface AuditSubject {
  /** What kind of thing was acted on, e.g. `credential`, `presentation`, `institution`, `did`, `webhook`. */
  type: string
  /** Its identifier: a credential id, a DID, an institution id, … */
  id: string
  /** The institution that issued the subject, so that issuer can see events about what it issued. */
  issuerInstitutionId?: string
}

export type AuditOutcome = 'success' | 'failure'

/** A scalar or a list of strings: detail carries identifiers and codes, not documents. */
export type AuditDetailValue = string | number | boolean | null | string[]

/** What a caller hands to `AuditLog.append`; the log adds `seq`, `time` and the hashes. */
export interface NewAuditEvent {
  actor: AuditActor
  /** `<area>.<verb>` in lower case, e.g. `credential.issued`, `presentation.verified`, `institution.key-rotated`. */
  action: string
  subject?: AuditSubject
  outcome: AuditOutcome
  /** The HTTP request's `X-Request-Id`, to join the audit trail with logs. */
  requestId?: string
  /** A small flat object of identifiers and codes (e.g. `{statusPurpose: 'revocation', failedCheck: 'status'}`). */
  detail?: Record<string, AuditDetailValue>
}

/**
 * An event exactly as it is hashed: every optional member present (as `null`), so that the canonical form,
 * and with it the hash, is the same whoever rebuilds it from this object.
 */
export interface AuditEvent {
  seq: number
  /** ISO-8601 UTC, millisecond precision. */
  time: string
  actor: { type: AuditActorType; id: string | null; did: string | null }
  action: string
  subject: { type: string; id: string; issuerInstitutionId: string | null } | null
  outcome: AuditOutcome
  requestId: string | null
  detail: Record<string, AuditDetailValue> | null
}

/** A stored event with its place in the hash chain. */
export interface ChainedAuditEvent extends AuditEvent {
  /** Hex SHA-256 of the previous event (64 zeros before the first). */
  prevHash: string
  /** Hex SHA-256 over `prevHash` (32 bytes) followed by the RFC 8785 canonical JSON of the `AuditEvent`. */
  hash: string
}

/** Who is reading the trail: an institution sees its own events and those about what it issued. */
export type AuditScope = { kind: 'admin' } | { kind: 'institution'; institutionId: string }
