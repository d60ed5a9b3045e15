import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { verifySignature } from '../src/notifications/signature.js'
import { createTestDatabase } from './helpers/database.js'
import { startTestService } from './helpers/service.js'
import { WebhookListener } from './helpers/webhook-listener.js'

describe('webhook retries survive a restart', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'medcred-notify-restart-'))
  const databasePromise = createTestDatabase()
  const listeners: WebhookListener[] = []
  afterAll(async () => {
    await Promise.all(listeners.map((l) => l.close()))
    await (await databasePromise).drop()
    fs.rmSync(dataDir, { recursive: true, force: true })
  })

  it('A and B both receive the webhook after the service stops in the middle of retries', async () => {
    const database = await databasePromise
    // The first run retries slowly (so the stop lands between attempts) and times out quickly (so B's
    // hanging receiver is still mid-attempt when the stop begins).
    const first = await startTestService({
      dataDir,
      database,
      env: { WEBHOOK_POLL_MS: '25', WEBHOOK_RETRY_BASE_MS: '2000', WEBHOOK_TIMEOUT_MS: '1500' },
    })
    const la = (await WebhookListener.start()).answer(500)
    const lb = (await WebhookListener.start()).answer('hang')
    listeners.push(la, lb)
    const a = await first.api.createInstitution({ name: 'Hospital A', kind: 'hospital' })
    const b = await first.api.createInstitution({ name: 'Hospital B', kind: 'hospital' })
    const wa = (await first.api.post('/webhooks', { url: la.url(), events: ['credential.revoked'] }, a.apiKey)).body
    const wb = (await first.api.post('/webhooks', { url: lb.url(), events: ['credential.revoked'] }, b.apiKey)).body
    const data = { credentialId: 'urn:uuid:restart', issuerDid: 'did:ethr:0x7a69:0x123' }
    const { notifications } = await first.store.transaction((m) =>
      first.notifier.notify(m, { event: 'credential.revoked', recipients: [a.id, b.id], data }),
    )

    await la.waitForRequests(1)
    await lb.waitForRequests(1)
    await first.stop()
    expect(la.delivered).toHaveLength(0)
    expect(lb.delivered).toHaveLength(0)

    const second = await startTestService({ dataDir, database, env: { WEBHOOK_POLL_MS: '25', WEBHOOK_RETRY_BASE_MS: '50' } })
    try {
      for (const [inst, l, w] of [[a, la, wa], [b, lb, wb]] as const) {
        const [delivered] = await l.waitForDeliveries(1, 10_000)
        const firstTry = l.requests[0]
        const mine = notifications.find((n) => n.institutionId === inst.id)!
        expect(JSON.parse(delivered.body)).toMatchObject({ id: mine.id, event: 'credential.revoked', data })
        expect(delivered.body).toBe(firstTry.body)
        expect(delivered.headers['medcred-delivery']).toBe(firstTry.headers['medcred-delivery'])
        expect(delivered.headers['medcred-attempt']).toBe('2')
        // The secret was decrypted by the new process from the same KMS secret.
        expect(verifySignature(w.secret, delivered.body, String(delivered.headers['medcred-signature']))).toBe(true)
      }
      const until = Date.now() + 5000
      for (const inst of [a, b]) {
        for (;;) {
          const listed = await second.api.get('/notifications', inst.apiKey)
          const d = listed.body.items[0]?.deliveries[0]
          if (d?.status === 'delivered') {
            expect(d.attempts).toBe(2)
            break
          }
          if (Date.now() > until) throw new Error(`not recorded as delivered: ${JSON.stringify(listed.body)}`)
          await new Promise((r) => setTimeout(r, 25))
        }
      }
      expect(la.requests).toHaveLength(2)
      expect(lb.requests).toHaveLength(2)
    } finally {
      await second.stop()
    }
  })
})
