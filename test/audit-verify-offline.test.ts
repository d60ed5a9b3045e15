import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createTestDatabase } from './helpers/database.js'
import { batches, recordEvents, runAuditVerifyCli } from './helpers/audit.js'
import { startTestService } from './helpers/service.js'

/** `npm run audit:verify` with the service stopped: it starts the local chain node from DATA_DIR itself. */
describe('audit:verify while the service is not running', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'medcred-audit-offline-'))
  const databasePromise = createTestDatabase()
  afterAll(async () => {
    await (await databasePromise).drop()
    fs.rmSync(dataDir, { recursive: true, force: true })
  })

  it('checks the whole trail against the chain state the service left, and leaves no node behind', async () => {
    const database = await databasePromise
    const svc = await startTestService({ dataDir, database, env: { AUDIT_ANCHOR_EVERY: '4', AUDIT_ANCHOR_SECONDS: '3600' } })
    await recordEvents(svc, 9)
    await svc.auditAnchorer.runOnce()
    expect((await batches(svc)).map((b) => b.status)).toEqual(['anchored', 'anchored'])
    await svc.stop()
    expect(fs.existsSync(path.join(dataDir, 'chain', 'rpc.json'))).toBe(false)

    const res = await runAuditVerifyCli(svc)
    expect(res.stderr).toBe('')
    expect(res.code).toBe(0)
    expect(res.stdout).toMatch(/9 events checked \(head at 9\); batches: 2 anchored, 0 pending; 1 events not yet in a batch/)
    expect(fs.existsSync(path.join(dataDir, 'chain', 'anvil.pid'))).toBe(false)
  }, 60_000)

  it('exits 2, not 0, when there is no database to check', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'medcred-audit-empty-'))
    try {
      const res = await runAuditVerifyCli({ dataDir: empty, database: {} } as never)
      expect(res.code).toBe(2)
      expect(res.stderr).toMatch(/no medcred database/)
    } finally {
      fs.rmSync(empty, { recursive: true, force: true })
    }
  })
})
