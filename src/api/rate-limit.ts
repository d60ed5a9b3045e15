import type { Context, Next } from 'koa'
import { AppError } from '../errors.js'

/**
 * A fixed one-minute window per client: the bearer token's hash when there is one, else the address.
 * Per process: with several replicas the limit applies per replica (the load balancer's job beyond that).
 */
export function rateLimit(perMinute: number) {
  let windowStart = Date.now()
  let counts = new Map<string, number>()
  return async (ctx: Context, next: Next) => {
    const now = Date.now()
    if (now - windowStart >= 60_000) {
      windowStart = now
      counts = new Map()
    }
    const auth = ctx.get('authorization')
    const key = auth ? `auth:${auth.slice(-24)}` : `ip:${ctx.ip}`
    const n = (counts.get(key) ?? 0) + 1
    counts.set(key, n)
    if (n > perMinute) {
      const retryAfter = Math.ceil((windowStart + 60_000 - now) / 1000)
      throw new AppError('rate-limited', `more than ${perMinute} requests a minute; retry in ${retryAfter} s`, { retryAfter })
    }
    ctx.set('RateLimit-Limit', String(perMinute))
    ctx.set('RateLimit-Remaining', String(Math.max(0, perMinute - n)))
    return next()
  }
}
