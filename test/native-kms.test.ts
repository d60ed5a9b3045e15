import { randomBytes } from 'node:crypto'
import { ES256KSigner } from 'did-jwt'
import { describe, expect, it, vi } from 'vitest'
import { NativeKeyManagementSystem, signES256KNatively } from '../src/agent/native-kms.js'
import { startTestService } from './helpers/service.js'
import { licenseCredential } from './helpers/fixtures.js'

describe('the KMS signs ES256K natively', () => {
  it('makes exactly the signature did-jwt makes, for ES256K and ES256K-R', async () => {
    for (let i = 0; i < 20; i++) {
      const key = randomBytes(32)
      const data = randomBytes(64 + i)
      expect(signES256KNatively(key.toString('hex'), 'ES256K', data)).toBe(await ES256KSigner(key)(data))
      expect(signES256KNatively(key.toString('hex'), 'ES256K-R', data)).toBe(await ES256KSigner(key, true)(data))
    }
  })

  it('is the KMS the agent signs with, and what it signs verifies', async () => {
    const native = vi.spyOn(NativeKeyManagementSystem.prototype as unknown as { signES256K: () => Promise<string> }, 'signES256K')
    const svc = await startTestService()
    try {
      const board = await svc.api.createTrustedBoard('Texas Medical Board')
      const issued = await svc.api.post('/credentials/issue', { credential: licenseCredential('did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK') }, board.apiKey)
      expect(issued.status).toBe(201)
      expect((await svc.api.post('/credentials/verify', { verifiableCredential: issued.body.verifiableCredential })).status).toBe(200)
      expect(native).toHaveBeenCalled()
    } finally {
      native.mockRestore()
      await svc.dispose()
    }
  })
})
