import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { captureOutput } from './helpers/capture-output.js'
import { HolderWallet } from '../src/holder/wallet.js'
import { jsonLogger } from '../src/log.js'
import { tamperJwt } from './helpers/fixtures.js'
import { startTestService, type TestService } from './helpers/service.js'

const NAME = 'Sasha Logprobe'
const BIRTH = '1966-03-09'
const MRN = 'MRN-LOG-77'

/** Whatever goes in, no log line holds a bearer token, an API key, a JWT, a private key or patient values. */
describe('logs carry no secrets or patient values', () => {
  it('scrubs fields by name at any depth and secret-looking values anywhere', () => {
    const lines: string[] = []
    const log = jsonLogger({ write: (c: string) => (lines.push(c), true) } as unknown as NodeJS.WritableStream)
    const jwt = 'eyJhbGciOiJFUzI1NksifQ.eyJzdWIiOiJ4In0.c2lnbmF0dXJl'
    const key = 'mck_' + 'A'.repeat(43)
    const hex = 'ab'.repeat(32)
    log.info(`got ${jwt} and ${key}`, {
      headers: { authorization: 'Bearer admin-token-value-123456789', 'x-api-key': 'k-secret-1' },
      nested: { deeper: { privateKey: 'pk-value-1', note: `key ${hex}` } },
      credentialSubject: { name: NAME, birthDate: BIRTH },
      error: new Error(`failed on ${jwt}~WyJzYWx0IiwibmFtZSIsIngiXQ~`),
    })
    log.error('boom', { token: 'tok-value-1', apiKey: key })
    const all = lines.join('')
    for (const secret of [jwt, key, hex, 'admin-token-value-123456789', 'k-secret-1', 'pk-value-1', NAME, BIRTH, 'tok-value-1', 'WyJzYWx0']) expect(all).not.toContain(secret)
    expect(lines.map((l) => JSON.parse(l).level)).toEqual(['info', 'error'])
    expect(all).toContain('[redacted]')
  })

  describe('a whole run of the service', () => {
    let svc: TestService
    let output: ReturnType<typeof captureOutput>
    beforeAll(async () => {
      output = captureOutput()
      svc = await startTestService()
    })
    afterAll(async () => {
      output.restore()
      await svc?.dispose()
    })

    it('logs requests of every kind without a token, key, JWT or patient value', async () => {
      const idp = await svc.api.createTrustedIdentityProvider('Log Desk')
      const patient = await HolderWallet.create()
      const credential = { '@context': ['https://www.w3.org/2018/credentials/v1'], issuer: idp.did, type: ['VerifiableCredential', 'PatientIdentityCredential'], credentialSubject: { id: patient.did, name: NAME, birthDate: BIRTH, assuranceLevel: 'IAL2', identifiers: [{ system: 'urn:mrn:x', value: MRN }] } }
      const issued = await svc.api.post('/credentials/issue', { credential }, idp.apiKey)
      expect(issued.status).toBe(201)
      const jwt = issued.body.verifiableCredential.proof.jwt as string
      const sd = await svc.api.post('/credentials/issue', { credential, options: { format: 'dc+sd-jwt' } }, idp.apiKey)
      expect(sd.status).toBe(201)
      await svc.api.post('/credentials/verify', { verifiableCredential: jwt })
      await svc.api.post('/credentials/verify', { verifiableCredential: tamperJwt(jwt, 2) })
      await svc.api.post('/credentials/verify', { verifiableCredential: sd.body.verifiableCredential })
      await svc.api.post('/credentials/issue', { credential: { ...credential, credentialSubject: { ...credential.credentialSubject, birthDate: 'x' + BIRTH } } }, idp.apiKey)
      await svc.api.get('/institutions/' + idp.id, 'mck_' + 'Z'.repeat(43))
      await svc.api.get('/institutions/' + idp.id, jwt)
      await svc.api.get('/metrics', svc.secrets.adminToken)

      const lines = svc.logs.join('') + output.lines.join('')
      expect(svc.logs.length).toBeGreaterThan(8)
      for (const secret of [svc.secrets.adminToken, svc.secrets.kmsSecretKey, idp.apiKey, 'mck_' + 'Z'.repeat(43), jwt, jwt.split('.')[1], sd.body.verifiableCredential.split('~')[0], NAME, BIRTH, MRN]) {
        expect(lines).not.toContain(secret)
      }
    })
  })
})
