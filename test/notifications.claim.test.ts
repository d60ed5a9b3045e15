import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DataSource } from 'typeorm'
import { Database } from '../src/db/database.js'
import { openDatabase } from '../src/db/data-source.js'
import { silentLogger } from '../src/log.js'
import { DeliveryEntity } from '../src/notifications/delivery.entity.js'
import { createNotifications, type DeliveryWorker } from '../src/notifications/index.js'
import { startTestService, type TestService } from './helpers/service.js'
import { AuditLog } from '../src/audit/audit-log.js'
import { WebhookListener } from './helpers/webhook-listener.js'

/** Several replicas draining one outbox: each delivery must be sent once, never by two workers at a time. */
describe('delivery claims across workers', () => {
  let svc: TestService
  let listener: WebhookListener
  const extra: { ds: DataSource; worker: DeliveryWorker }[] = []
  beforeAll(async () => {
    svc = await startTestService({ env: { WEBHOOK_POLL_MS: '10', WEBHOOK_RETRY_BASE_MS: '50' } })
    listener = await WebhookListener.start()
  })
  afterAll(async () => {
    for (const { ds, worker } of extra) {
      await worker.stop()
      await ds.destroy()
    }
    await listener?.close()
    await svc?.dispose()
  })

  /** Another replica: its own database connection and its own worker, same KMS secret. */
  async function replica(): Promise<DeliveryWorker> {
    const ds = await openDatabase({ databaseUrl: svc.config.databaseUrl, dataDir: svc.dataDir })
    const db = new Database(ds)
    const { worker } = createNotifications({
      db,
      audit: new AuditLog(db, { chainId: svc.chain.chainId, registry: svc.chain.registry }),
      kmsSecretKey: svc.secrets.kmsSecretKey,
      config: { ...svc.config.webhooks, pollMs: 10 },
      log: silentLogger,
    })
    extra.push({ ds, worker })
    return worker
  }

  it('sends every delivery exactly once with three workers polling the same table', async () => {
    const hospitals = await Promise.all([1, 2, 3].map((i) => svc.api.createInstitution({ name: `Replica H${i}`, kind: 'hospital' })))
    for (const h of hospitals) {
      for (const path of ['/one', '/two']) {
        expect((await svc.api.post('/webhooks', { url: listener.url(path), events: ['credential.revoked'] }, h.apiKey)).status).toBe(201)
      }
    }
    // All notices are written before the other replicas start: on SQLite a second connection's writes
    // could otherwise interleave with these transactions, which one process never does.
    await svc.store.transaction(async (m) => {
      for (let i = 0; i < 10; i++) {
        await svc.notifier.notify(m, { event: 'credential.revoked', recipients: hospitals.map((h) => h.id), data: { credentialId: `urn:uuid:c-${i}` } })
      }
    })
    const workers = [await replica(), await replica()]
    workers.forEach((w) => w.start())

    await listener.waitForDeliveries(60, 20_000)
    await new Promise((r) => setTimeout(r, 200))
    const ids = listener.requests.map((r) => r.headers['medcred-delivery'])
    expect(ids).toHaveLength(60)
    expect(new Set(ids).size).toBe(60)
    const rows = await svc.db.getRepository(DeliveryEntity).find()
    expect(rows.filter((r) => r.status === 'delivered')).toHaveLength(60)
    expect(rows.every((r) => r.attempts === 1 && r.lockToken === null)).toBe(true)
  })

  it("takes over a crashed worker's claim once its lease has lapsed, and not before", async () => {
    const h = await svc.api.createInstitution({ name: 'Crash Hospital', kind: 'hospital' })
    const l = await WebhookListener.start()
    try {
      await svc.api.post('/webhooks', { url: l.url(), events: ['credential.suspended'] }, h.apiKey)
      const now = Date.now()
      // As a crashed replica would leave them: claimed, attempt counted, never recorded.
      const [lapsed, live] = await svc.store.transaction(async (m) => {
        const out: string[] = []
        for (const lockedUntil of [new Date(now - 1000), new Date(now + 1500)]) {
          const { notifications } = await svc.notifier.notify(m, { event: 'credential.suspended', recipients: [h.id], data: { credentialId: `urn:uuid:${lockedUntil.getTime()}` } })
          const d = await m.getRepository(DeliveryEntity).findOneByOrFail({ notificationId: notifications[0].id })
          await m.update(DeliveryEntity, { id: d.id }, { lockedUntil: lockedUntil.toISOString(), lockToken: 'crashed-worker', attempts: 1 })
          out.push(d.id)
        }
        return out
      })

      const [first] = await l.waitForDeliveries(1)
      expect(first.headers['medcred-delivery']).toBe(lapsed)
      expect(first.headers['medcred-attempt']).toBe('2')
      expect(Date.now()).toBeLessThan(now + 1500)

      const [, second] = await l.waitForDeliveries(2, 5000)
      expect(second.headers['medcred-delivery']).toBe(live)
      expect(second.at).toBeGreaterThanOrEqual(now + 1500)
    } finally {
      await l.close()
    }
  })
})
