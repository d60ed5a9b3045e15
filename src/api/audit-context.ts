import type { Context } from 'koa'
import type { AuditActor } from '../audit/types.js'
import { callerOf } from './auth.js'

/**
 * Who is acting and under which request id, for the audit events a handler's capability call appends.
 * Handlers pass this down; capabilities never read the Koa context themselves.
 */
export function auditContext(ctx: Context): { actor: AuditActor; requestId: string } {
  const caller = callerOf(ctx)
  const actor: AuditActor =
    caller.kind === 'institution'
      ? { type: 'institution', id: caller.institution.id, did: caller.institution.did }
      : { type: caller.kind }
  return { actor, requestId: ctx.state.requestId as string }
}
