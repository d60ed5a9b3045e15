import type { Context } from 'koa'
import type { EntityManager } from 'typeorm'
import type { AuditLog } from '../audit/audit-log.js'
import type { AuditDetailValue, AuditSubject } from '../audit/types.js'
import { auditContext } from './audit-context.js'

/**
 * The audit append for a handler's change, to run inside the capability's own transaction
 * (so the change and its event commit together or not at all).
 */
export function audited(
  ctx: Context,
  audit: AuditLog,
  action: string,
  subject?: AuditSubject,
  detail?: Record<string, AuditDetailValue>,
): (m: EntityManager) => Promise<unknown> {
  const { actor, requestId } = auditContext(ctx)
  return (m) => audit.append(m, { actor, requestId, action, subject, outcome: 'success', ...(detail ? { detail } : {}) })
}
