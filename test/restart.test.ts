import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { HolderWallet } from '../src/holder/wallet.js'
import { createTestDatabase } from './helpers/database.js'
import { licenseCredential } from './helpers/fixtures.js'
import { startTestService } from './helpers/service.js'

describe('restart on the same DATA_DIR', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'medcred-restart-'))
  const databasePromise = createTestDatabase()
  afterAll(async () => {
    await (await databasePromise).drop()
    fs.rmSync(dataDir, { recursive: true, force: true })
  })

  it('keeps institutions, their on-chain DIDs, their keys and issued credentials', async () => {
    const database = await databasePromise
    const first = await startTestService({ dataDir, database })
    const board = await first.api.createTrustedBoard('Texas Medical Board')
    const clinician = await HolderWallet.create()
    const issued = await first.api.post('/credentials/issue', { credential: licenseCredential(clinician.did) }, board.apiKey)
    expect(issued.status).toBe(201)
    const registry = first.chain.registry
    const adminToken = first.secrets.adminToken
    await first.stop()

    const second = await startTestService({ dataDir, database })
    try {
      expect(second.chain.registry).toBe(registry)
      expect(second.secrets.adminToken).toBe(adminToken)
      const own = await second.api.get(`/institutions/${board.id}`, board.apiKey)
      expect(own.status).toBe(200)

      const resolved = await second.api.get(`/1.0/identifiers/${encodeURIComponent(board.did)}`)
      expect(resolved.status).toBe(200)
      expect(resolved.body.didDocument.service[0].type).toBe('MedcredInstitution')

      const verified = await second.api.post('/credentials/verify', { verifiableCredential: issued.body.verifiableCredential })
      expect(verified.status).toBe(200)

      // The board's key still decrypts and signs.
      const again = await second.api.post('/credentials/issue', { credential: licenseCredential(clinician.did) }, board.apiKey)
      expect(again.status).toBe(201)
      const vp = await clinician.present([again.body.verifiableCredential], { challenge: 'c1', domain: 'd1' })
      const presented = await second.api.post('/presentations/verify', { verifiablePresentation: vp, options: { challenge: 'c1', domain: 'd1' } })
      expect(presented.status).toBe(200)
    } finally {
      await second.stop()
    }
  })

  it('kept the generated KMS secret in DATA_DIR, readable by its owner only', async () => {
    const secrets = JSON.parse(fs.readFileSync(path.join(dataDir, 'secrets.json'), 'utf8'))
    expect(secrets.kmsSecretKey).toMatch(/^[0-9a-f]{64}$/)
    expect(fs.statSync(path.join(dataDir, 'secrets.json')).mode & 0o077).toBe(0)
  })
})
