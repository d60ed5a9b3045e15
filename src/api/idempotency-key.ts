import type { Context } from 'koa'
import { AppError } from '../errors.js'
import { idempotencyKey, type IdempotencyKey } from '../idempotency/idempotency.js'

const KEY = /^[\x21-\x7e]{1,200}$/

/**
 * The request's `Idempotency-Key` (IETF draft "The Idempotency-Key HTTP Header Field"), scoped to the caller:
 * a retry with the same key and body gets the first reply; the same key with another body is a 409.
 * `about` (e.g. the method and path) is part of the request too, where the body alone does not say what is
 * asked: the same key and body on another resource is then a 409, not a replay.
 */
export function idempotencyOf(ctx: Context, scope: string, about?: string): IdempotencyKey | undefined {
  const key = ctx.get('idempotency-key')
  if (!key) return undefined
  if (!KEY.test(key)) throw new AppError('invalid-request', 'Idempotency-Key must be 1 to 200 visible ASCII characters')
  return idempotencyKey(scope, key, about === undefined ? ctx.state.body : { about, body: ctx.state.body })
}
