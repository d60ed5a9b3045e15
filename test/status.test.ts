import { gunzipSync } from 'node:zlib'
import { verifyJWT } from 'did-jwt'
import { Resolver } from 'did-resolver'
import { getResolver } from 'ethr-did-resolver'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HolderWallet } from '../src/holder/wallet.js'
import { licenseCredential, patientIdentityCredential } from './helpers/fixtures.js'
import { startTestService, type TestService } from './helpers/service.js'

describe('revocation and suspension through status lists', () => {
  let svc: TestService
  let board: { id: string; did: string; apiKey: string }
  let hospital: { did: string; apiKey: string }
  let clinician: HolderWallet

  beforeAll(async () => {
    svc = await startTestService()
    board = await svc.api.createTrustedBoard('Texas Medical Board')
    hospital = await svc.api.createInstitution({ name: 'Mercy General', kind: 'hospital' })
    clinician = await HolderWallet.create()
  })
  afterAll(() => svc?.dispose())

  const issueLicense = async () =>
    (await svc.api.post('/credentials/issue', { credential: licenseCredential(clinician.did) }, board.apiKey)).body.verifiableCredential
  const verify = (vc: unknown) => svc.api.post('/credentials/verify', { verifiableCredential: vc })
  const setStatus = (credentialId: string, status: string, token = board.apiKey, reason?: string) =>
    svc.api.post('/credentials/status', { credentialId, credentialStatus: [{ type: 'StatusList2021Entry', status }], ...(reason ? { reason } : {}) }, token)
  const statusCheck = (body: any) => body.checks.find((c: any) => c.check === 'status')

  it('gives every license a revocation and a suspension entry in lists of its issuer', async () => {
    const vc = await issueLicense()
    expect(vc.credentialStatus).toHaveLength(2)
    for (const entry of vc.credentialStatus) {
      expect(entry).toMatchObject({ type: 'StatusList2021Entry', statusListIndex: expect.stringMatching(/^\d+$/) })
      expect(entry.statusListCredential).toMatch(new RegExp(`^${svc.config.publicUrl}/status/[0-9a-f-]{36}$`))
      expect(entry.id).toBe(`${entry.statusListCredential}#${entry.statusListIndex}`)
    }
    expect(vc.credentialStatus.map((e: any) => e.statusPurpose)).toEqual(['revocation', 'suspension'])
    const patient = await svc.api.post('/credentials/issue', { credential: patientIdentityCredential(clinician.did) }, hospital.apiKey)
    expect(patient.body.verifiableCredential.credentialStatus.statusPurpose).toBe('revocation')
  })

  it('verifies, then fails as revoked on the very next check after revocation', async () => {
    const vc = await issueLicense()
    const before = await verify(vc)
    expect(before.status).toBe(200)
    expect(statusCheck(before.body)).toEqual({ check: 'status', ok: true, detail: 'not revoked, not suspended' })

    const revoked = await setStatus(vc.id, 'revoked', board.apiKey, 'disciplinary-action')
    expect(revoked.status).toBe(200)
    expect(revoked.body).toMatchObject({ credentialId: vc.id, status: 'revoked', changed: true })

    const after = await verify(vc)
    expect(after.status).toBe(400)
    expect(after.body.errors).toEqual([{ check: 'status', detail: 'revoked' }])
  })

  it('suspends, fails as suspended, reinstates, verifies again', async () => {
    const vc = await issueLicense()
    expect((await setStatus(vc.id, 'suspended')).body).toMatchObject({ status: 'suspended', changed: true })
    const suspended = await verify(vc)
    expect(suspended.body.errors).toEqual([{ check: 'status', detail: 'suspended' }])
    expect((await setStatus(vc.id, 'active')).body).toMatchObject({ status: 'active', changed: true, detail: 'reinstated' })
    expect((await verify(vc)).status).toBe(200)

    const status = await svc.api.get(`/credentials/${encodeURIComponent(vc.id)}/status`, board.apiKey)
    expect(status.status).toBe(200)
    expect(status.body.status).toBe('active')
    expect(status.body.history.map((h: any) => [h.purpose, h.from, h.to, h.reason, h.by])).toEqual([
      ['suspension', 'active', 'suspended', 'unspecified', board.id],
      ['suspension', 'suspended', 'active', 'reinstated', board.id],
    ])
  })

  it('answers a second revocation clearly and changes nothing', async () => {
    const vc = await issueLicense()
    await setStatus(vc.id, 'revoked')
    const listUrl = new URL(vc.credentialStatus[0].statusListCredential)
    const etagBefore = (await svc.api.get(listUrl.pathname)).headers.get('etag')
    const again = await setStatus(vc.id, 'revoked')
    expect(again.status).toBe(200)
    expect(again.body).toMatchObject({ status: 'revoked', changed: false, detail: 'already revoked; nothing changed' })
    expect((await svc.api.get(listUrl.pathname)).headers.get('etag')).toBe(etagBefore)
  })

  it('keeps revocation final: reinstating a revoked credential is a 409', async () => {
    const vc = await issueLicense()
    await setStatus(vc.id, 'revoked')
    for (const status of ['active', 'suspended']) {
      const res = await setStatus(vc.id, status)
      expect(res.status).toBe(409)
      expect(res.body.detail).toMatch(/revocation is final/)
    }
  })

  it("answers another institution's credential as not found, like an unknown one (404)", async () => {
    const vc = await issueLicense()
    const res = await setStatus(vc.id, 'revoked', hospital.apiKey)
    expect(res.status).toBe(404)
    expect(res.type).toBe('application/problem+json')
    expect(res.body.type).toBe('https://medcred.dev/problems/not-found')
    expect((await verify(vc)).status).toBe(200)
    expect((await svc.api.get(`/credentials/${encodeURIComponent(vc.id)}/status`, hospital.apiKey)).status).toBe(404)
    expect((await setStatus('urn:uuid:00000000-0000-4000-8000-000000000000', 'revoked')).status).toBe(404)
    expect((await svc.api.post('/credentials/status', { credentialId: vc.id, credentialStatus: [{ type: 'StatusList2021Entry', status: 'revoked' }] })).status).toBe(401)
  })

  it('rejects malformed status requests with 400, and suspending a patient identity with 409', async () => {
    const vc = await issueLicense()
    for (const body of [
      { credentialId: vc.id, credentialStatus: [{ type: 'StatusList2021Entry', status: 'deleted' }] },
      { credentialId: vc.id, credentialStatus: [{ type: 'Other', status: 'revoked' }] },
      { credentialId: vc.id, credentialStatus: [] },
      { credentialId: vc.id, credentialStatus: [{ type: 'StatusList2021Entry', status: 'revoked' }], reason: 'because' },
    ]) {
      const res = await svc.api.post('/credentials/status', body, board.apiKey)
      expect(res.status).toBe(400)
    }
    const patient = (await svc.api.post('/credentials/issue', { credential: patientIdentityCredential(clinician.did) }, hospital.apiKey)).body.verifiableCredential
    const res = await setStatus(patient.id, 'suspended', hospital.apiKey)
    expect(res.status).toBe(409)
    expect(res.body.detail).toMatch(/cannot be suspended/)
  })

  it('hands out indexes not in issuance order, never twice, even when issuing concurrently', async () => {
    const issued = await Promise.all(Array.from({ length: 12 }, () => issueLicense()))
    const revocationIndexes = issued.map((vc) => Number(vc.credentialStatus[0].statusListIndex))
    expect(new Set(revocationIndexes).size).toBe(12)
    const sorted = [...revocationIndexes].sort((a, b) => a - b)
    const consecutive = sorted.every((v, i) => i === 0 || v === sorted[i - 1] + 1)
    expect(consecutive).toBe(false)
  })

  it('serves the list with ETag and Cache-Control, and answers 304 to a matching If-None-Match', async () => {
    const vc = await issueLicense()
    const path = new URL(vc.credentialStatus[0].statusListCredential).pathname
    const res = await svc.api.request('GET', path, { headers: { accept: 'application/vc+jwt' } })
    expect(res.status).toBe(200)
    expect(res.type).toBe('application/vc+jwt')
    expect(res.headers.get('cache-control')).toBe('public, no-cache')
    const etag = res.headers.get('etag')!
    const again = await svc.api.request('GET', path, { headers: { 'if-none-match': etag } })
    expect(again.status).toBe(304)
    const json = await svc.api.request('GET', path, { headers: { accept: 'application/json' } })
    expect(json.body.type).toContain('StatusList2021Credential')
    expect((await svc.api.get('/status/00000000-0000-0000-0000-000000000000')).status).toBe(404)
  })

  it('serves a list a third party can check with only the list credential and the DID document', async () => {
    const vc = await issueLicense()
    await setStatus(vc.id, 'revoked')
    const entry = vc.credentialStatus[0]
    // (PUBLIC_URL names port 0 in tests, which listen on a free port: fetch the same path from the server.)
    const res = await fetch(svc.url + new URL(entry.statusListCredential).pathname, { headers: { accept: 'application/vc+jwt' } })
    const jwt = await res.text()

    // An independent verifier: its own did:ethr resolver on the chain, did-jwt, zlib, and the spec's bit order.
    const resolver = new Resolver(getResolver({ networks: [{ name: svc.chain.network, chainId: svc.chain.chainId, rpcUrl: svc.chain.rpcUrl, registry: svc.chain.registry }] }))
    const { payload } = await verifyJWT(jwt, { resolver, proofPurpose: 'assertionMethod' })
    expect(payload.iss).toBe(board.did)
    const bitstring = gunzipSync(Buffer.from(payload.vc.credentialSubject.encodedList, 'base64url'))
    expect(bitstring.length * 8).toBeGreaterThanOrEqual(131072)
    const bit = (i: number) => (bitstring[Math.floor(i / 8)] >> (7 - (i % 8))) & 1
    expect(bit(Number(entry.statusListIndex))).toBe(1)
    expect(payload.vc.credentialSubject.statusPurpose).toBe('revocation')
  })
})
