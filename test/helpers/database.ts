import { randomBytes } from 'node:crypto'
import path from 'node:path'
import pg from 'pg'
import { DataSource } from 'typeorm'
import { Entities as veramoEntities } from '@veramo/data-store'

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

async function admin<T>(adminUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

export async function createTestDatabase(): Promise<TestDatabase> {
  if (TEST_DB === 'sqlite') return { drop: async () => {} }
  return createPostgresDatabase(ADMIN_URL)
}

/** A fresh database on the PostgreSQL server `adminUrl` connects to (e.g. a test's private server). */
export async function createPostgresDatabase(adminUrl: string): Promise<TestDatabase> {
  const name = `medcred_t_${randomBytes(6).toString('hex')}`
  await admin(adminUrl, (c) => c.query(`CREATE DATABASE ${name}`))
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    drop: () => admin(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  }
}

/**
 * A bare DataSource on `url` (PostgreSQL) or on `<dataDir>/medcred.sqlite`, with only Veramo's entities and
 * the given migrations: for tests that build a database at an old schema and migrate it forward.
 */
export async function openAtMigrations(url: string | undefined, dataDir: string, migrations: unknown[]): Promise<DataSource> {
  const common = { entities: veramoEntities, migrations: migrations as never, migrationsRun: false, synchronize: false, logging: false as const }
  const ds = url ? new DataSource({ type: 'postgres', url, ...common }) : new DataSource({ type: 'better-sqlite3', database: path.join(dataDir, 'medcred.sqlite'), ...common })
  await ds.initialize()
  return ds
}

/** `sql` written with `$1…` placeholders, for the database the suite runs on (SQLite takes `?`). */
export const forTestDb = (sql: string): string => (TEST_DB === 'postgres' ? sql : sql.replace(/\$\d+/g, '?'))
