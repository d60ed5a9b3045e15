import os from 'node:os'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../src/config.js'

describe('WEB_CONCURRENCY', () => {
  it('defaults to one process on SQLite and to the cores on PostgreSQL', () => {
    expect(loadConfig({}).webConcurrency).toBe(1)
    expect(loadConfig({ DATABASE_URL: 'postgres://x@127.0.0.1/db' }).webConcurrency).toBe(os.availableParallelism())
    expect(loadConfig({ DATABASE_URL: 'postgres://x@127.0.0.1/db', WEB_CONCURRENCY: '3' }).webConcurrency).toBe(3)
  })

  it('refuses several workers on a SQLite file, saying why', () => {
    expect(() => loadConfig({ WEB_CONCURRENCY: '2' })).toThrow(ConfigError)
    expect(() => loadConfig({ WEB_CONCURRENCY: '2' })).toThrow(/WEB_CONCURRENCY: above 1 needs PostgreSQL/)
    expect(() => loadConfig({ WEB_CONCURRENCY: '0' })).toThrow(/WEB_CONCURRENCY/)
  })
})

describe('PRUNE_INTERVAL_SECONDS and PRUNE_GRACE_SECONDS', () => {
  it('default to a run every ten minutes of what expired over a day ago', () => {
    expect(loadConfig({}).pruning).toEqual({ intervalSeconds: 600, graceSeconds: 86_400 })
    expect(loadConfig({ PRUNE_INTERVAL_SECONDS: '60', PRUNE_GRACE_SECONDS: '0' }).pruning).toEqual({ intervalSeconds: 60, graceSeconds: 0 })
  })

  it('refuse an interval of zero, a negative grace and values that are no whole number of seconds', () => {
    for (const env of [{ PRUNE_INTERVAL_SECONDS: '0' }, { PRUNE_INTERVAL_SECONDS: '1.5' }, { PRUNE_INTERVAL_SECONDS: '86401' }, { PRUNE_GRACE_SECONDS: '-1' }, { PRUNE_GRACE_SECONDS: 'soon' }]) {
      expect(() => loadConfig(env), JSON.stringify(env)).toThrow(new RegExp(Object.keys(env)[0]))
    }
  })
})
