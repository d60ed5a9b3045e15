import type { EntityManager } from 'typeorm'
import type { Database } from '../db/database.js'
import { appendAuditEvent, appendAuditEvents } from './append.js'
import { checkNewEvent } from './new-event.js'
import { AUDIT_HEAD_ID, AuditHeadEntity } from './audit-head.entity.js'
import { eventProof, listEvents, type AnchorTarget, type EventProof } from './read.js'
import type { AuditScope, ChainedAuditEvent, NewAuditEvent } from './types.js'

/** Most events one group commit appends. */
const MAX_GROUP = 500

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
    return appendAuditEvent(this.db, manager, event).then((e) => this.told(e))
  }

  /**
   * Calls `fn` with every event appended through this log (for metrics). An event appended inside a
   * transaction is told when appended, before its transaction commits.
   */
  onEvent(fn: (event: ChainedAuditEvent) => void): void {
    this.observers.push(fn)
  }

  private readonly observers: ((event: ChainedAuditEvent) => void)[] = []

  private told(event: ChainedAuditEvent): ChainedAuditEvent {
    for (const fn of this.observers) {
      try {
        fn(event)
      } catch {
        // An observer's failure must never undo or fail the change it observes.
      }
    }
    return event
  }

  /** The sequence number of the newest event (0 while the trail is empty). */
  async lastSeq(): Promise<number> {
    return (await this.db.manager.getRepository(AuditHeadEntity).findOneBy({ id: AUDIT_HEAD_ID }))?.lastSeq ?? 0
  }

  /**
   * Records an event that goes with no other database change (a verification, a refused request). Resolves
   * once the event is committed. Events recorded while a commit is under way wait for the next one and
   * share it (group commit): one transaction, one disk flush, for all of them, which is what lets a busy
   * verifier audit every verification. A malformed event is refused alone, before it joins a group.
   */
  record(event: NewAuditEvent): Promise<ChainedAuditEvent> {
    try {
      checkNewEvent(event)
    } catch (e) {
      return Promise.reject(e)
    }
    return new Promise((resolve, reject) => {
      this.waiting.push({ event, resolve, reject })
      this.flushing ??= this.flush()
    })
  }

  private readonly waiting: { event: NewAuditEvent; resolve: (e: ChainedAuditEvent) => void; reject: (e: unknown) => void }[] = []
  private flushing: Promise<void> | undefined

  private async flush(): Promise<void> {
    while (this.waiting.length) {
      const group = this.waiting.splice(0, MAX_GROUP)
      try {
        const chained = await this.db.transaction((m) => appendAuditEvents(this.db, m, group.map((w) => w.event)))
        group.forEach((w, i) => w.resolve(this.told(chained[i])))
      } catch (e) {
        for (const w of group) w.reject(e)
      }
    }
    this.flushing = undefined
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
