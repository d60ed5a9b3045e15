import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { migrations as veramoMigrations } from '@veramo/data-store'
import { medcredMigrations } from '../migrations/index.js'
import { BitstringStatusLists1765400000000 } from '../migrations/1765400000000-BitstringStatusLists.js'
import { createTestDatabase, forTestDb, openAtMigrations, TEST_DB } from './helpers/database.js'

/** Lists made before the migration stay StatusList2021 lists; reverting refuses while Bitstring lists exist. */
describe('migration BitstringStatusLists on a database holding status lists', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'medcred-migrate-bsl-'))
  const dbPromise = createTestDatabase()
  afterAll(async () => {
    await (await dbPromise).drop()
    fs.rmSync(dataDir, { recursive: true, force: true })
  })

  it('gives existing lists the StatusList2021 format, and its down refuses while a Bitstring list exists', async () => {
    const at = medcredMigrations.indexOf(BitstringStatusLists1765400000000)
    expect(at).toBe(medcredMigrations.length - 1)
    const { url } = await dbPromise
    const open = (migrations: unknown[]) => openAtMigrations(url, dataDir, migrations)
    const q = forTestDb
    const insertList = q('INSERT INTO medcred_status_list (id, "issuerInstitutionId", purpose, size, allocated, "permutationKey", bits, version, jwt, "updatedAt") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)')
    const row = (id: string) => [id, 'inst-tx', 'revocation', 8, 1, 'k'.repeat(64), 'AA==', 1, 'x.y.z', '2026-01-01T00:00:00.000Z']

    const old = await open([...veramoMigrations, ...medcredMigrations.slice(0, at)])
    await old.runMigrations({ transaction: 'each' })
    await old.query(q('INSERT INTO medcred_institution (id, name, kind, did, "apiKeyHash", "anchorTx", "createdAt") VALUES ($1, $2, $3, $4, $5, $6, $7)'), [
      'inst-tx', 'inst-tx', 'board', 'did:ethr:0x7a69:0x01', 'inst-tx'.padEnd(64, '0'), '0x' + '1'.repeat(64), '2026-01-01T00:00:00.000Z',
    ])
    await old.query(insertList, row('list-old'))
    await old.destroy()

    const current = await open([...veramoMigrations, ...medcredMigrations])
    await current.runMigrations({ transaction: 'each' })
    expect(await current.query(q('SELECT format FROM medcred_status_list WHERE id = $1'), ['list-old'])).toEqual([{ format: 'StatusList2021' }])
    await current.query(q('INSERT INTO medcred_status_list (id, "issuerInstitutionId", purpose, format, size, allocated, "permutationKey", bits, version, jwt, "updatedAt") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)'), [
      'list-new', 'inst-tx', 'revocation', 'BitstringStatusList', 8, 1, 'k'.repeat(64), 'AA==', 1, 'x.y.z', '2026-01-01T00:00:00.000Z',
    ])
    await expect(current.undoLastMigration({ transaction: 'each' })).rejects.toThrow(/cannot be reverted while Bitstring Status Lists exist/)
    await current.query(q('DELETE FROM medcred_status_list WHERE id = $1'), ['list-new'])
    await current.undoLastMigration({ transaction: 'each' })
    const columns = await current.query(TEST_DB === 'postgres' ? `SELECT column_name AS name FROM information_schema.columns WHERE table_name = 'medcred_status_list'` : `PRAGMA table_info(medcred_status_list)`)
    expect(columns.map((c: { name: string }) => c.name)).not.toContain('format')
    await current.destroy()
  })
})
