import type { EntityManager } from 'typeorm'
import type { AuditLog } from './audit-log.js'
import type { AuditActor, AuditDetailValue, AuditSubject } from './types.js'

/**
 * Who is acting, under which request: what every state-changing capability takes as a plain parameter so
 * it can append its own audit event in the change's transaction. No caller builds the event; none can
 * leave a change unaudited. `detail` adds context a caller knows (e.g. `via: 'oid4vci'`).
 */
export interface Acting {
  actor: AuditActor
  requestId?: string
  detail?: Record<string, AuditDetailValue>
}

/** A process acting on its own behalf (a resumed key rotation, a script). */
export function systemActing(id: string): Acting {
  return { actor: { type: 'system', id } }
}

/** Appends the success event of a change made by `by`, inside the change's transaction `m`. */
export function appendChange(
  audit: AuditLog,
  m: EntityManager,
  by: Acting,
  action: string,
  subject: AuditSubject,
  detail?: Record<string, AuditDetailValue>,
): Promise<unknown> {
  const merged = detail || by.detail ? { ...detail, ...by.detail } : undefined
  return audit.append(m, { actor: by.actor, ...(by.requestId ? { requestId: by.requestId } : {}), action, subject, outcome: 'success', ...(merged ? { detail: merged } : {}) })
}
