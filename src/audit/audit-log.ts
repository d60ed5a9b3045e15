import type { EntityManager } from 'typeorm'
import type { Database } from '../db/database.js'
import { appendAuditEvent } from './append.js'
import { eventProof, listEvents, type AnchorTarget, type EventProof } from './read.js'
import type { AuditScope, ChainedAuditEvent, NewAuditEvent } from './types.js'

/** Largest page GET /audit/events returns. */
export const MAX_PAGE = 1000

/**
 * The audit trail as one object to pass around: append inside a caller's transaction, record on its own,
 * read a page, prove an event.
 */
export class AuditLog {
  constructor(
    readonly db: Database,
    private readonly target: AnchorTarget,
  ) {}

  /**
   * Appends `event` inside the caller's open transaction: see {@link appendAuditEvent}.
   * Call it last in the transaction.
   */
  append(manager: EntityManager, event: NewAuditEvent): Promise<ChainedAuditEvent> {
    return appendAuditEvent(manager, event)
  }

  /**
   * Records an event that goes with no other database change (a verification, a refused request) in a
   * transaction of its own. Resolves once the event is committed.
   */
  record(event: NewAuditEvent): Promise<ChainedAuditEvent> {
    return this.db.transaction((m) => appendAuditEvent(m, event))
  }

  /** Events after `after` visible to `scope`, oldest first. */
  list(scope: AuditScope, page: { after?: number; limit?: number } = {}): Promise<ChainedAuditEvent[]> {
    const limit = Math.min(Math.max(page.limit ?? 100, 1), MAX_PAGE)
    return listEvents(this.db.manager, scope, { after: page.after ?? 0, limit })
  }

  /** The event, its Merkle inclusion proof and its batch's anchor. */
  proof(scope: AuditScope, seq: number): Promise<EventProof> {
    return eventProof(this.db.manager, scope, seq, this.target)
  }
}
