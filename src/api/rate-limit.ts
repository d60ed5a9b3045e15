import type { Context, Next } from 'koa'
import type { DataSource } from 'typeorm'
import type { PruneRule } from '../db/pruner.js'
import { AppError } from '../errors.js'
import type { LimitsConfig } from '../config.js'
import type { Logger } from './problem.js'

const WINDOW_MS = 60_000

/**
 * Counts of windows that have ended (each row is one client's latest window; a client seen again starts a
 * new one anyway). PostgreSQL only writes them; on SQLite the table stays empty. Between the sweeps that
 * busy traffic triggers (DatabaseRateCounter), this clears what quiet hours leave behind.
 */
export const rateLimitPruneRule: PruneRule = { name: 'rate-limit', table: 'medcred_rate_limit', key: 'key', where: '"windowStart" < $1', params: (c) => [c.getTime() - WINDOW_MS] }

/** Counts hits per key in fixed one-minute windows; `hit` returns the count in the current window. */
export interface RateCounter {
  hit(key: string, windowStart: number): Promise<number>
}

/** One process's counts: enough on SQLite, where one process serves. */
export class MemoryRateCounter implements RateCounter {
  private windowStart = 0
  private counts = new Map<string, number>()

  async hit(key: string, windowStart: number): Promise<number> {
    if (windowStart !== this.windowStart) {
      this.windowStart = windowStart
      this.counts = new Map()
    }
    const n = (this.counts.get(key) ?? 0) + 1
    this.counts.set(key, n)
    return n
  }
}

/**
 * Counts kept in PostgreSQL, so that every replica behind a load balancer counts against one limit: one
 * upsert per hit, which restarts the count when the key's window has passed. Old windows are swept now
 * and then. Should the database not answer, the hit is counted in this process rather than refused: a
 * limiter must not take the service down with it.
 */
export class DatabaseRateCounter implements RateCounter {
  private readonly fallback = new MemoryRateCounter()
  private hits = 0

  constructor(
    private readonly ds: DataSource,
    private readonly log: Logger,
  ) {}

  async hit(key: string, windowStart: number): Promise<number> {
    try {
      if (++this.hits % 5000 === 0) void this.sweep(windowStart)
      const rows: { count: number | string }[] = await this.ds.query(UPSERT, [key, windowStart])
      return Number(rows[0].count)
    } catch (e) {
      this.log.error('rate counter unavailable; counting in process', { error: String((e as Error)?.message ?? e) })
      return this.fallback.hit(key, windowStart)
    }
  }

  private async sweep(windowStart: number): Promise<void> {
    await this.ds.query('DELETE FROM "medcred_rate_limit" WHERE "windowStart" < $1', [windowStart]).catch(() => undefined)
  }
}

const UPSERT =
  'INSERT INTO "medcred_rate_limit" ("key", "windowStart", "count") VALUES ($1, $2, 1) ' +
  'ON CONFLICT ("key") DO UPDATE SET ' +
  '"count" = CASE WHEN "medcred_rate_limit"."windowStart" = EXCLUDED."windowStart" THEN "medcred_rate_limit"."count" + 1 ELSE 1 END, ' +
  '"windowStart" = EXCLUDED."windowStart" RETURNING "count"'

/** The counter for this database: shared through PostgreSQL, in process on SQLite. */
export function rateCounterFor(ds: DataSource, log: Logger): RateCounter {
  return ds.options.type === 'postgres' ? new DatabaseRateCounter(ds, log) : new MemoryRateCounter()
}

/**
 * The two limits of the HTTP edge, in fixed one-minute windows:
 * - requests per client: per authenticated institution (or the admin), else per address. Keying on the
 *   caller's identity, not on the Authorization header, means a new made-up token is no new bucket;
 * - failed authentications per address: past the limit the address gets 429 for any token until the
 *   window ends, without its tokens being looked at. So guessing stops, and the lockout ends by itself;
 *   it is per address, so an attacker elsewhere cannot lock a real institution out.
 */
export class RateLimits {
  /** Addresses past the failure limit, until when: a local note that saves a shared count per request. */
  private readonly lockedOut = new Map<string, number>()

  constructor(
    private readonly limits: Pick<LimitsConfig, 'ratePerMinute' | 'authFailuresPerMinute'>,
    private readonly counter: RateCounter,
    private readonly now: () => number = Date.now,
  ) {}

  /** Throws 429 when `address` is locked out for failed authentications. */
  refuseIfLockedOut(address: string): void {
    const until = this.lockedOut.get(address)
    if (until === undefined) return
    const now = this.now()
    if (now >= until) {
      this.lockedOut.delete(address)
      return
    }
    throw tooMany(`more than ${this.limits.authFailuresPerMinute} failed authentications a minute from this address`, until - now)
  }

  /** Counts a failed authentication from `address`; throws 429 once it is past the limit. */
  async authenticationFailed(address: string): Promise<void> {
    const { windowStart, resetAt } = this.window()
    const n = await this.counter.hit(`authfail:${address}`, windowStart)
    if (n > this.limits.authFailuresPerMinute) {
      if (this.lockedOut.size > 100_000) this.lockedOut.clear()
      this.lockedOut.set(address, resetAt)
      this.refuseIfLockedOut(address)
    }
  }

  /** Counts a request of `client`; throws 429 past the limit, else returns what is left. */
  async request(client: string): Promise<{ limit: number; remaining: number }> {
    const { windowStart, resetAt } = this.window()
    const n = await this.counter.hit(`req:${client}`, windowStart)
    const limit = this.limits.ratePerMinute
    if (n > limit) throw tooMany(`more than ${limit} requests a minute`, resetAt - this.now())
    return { limit, remaining: limit - n }
  }

  private window(): { windowStart: number; resetAt: number } {
    const windowStart = Math.floor(this.now() / WINDOW_MS) * WINDOW_MS
    return { windowStart, resetAt: windowStart + WINDOW_MS }
  }
}

function tooMany(what: string, msLeft: number): AppError {
  const retryAfter = Math.max(1, Math.ceil(msLeft / 1000))
  return new AppError('rate-limited', `${what}; retry in ${retryAfter} s`, { retryAfter })
}

/** The request limit, keyed by who the caller turned out to be (run after `authenticate`). */
export function rateLimit(limits: RateLimits) {
  return async (ctx: Context, next: Next) => {
    const caller = ctx.state.caller as { kind: string; institution?: { id: string } }
    const client = caller.kind === 'institution' ? `institution:${caller.institution!.id}` : caller.kind === 'admin' ? 'admin' : `ip:${ctx.ip}`
    const { limit, remaining } = await limits.request(client)
    ctx.set('RateLimit-Limit', String(limit))
    ctx.set('RateLimit-Remaining', String(remaining))
    return next()
  }
}
