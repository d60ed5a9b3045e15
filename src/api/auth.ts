import type { Context, Next } from 'koa'
import { AppError } from '../errors.js'
import { secretsEqual } from '../institutions/api-keys.js'
import type { InstitutionRow } from '../institutions/institution.entity.js'
import type { InstitutionService } from '../institutions/service.js'
import type { RateLimits } from './rate-limit.js'

export type Caller =
  | { kind: 'anonymous' }
  | { kind: 'admin' }
  | { kind: 'institution'; institution: InstitutionRow }

const COMPACT_JWT = /^[\w-]+\.[\w-]+\.[\w-]+$/

/**
 * Works out who is calling from `Authorization: Bearer …`: the admin token (compared in constant time)
 * or an institution's API key (looked up by hash). A token that is neither is a 401, not "anonymous",
 * and counts as a failed authentication of the client's address (past the limit: 429, see RateLimits).
 * A compact JWT (a patient's signed token) leaves the caller anonymous everywhere; only a route that takes
 * one reads it (`patientBearerOf`), and verifies and spends it there.
 */
export function authenticate(deps: { adminToken: string; institutions: InstitutionService; rateLimits: RateLimits }, opts: { foreignBearer?: RegExp } = {}) {
  return async (ctx: Context, next: Next) => {
    // Paths whose bearer tokens are another protocol's (OID4VCI access tokens), checked by their handlers.
    const header = opts.foreignBearer?.test(ctx.path) ? '' : ctx.get('authorization')
    let caller: Caller = { kind: 'anonymous' }
    if (header) {
      deps.rateLimits.refuseIfLockedOut(ctx.ip)
      const m = /^Bearer\s+(\S{1,2048})$/i.exec(header)
      if (!m) throw new AppError('unauthorized', 'use Authorization: Bearer <token>')
      if (secretsEqual(m[1], deps.adminToken)) caller = { kind: 'admin' }
      else if (COMPACT_JWT.test(m[1])) ctx.state.patientBearer = m[1]
      else {
        const institution = await deps.institutions.authenticate(m[1])
        if (!institution) {
          await deps.rateLimits.authenticationFailed(ctx.ip)
          throw new AppError('unauthorized', 'the bearer token is not a valid API key or admin token')
        }
        caller = { kind: 'institution', institution }
      }
    }
    ctx.state.caller = caller
    return next()
  }
}

/** The patient's signed bearer token, when the request carries one (unverified: the consent capability checks it). */
export function patientBearerOf(ctx: Context): string | undefined {
  return ctx.state.patientBearer as string | undefined
}

export function callerOf(ctx: Context): Caller {
  return ctx.state.caller as Caller
}
