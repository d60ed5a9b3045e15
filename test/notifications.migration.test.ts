import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { DataSource } from 'typeorm'
import { Entities as veramoEntities, migrations as veramoMigrations } from '@veramo/data-store'
import { medcredMigrations } from '../migrations/index.js'
import { CreateNotificationTables1764200000000 } from '../migrations/1764200000000-CreateNotificationTables.js'
import { createTestDatabase } from './helpers/database.js'

const TABLES = ['medcred_webhook', 'medcred_notification', 'medcred_webhook_delivery']

describe('migration CreateNotificationTables on a database at the previous schema', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'medcred-notify-migration-'))
  const databasePromise = createTestDatabase()
  afterAll(async () => {
    await (await databasePromise).drop()
    fs.rmSync(dataDir, { recursive: true, force: true })
  })

  async function open(migrations: Function[]): Promise<DataSource> {
    const database = await databasePromise
    // Veramo's own migrations look their tables up through its entities.
    const common = { entities: veramoEntities, migrations, migrationsRun: false, synchronize: false, logging: false as const }
    const ds = database.url
      ? new DataSource({ type: 'postgres', url: database.url, ...common })
      : new DataSource({ type: 'better-sqlite3', database: path.join(dataDir, 'old.sqlite'), ...common })
    await ds.initialize()
    return ds
  }

  it('adds the tables beside existing data, and down removes only them', async () => {
    const ours = medcredMigrations.indexOf(CreateNotificationTables1764200000000)
    expect(ours).toBeGreaterThan(0)
    const before = await open([...veramoMigrations, ...medcredMigrations.slice(0, ours)])
    await before.runMigrations({ transaction: 'each' })
    await before.query(
      `INSERT INTO medcred_institution (id, name, kind, did, "apiKeyHash", "anchorTx", "createdAt") VALUES ('i-1', 'Old Hospital', 'hospital', 'did:ethr:0x7a69:0x01', 'h', '0x00', '2025-01-01T00:00:00.000Z')`,
    )
    await before.destroy()

    const after = await open([...veramoMigrations, ...medcredMigrations.slice(0, ours + 1)])
    try {
      const ran = await after.runMigrations({ transaction: 'each' })
      expect(ran.map((m) => m.name)).toEqual(['CreateNotificationTables1764200000000'])
      const runner = after.createQueryRunner()
      for (const t of TABLES) expect(await runner.hasTable(t)).toBe(true)
      await after.query(
        `INSERT INTO medcred_webhook (id, "institutionId", url, events, "secretCiphertext", "createdAt") VALUES ('w-1', 'i-1', 'https://h.example/', '["credential.revoked"]', 'v1.x.y.z', '2025-01-02T00:00:00.000Z')`,
      )
      await expect(
        after.query(
          `INSERT INTO medcred_webhook (id, "institutionId", url, events, "secretCiphertext", "createdAt") VALUES ('w-2', 'nobody', 'https://h.example/', '[]', 'v1', '2025-01-02T00:00:00.000Z')`,
        ),
      ).rejects.toThrow()

      await after.undoLastMigration({ transaction: 'each' })
      for (const t of TABLES) expect(await runner.hasTable(t)).toBe(false)
      expect(await after.query(`SELECT name FROM medcred_institution`)).toEqual([{ name: 'Old Hospital' }])
      await runner.release()
    } finally {
      await after.destroy()
    }
  })
})
