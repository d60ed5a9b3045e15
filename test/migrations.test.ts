import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { migrations as veramoMigrations } from '@veramo/data-store'
import { medcredMigrations } from '../migrations/index.js'
import { createDataSource } from '../src/db/data-source.js'
import { createTestDatabase, forTestDb, openAtMigrations } from './helpers/database.js'

/** Migrations run on a database holding data at the first released schema, and step back down. */
describe('migrations on an old-schema database', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'medcred-migrate-'))
  const dbPromise = createTestDatabase()
  afterAll(async () => {
    await (await dbPromise).drop()
    fs.rmSync(dataDir, { recursive: true, force: true })
  })

  const open = async (migrations: unknown[]) => openAtMigrations((await dbPromise).url, dataDir, migrations)

  it('keeps the data of the first schema through every later migration, and runs each down again', async () => {
    const old = await open([...veramoMigrations, medcredMigrations[0]])
    await old.runMigrations({ transaction: 'each' })
    const q = forTestDb
    await old.query(q('INSERT INTO medcred_institution (id, name, kind, jurisdiction, did, "apiKeyHash", "anchorTx", "createdAt") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)'), [
      '00000000-0000-4000-8000-000000000001', 'Old Board', 'board', 'US-TX', 'did:ethr:0x7a69:0xabc', 'a'.repeat(64), '0x' + '1'.repeat(64), '2026-01-01T00:00:00.000Z',
    ])
    await old.destroy()

    const { url } = await dbPromise
    const current = createDataSource({ databaseUrl: url, dataDir })
    await current.initialize()
    const applied = await current.runMigrations({ transaction: 'each' })
    expect(applied.map((m) => m.name)).toEqual(medcredMigrations.slice(1).map((M) => new M().name))
    const [row] = await current.query(q('SELECT name, "signingKid", "receiptWindowDays" FROM medcred_institution WHERE id = $1'), ['00000000-0000-4000-8000-000000000001'])
    expect(row).toEqual({ name: 'Old Board', signingKid: null, receiptWindowDays: null })
    expect(await current.runMigrations({ transaction: 'each' })).toEqual([])

    for (let i = 1; i < medcredMigrations.length; i++) await current.undoLastMigration({ transaction: 'each' })
    const [still] = await current.query(q('SELECT name FROM medcred_institution WHERE id = $1'), ['00000000-0000-4000-8000-000000000001'])
    expect(still).toEqual({ name: 'Old Board' })
    expect((await current.runMigrations({ transaction: 'each' })).length).toBe(medcredMigrations.length - 1)
    await current.destroy()
  })
})
