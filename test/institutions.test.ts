import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { InstitutionEntity } from '../src/institutions/institution.entity.js'
import { hashApiKey } from '../src/institutions/api-keys.js'
import { startTestService, type TestService } from './helpers/service.js'

describe('institutions', () => {
  let svc: TestService
  beforeAll(async () => {
    svc = await startTestService()
  })
  afterAll(() => svc?.dispose())

  it('creates a board whose did:ethr is anchored on chain with its service endpoint', async () => {
    const res = await svc.api.post('/institutions', { name: 'Texas Medical Board', kind: 'board', jurisdiction: 'US-TX' }, svc.api.adminToken)
    expect(res.status).toBe(201)
    expect(res.headers.get('location')).toBe(`/institutions/${res.body.id}`)
    expect(res.body).toMatchObject({ name: 'Texas Medical Board', kind: 'board', jurisdiction: 'US-TX' })
    expect(res.body.did).toMatch(/^did:ethr:0x7a69:0x0[23][0-9a-f]{64}$/)
    expect(res.body.apiKey).toMatch(/^mck_/)

    const receipt = await svc.chain.provider.getTransactionReceipt(res.body.anchorTx)
    expect(receipt?.status).toBe(1)
    expect(receipt?.to?.toLowerCase()).toBe(svc.chain.registry.toLowerCase())

    const resolved = await svc.api.get(`/1.0/identifiers/${encodeURIComponent(res.body.did)}`)
    expect(resolved.status).toBe(200)
    expect(resolved.body.didDocument.service).toEqual([
      expect.objectContaining({ type: 'MedcredInstitution', serviceEndpoint: `${svc.config.publicUrl}/institutions/${res.body.id}` }),
    ])
    expect(resolved.body.didDocumentMetadata.versionId).toBeDefined()
  })

  it('stores only the hash of the API key and never returns it again', async () => {
    const created = await svc.api.createInstitution({ name: "St. Luke's", kind: 'hospital' })
    const row = await svc.db.getRepository(InstitutionEntity).findOneByOrFail({ id: created.id })
    expect(row.apiKeyHash).toBe(hashApiKey(created.apiKey))
    expect(JSON.stringify(row)).not.toContain(created.apiKey)

    const own = await svc.api.get(`/institutions/${created.id}`, created.apiKey)
    expect(own.status).toBe(200)
    expect(own.body).toMatchObject({ id: created.id, did: created.did })
    expect(own.body).not.toHaveProperty('apiKey')
    expect(own.body).not.toHaveProperty('apiKeyHash')
  })

  it('keeps private keys encrypted at rest', async () => {
    const created = await svc.api.createInstitution({ name: 'Keys Board', kind: 'board' })
    const rows: { privateKeyHex: string }[] = await svc.db.query('SELECT "privateKeyHex" FROM "private-key"')
    expect(rows.length).toBeGreaterThan(0)
    const identifier = await svc.agent.didManagerGet({ did: created.did })
    const kms = identifier.keys[0]
    // The stored value is a SecretBox ciphertext, not the 64-hex private key.
    for (const r of rows) expect(r.privateKeyHex).not.toMatch(/^[0-9a-f]{64}$/)
    expect(kms.publicKeyHex).toBeDefined()
  })

  it('refuses creation without the admin token (401) or with an institution key (403)', async () => {
    const hospital = await svc.api.createInstitution({ name: 'H', kind: 'hospital' })
    const anon = await svc.api.post('/institutions', { name: 'X', kind: 'board' })
    expect(anon.status).toBe(401)
    expect(anon.type).toBe('application/problem+json')
    expect(anon.body.type).toBe('https://medcred.dev/problems/unauthorized')
    const byHospital = await svc.api.post('/institutions', { name: 'X', kind: 'board' }, hospital.apiKey)
    expect(byHospital.status).toBe(403)
    expect(byHospital.body.type).toBe('https://medcred.dev/problems/forbidden')
  })

  it('rejects a wrong bearer token with 401 rather than treating it as anonymous', async () => {
    const res = await svc.api.get('/institutions/whatever', 'mck_not-a-real-key')
    expect(res.status).toBe(401)
    expect(res.body.detail).toMatch(/not a valid API key/)
  })

  it.each([
    [{ name: 'X', kind: 'pharmacy' }, 'kind'],
    [{ name: '', kind: 'board' }, 'name'],
    [{ name: 'X', kind: 'board', jurisdiction: 'Texas' }, 'jurisdiction'],
    [{ name: 'X', kind: 'board', extra: 1 }, '(body)'],
    [[1, 2], '(body)'],
  ])('rejects %j naming the field %s', async (body, field) => {
    const res = await svc.api.post('/institutions', body, svc.api.adminToken)
    expect(res.status).toBe(400)
    expect(res.type).toBe('application/problem+json')
    expect(res.body.type).toBe('https://medcred.dev/problems/invalid-request')
    expect(res.body.errors[0].field).toBe(field)
  })

  it("lets an institution read only its own record", async () => {
    const a = await svc.api.createInstitution({ name: 'A', kind: 'hospital' })
    const b = await svc.api.createInstitution({ name: 'B', kind: 'hospital' })
    expect((await svc.api.get(`/institutions/${b.id}`, a.apiKey)).status).toBe(403)
    expect((await svc.api.get(`/institutions/${b.id}`)).status).toBe(401)
    expect((await svc.api.get(`/institutions/${b.id}`, svc.api.adminToken)).status).toBe(200)
    const missing = await svc.api.get('/institutions/00000000-0000-0000-0000-000000000000', svc.api.adminToken)
    expect(missing.status).toBe(404)
    expect(missing.body.type).toBe('https://medcred.dev/problems/not-found')
  })
})
