import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HolderWallet } from '../src/holder/wallet.js'
import { licenseCredential, reencodeJwt } from './helpers/fixtures.js'
import { startTestService, type TestService } from './helpers/service.js'

/**
 * Keys from outside (a path segment, a JWT header's `alg`) that name an Object.prototype member must find
 * nothing in medcred's lookup tables: a 4xx problem, never a 500. Found by test/properties.http.test.ts.
 */
describe('prototype member names as lookup keys', () => {
  let svc: TestService
  let board: { apiKey: string }
  let clinician: HolderWallet

  beforeAll(async () => {
    svc = await startTestService()
    board = await svc.api.createTrustedBoard('Board')
    clinician = await HolderWallet.create()
  })
  afterAll(() => svc?.dispose())

  it('answers /vct/<Object.prototype member> with a 404 problem', async () => {
    for (const name of ['valueOf', 'constructor', 'toString', 'hasOwnProperty', '__proto__']) {
      const res = await svc.api.get(`/vct/${name}`)
      expect(res.status, name).toBe(404)
      expect(res.type).toMatch(/^application\/problem\+json/)
      expect(res.body.type).toBe('https://medcred.dev/problems/not-found')
    }
  })

  it('fails a credential whose JWT alg names an Object.prototype member with a verdict, not a 500', async () => {
    const vc = (await svc.api.post('/credentials/issue', { credential: licenseCredential(clinician.did) }, board.apiKey)).body.verifiableCredential
    for (const alg of ['constructor', 'valueOf', '__proto__']) {
      const odd = reencodeJwt(vc.proof.jwt, (h) => {
        h.alg = alg
      })
      const res = await svc.api.post('/credentials/verify', { verifiableCredential: odd })
      expect(res.status, alg).toBe(400)
      expect(res.body.verified).toBe(false)
    }
  })
})
