import { z } from 'zod'
import { canonicalJson } from '../credentials/canonical.js'
import type { AuditEventRow } from './audit-event.entity.js'
import type { AuditEvent, ChainedAuditEvent, NewAuditEvent } from './types.js'

/** Detail is for identifiers and codes; a document-sized detail means someone is logging data. */
const MAX_DETAIL_CHARS = 2000

const text = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((s) => !s.includes('\u0000'), 'must not contain NUL')

const NewAuditEventSchema = z.strictObject({
  actor: z.strictObject({
    type: z.enum(['institution', 'admin', 'anonymous', 'system']),
    id: text(200).optional(),
    did: text(300).optional(),
  }),
  action: z.string().regex(/^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/, 'must look like credential.issued').max(64),
  subject: z
    .strictObject({
      type: z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be a lower-case word such as credential').max(32),
      id: text(300),
      issuerInstitutionId: text(36).optional(),
    })
    .optional(),
  outcome: z.enum(['success', 'failure']),
  requestId: text(100).optional(),
  detail: z
    .record(
      z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/),
      z.union([text(300), z.literal(''), z.number(), z.boolean(), z.null(), z.array(text(300)).max(50)]),
    )
    .optional(),
})

/**
 * Checks an event handed to the log. A bad event is a programming error in the caller (the HTTP boundary
 * validated the request long before), so it throws a plain Error, rolling the caller's transaction back.
 */
export function checkNewEvent(event: NewAuditEvent): NewAuditEvent {
  const parsed = NewAuditEventSchema.safeParse(event)
  if (!parsed.success) {
    const i = parsed.error.issues[0]
    throw new Error(`invalid audit event: ${i.path.join('.') || '(event)'}: ${i.message}`)
  }
  const detail = parsed.data.detail
  if (detail && (canonicalJson(detail) ?? '').length > MAX_DETAIL_CHARS) {
    throw new Error(`invalid audit event: detail exceeds ${MAX_DETAIL_CHARS} characters; keep it to identifiers and codes`)
  }
  return parsed.data as NewAuditEvent
}

/**
 * The hashed form of a new event, given its place in the sequence and its time. The hash is over exactly
 * the text that is stored: a lone surrogate, which UTF-8 storage turns into U+FFFD, is turned into it here
 * first (the HTTP boundary refuses such text; this keeps a trail that verifies even if a caller slips).
 */
export function toAuditEvent(event: NewAuditEvent, seq: number, time: string): AuditEvent {
  return asStored(unstoredAuditEvent(event, seq, time))
}

function unstoredAuditEvent(event: NewAuditEvent, seq: number, time: string): AuditEvent {
  const detail = event.detail && Object.keys(event.detail).length > 0 ? event.detail : null
  return {
    seq,
    time,
    actor: { type: event.actor.type, id: event.actor.id ?? null, did: event.actor.did ?? null },
    action: event.action,
    subject: event.subject
      ? { type: event.subject.type, id: event.subject.id, issuerInstitutionId: event.subject.issuerInstitutionId ?? null }
      : null,
    outcome: event.outcome,
    requestId: event.requestId ?? null,
    detail,
  }
}

/** `value` as UTF-8 storage gives it back: every string well-formed. */
function asStored<T>(value: T): T {
  if (typeof value === 'string') return value.toWellFormed() as T
  if (Array.isArray(value)) return value.map(asStored) as T
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.toWellFormed(), asStored(v)])) as T
  }
  return value
}

export function toRow(event: AuditEvent, prevHash: string, hash: string): AuditEventRow {
  return {
    seq: event.seq,
    time: event.time,
    actorType: event.actor.type,
    actorId: event.actor.id,
    actorDid: event.actor.did,
    action: event.action,
    subjectType: event.subject?.type ?? null,
    subjectId: event.subject?.id ?? null,
    subjectIssuerInstitutionId: event.subject?.issuerInstitutionId ?? null,
    outcome: event.outcome,
    requestId: event.requestId,
    detail: event.detail ? (canonicalJson(event.detail) as string) : null,
    prevHash,
    hash,
  }
}

/**
 * A stored row back as an event. Reads what is there without judging it: a row edited into nonsense (detail
 * that is not JSON) still comes back, and its hash then fails to match, which is how the checker finds it.
 */
export function fromRow(row: AuditEventRow): ChainedAuditEvent {
  let detail: AuditEvent['detail'] = null
  if (row.detail !== null) {
    try {
      detail = JSON.parse(row.detail)
    } catch {
      detail = { unreadable: row.detail }
    }
  }
  return {
    seq: Number(row.seq),
    time: row.time,
    actor: { type: row.actorType, id: row.actorId, did: row.actorDid },
    action: row.action,
    subject:
      row.subjectType !== null || row.subjectId !== null || row.subjectIssuerInstitutionId !== null
        ? { type: row.subjectType ?? '', id: row.subjectId ?? '', issuerInstitutionId: row.subjectIssuerInstitutionId }
        : null,
    outcome: row.outcome,
    requestId: row.requestId,
    detail,
    prevHash: row.prevHash,
    hash: row.hash,
  }
}
