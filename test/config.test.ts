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
