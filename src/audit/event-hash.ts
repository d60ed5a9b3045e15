import { createHash } from 'node:crypto'
import { canonicalJson } from '../credentials/canonical.js'
import type { AuditEvent, ChainedAuditEvent } from './types.js'

/** The `prevHash` of the first event: there is nothing before it. */
export const GENESIS_HASH = '0'.repeat(64)

const HEX32 = /^[0-9a-f]{64}$/

/** The members that are hashed, in a fixed shape, whatever extra members `event` carries (e.g. `hash`). */
export function hashedForm(event: AuditEvent): AuditEvent {
  return {
    seq: event.seq,
    time: event.time,
    actor: { type: event.actor.type, id: event.actor.id, did: event.actor.did },
    action: event.action,
    subject: event.subject
      ? { type: event.subject.type, id: event.subject.id, issuerInstitutionId: event.subject.issuerInstitutionId }
      : null,
    outcome: event.outcome,
    requestId: event.requestId,
    detail: event.detail,
  }
}

/**
 * sha256(prevHash as 32 bytes ‖ UTF-8 of the RFC 8785 canonical JSON of the event), hex.
 * Chaining through `prevHash` makes editing, inserting or deleting any earlier event change every later hash.
 */
export function eventHash(event: AuditEvent, prevHash: string): string {
  if (!HEX32.test(prevHash)) throw new Error(`prevHash must be 64 lower-case hex characters, got ${prevHash}`)
  return createHash('sha256')
    .update(Buffer.from(prevHash, 'hex'))
    .update(canonicalJson(hashedForm(event)) ?? '', 'utf8')
    .digest('hex')
}

/** True when the event's stored hash is the hash of its own content and its `prevHash`. */
export function hashMatches(event: ChainedAuditEvent): boolean {
  return HEX32.test(event.prevHash) && eventHash(event, event.prevHash) === event.hash
}
