import { randomBytes } from 'node:crypto'
import pg from 'pg'

/**
 * Which database the suite runs on: `MEDCRED_TEST_DB=postgres` (set by scripts/test-all.sh for the second
 * run) gives each test file a fresh PostgreSQL database, created and dropped here; otherwise SQLite files.
 */
export const TEST_DB = process.env.MEDCRED_TEST_DB === 'postgres' ? 'postgres' : 'sqlite'
const ADMIN_URL = process.env.MEDCRED_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

export interface TestDatabase {
  /** Undefined on SQLite (the service then uses a file in its data dir). */
  url?: string
  drop(): Promise<void>
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

export async function createTestDatabase(): Promise<TestDatabase> {
  if (TEST_DB === 'sqlite') return { drop: async () => {} }
  const name = `medcred_t_${randomBytes(6).toString('hex')}`
  await admin((c) => c.query(`CREATE DATABASE ${name}`))
  const url = new URL(ADMIN_URL)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  }
}
