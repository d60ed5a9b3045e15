/**
 * What a relying institution can be told about. Each event is about something it relied on: a credential it
 * accepted changed status, or the issuer behind such a credential lost the consortium's trust.
 */
export const NOTICE_EVENTS = ['credential.revoked', 'credential.suspended', 'credential.reinstated', 'issuer.untrusted'] as const

export type NoticeEvent = (typeof NOTICE_EVENTS)[number]

/**
 * The facts of a notice: identifiers only (credential id, issuer DID, status purpose, …), never credential
 * contents or personal data, because the payload leaves the service to a URL the institution chose.
 * Flat on purpose: receivers can log and index it without walking a tree.
 */
export type NoticeData = Readonly<Record<string, string | number | boolean | null>>

/** One change to tell relying institutions about. */
export interface Notice {
  event: NoticeEvent
  /** Institution ids (duplicates are ignored); each gets its own notification and deliveries. */
  recipients: readonly string[]
  data: NoticeData
}

export function isNoticeEvent(value: string): value is NoticeEvent {
  return (NOTICE_EVENTS as readonly string[]).includes(value)
}
