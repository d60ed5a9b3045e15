import { describe, expect, it, vi } from 'vitest'
import { isDatabaseUnavailable, surfacingDatabaseErrors } from '../src/db/errors.js'

/** What node-postgres and the server say while PostgreSQL stops, is down, and starts again. */
const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })
const terminated = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })
const startingUp = Object.assign(new Error('the database system is starting up'), { code: '57P03' })
const shuttingDown = Object.assign(new Error('the database system is shutting down'), { code: '57P03' })

describe('isDatabaseUnavailable: a database that cannot serve now, told apart from a wrong query', () => {
  it('recognises a refused connection, a terminated session, a server starting up or shutting down, a lost socket', () => {
    for (const e of [refused, terminated, startingUp, shuttingDown, new Error('Connection terminated unexpectedly')]) expect(isDatabaseUnavailable(e)).toBe(true)
    // TypeORM's QueryFailedError carries the driver's error
    expect(isDatabaseUnavailable({ message: 'query failed', driverError: terminated })).toBe(true)
  })

  it('does not take a wrong query, a constraint or a plain error for an outage', () => {
    expect(isDatabaseUnavailable(Object.assign(new Error('syntax error at or near "SELEC"'), { code: '42601' }))).toBe(false)
    expect(isDatabaseUnavailable(Object.assign(new Error('duplicate key value'), { code: '23505' }))).toBe(false)
    expect(isDatabaseUnavailable(new Error('key_not_found: No key entry found for kid=04ab'))).toBe(false)
    expect(isDatabaseUnavailable(undefined)).toBe(false)
  })
})

describe('surfacingDatabaseErrors: a library that drops a database error does not turn an outage into a 500', () => {
  it('returns what fn returns, without probing, when fn succeeds', async () => {
    const probe = vi.fn(async () => undefined)
    await expect(surfacingDatabaseErrors(async () => 'signed', probe)).resolves.toBe('signed')
    expect(probe).not.toHaveBeenCalled()
  })

  it('throws the database error the probe meets, not the library\'s own message', async () => {
    const swallowed = new Error('key_not_found: No key entry found for kid=04ab')
    await expect(surfacingDatabaseErrors(() => Promise.reject(swallowed), () => Promise.reject(refused))).rejects.toBe(refused)
    await expect(surfacingDatabaseErrors(() => Promise.reject(swallowed), () => Promise.reject(startingUp))).rejects.toBe(startingUp)
  })

  it('throws fn\'s own error when the probe fails for another reason (the key is really missing)', async () => {
    const swallowed = new Error('key_not_found: No key entry found for kid=04ab')
    await expect(surfacingDatabaseErrors(() => Promise.reject(swallowed), () => Promise.reject(new Error('Key not found')))).rejects.toBe(swallowed)
    await expect(surfacingDatabaseErrors(() => Promise.reject(swallowed), () => Promise.reject(undefined))).rejects.toBe(swallowed)
  })

  it('runs fn once more when the probe reads fine (the database came back in between), and no more', async () => {
    const fn = vi.fn<() => Promise<string>>().mockRejectedValueOnce(new Error('invalid_argument: QueryFailedError')).mockResolvedValueOnce('signed')
    await expect(surfacingDatabaseErrors(fn, async () => 'row')).resolves.toBe('signed')
    expect(fn).toHaveBeenCalledTimes(2)

    const bug = new Error('not_supported: Key type not supported')
    const always = vi.fn(() => Promise.reject(bug))
    await expect(surfacingDatabaseErrors(always, async () => 'row')).rejects.toBe(bug)
    expect(always).toHaveBeenCalledTimes(2)
  })
})
