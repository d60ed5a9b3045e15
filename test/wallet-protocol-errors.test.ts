import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestService, type TestService } from './helpers/service.js'

/**
 * The wallet protocol endpoints answer OAuth error JSON; a body the reader refuses (over the size limit)
 * is the client's error there too: 413 `invalid_request`/`invalid_credential_request`, never a 500
 * `server_error`. Found by test/properties.http.test.ts.
 */
describe('wallet protocol endpoints and bodies the reader refuses', () => {
  let svc: TestService
  let board: { id: string }

  beforeAll(async () => {
    svc = await startTestService({ env: { BODY_LIMIT_BYTES: '2048' } })
    board = await svc.api.createInstitution({ name: 'Board', kind: 'board', jurisdiction: 'US-TX' })
  })
  afterAll(() => svc?.dispose())

  it('answers an oversized Credential Request with 413 invalid_credential_request', async () => {
    const res = await svc.api.post(`/oid4vci/${board.id}/credential`, { proofs: { jwt: ['x'.repeat(5000)] } })
    expect(res.status).toBe(413)
    expect(res.type).toMatch(/^application\/json/)
    expect(res.body.error).toBe('invalid_credential_request')
  })

  it('answers an oversized token request (form) with 413 invalid_request', async () => {
    const res = await svc.api.request('POST', `/oid4vci/${board.id}/token`, {
      raw: `grant_type=${'x'.repeat(5000)}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    expect(res.status).toBe(413)
    expect(res.body.error).toBe('invalid_request')
  })

  it('still answers an oversized body elsewhere with a 413 problem', async () => {
    const res = await svc.api.post('/credentials/verify', { verifiableCredential: 'x'.repeat(5000) })
    expect(res.status).toBe(413)
    expect(res.type).toMatch(/^application\/problem\+json/)
  })
})
