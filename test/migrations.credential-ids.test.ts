import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { migrations as veramoMigrations } from '@veramo/data-store'
import { medcredMigrations } from '../migrations/index.js'
import { CredentialIdsPerIssuer1765000000000 } from '../migrations/1765000000000-CredentialIdsPerIssuer.js'
import { createTestDatabase, forTestDb, openAtMigrations } from './helpers/database.js'

/** The move to per-issuer credential ids keeps issued credentials and gives each status entry its issuer. */
describe('migration CredentialIdsPerIssuer on a database holding credentials', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'medcred-migrate-ids-'))
  const dbPromise = createTestDatabase()
  afterAll(async () => {
    await (await dbPromise).drop()
    fs.rmSync(dataDir, { recursive: true, force: true })
  })

  it('backfills the issuer of every status entry and then allows the same id under two issuers', async () => {
    const at = medcredMigrations.indexOf(CredentialIdsPerIssuer1765000000000)
    const { url } = await dbPromise
    const open = (migrations: unknown[]) => openAtMigrations(url, dataDir, migrations)
    const q = forTestDb

    const old = await open([...veramoMigrations, ...medcredMigrations.slice(0, at)])
    await old.runMigrations({ transaction: 'each' })
    for (const [id, did] of [['inst-tx', 'did:ethr:0x7a69:0x01'], ['inst-oh', 'did:ethr:0x7a69:0x02']]) {
      await old.query(q('INSERT INTO medcred_institution (id, name, kind, did, "apiKeyHash", "anchorTx", "createdAt") VALUES ($1, $2, $3, $4, $5, $6, $7)'), [
        id, id, 'board', did, id.padEnd(64, '0'), '0x' + '1'.repeat(64), '2026-01-01T00:00:00.000Z',
      ])
    }
    await old.query(q('INSERT INTO medcred_status_list (id, "issuerInstitutionId", purpose, size, allocated, "permutationKey", bits, version, jwt, "updatedAt") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)'), [
      'list-tx', 'inst-tx', 'revocation', 8, 1, 'k'.repeat(64), 'AA==', 1, 'x.y.z', '2026-01-01T00:00:00.000Z',
    ])
    await old.query(q('INSERT INTO medcred_status_entry ("listId", "index", "credentialId", purpose, state) VALUES ($1, $2, $3, $4, $5)'), ['list-tx', 3, 'urn:shared', 'revocation', 'revoked'])
    const issued = q('INSERT INTO medcred_issued_credential (id, "issuerInstitutionId", "issuerDid", type, jwt, digest, "issuedAt") VALUES ($1, $2, $3, $4, $5, $6, $7)')
    await old.query(issued, ['urn:shared', 'inst-tx', 'did:ethr:0x7a69:0x01', 'ClinicianLicenseCredential', 'a.b.c', 'd'.repeat(64), '2026-01-01T00:00:00.000Z'])
    await expect(old.query(issued, ['urn:shared', 'inst-oh', 'did:ethr:0x7a69:0x02', 'ClinicianLicenseCredential', 'a.b.c', 'e'.repeat(64), '2026-01-01T00:00:00.000Z'])).rejects.toThrow()
    await old.destroy()

    const current = await open([...veramoMigrations, ...medcredMigrations])
    await current.runMigrations({ transaction: 'each' })
    const [entry] = await current.query(q('SELECT "issuerInstitutionId", state FROM medcred_status_entry WHERE "credentialId" = $1'), ['urn:shared'])
    expect(entry).toEqual({ issuerInstitutionId: 'inst-tx', state: 'revoked' })
    await current.query(issued, ['urn:shared', 'inst-oh', 'did:ethr:0x7a69:0x02', 'ClinicianLicenseCredential', 'a.b.c', 'e'.repeat(64), '2026-01-01T00:00:00.000Z'])
    await expect(current.query(issued, ['urn:shared', 'inst-oh', 'did:ethr:0x7a69:0x02', 'X', 'a.b.c', 'f'.repeat(64), '2026-01-01T00:00:00.000Z'])).rejects.toThrow()
    const rows = await current.query(q('SELECT "issuerInstitutionId" FROM medcred_issued_credential WHERE id = $1 ORDER BY "issuerInstitutionId"'), ['urn:shared'])
    expect(rows).toEqual([{ issuerInstitutionId: 'inst-oh' }, { issuerInstitutionId: 'inst-tx' }])
    await current.destroy()
  })
})
