import { gunzipSync } from 'node:zlib'
import { SigningKey } from 'ethers'
// jose 6 is WebCrypto only, which has no secp256k1; jose 5's Node build verifies ES256K (devDependency alias).
import { compactVerify, decodeProtectedHeader, importJWK } from 'jose5'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HolderWallet } from '../src/holder/wallet.js'
import { startTestService, type TestService } from './helpers/service.js'
import { decodePart, jwtOfEnvelope, licenseCredentialV2 } from './helpers/vc2.js'

/** The spec's bit order: index 0 is the left-most (most significant) bit of byte 0. */
const bitAt = (bytes: Buffer, index: number) => (bytes[Math.floor(index / 8)] >> (7 - (index % 8))) & 1

describe("a third party's view of a Bitstring Status List: plain zlib, the spec's bit order, jose and the resolved DID key", () => {
  let svc: TestService
  let board: { apiKey: string; did: string }
  let entry: { statusListCredential: string; statusListIndex: string; statusPurpose: string }
  beforeAll(async () => {
    svc = await startTestService()
    board = await svc.api.createTrustedBoard('Texas Medical Board')
    const clinician = await HolderWallet.create()
    const issue = async () => decodePart(jwtOfEnvelope((await svc.api.post('/credentials/issue', { credential: licenseCredentialV2(clinician.did, board.did) }, board.apiKey)).body.verifiableCredential), 1)
    await issue()
    const revoked = await issue()
    await issue()
    entry = revoked.credentialStatus.find((e: any) => e.statusPurpose === 'revocation')
    const res = await svc.api.post('/credentials/status', { credentialId: revoked.id, credentialStatus: [{ type: 'BitstringStatusListEntry', status: 'revoked' }] }, board.apiKey)
    expect(res.status).toBe(200)
  })
  afterAll(() => svc?.dispose())
  // The list's URL names PUBLIC_URL; in a test the service listens on a port of its own.
  const served = () => `${svc.url}${new URL(entry.statusListCredential).pathname}`

  it('serves the list as application/vc+jwt, verifiable with jose against the key its kid names in the resolved DID document', async () => {
    const res = await fetch(served(), { headers: { accept: 'application/vc+jwt' } })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^application\/vc\+jwt/)
    const jwt = await res.text()
    const header = decodeProtectedHeader(jwt)
    expect(header).toMatchObject({ typ: 'vc+jwt', alg: 'ES256K' })
    const did = String(header.kid).split('#')[0]
    expect(did).toBe(board.did)

    const resolution = (await svc.api.request('GET', `/1.0/identifiers/${encodeURIComponent(did)}`, { headers: { accept: 'application/did+json' } })).body
    const method = resolution.verificationMethod.find((m: any) => m.id === header.kid)
    expect(resolution.assertionMethod).toContain(header.kid)
    const uncompressed = Buffer.from(SigningKey.computePublicKey(`0x${method.publicKeyHex}`, false).slice(4), 'hex')
    const key = await importJWK({ kty: 'EC', crv: 'secp256k1', x: uncompressed.subarray(0, 32).toString('base64url'), y: uncompressed.subarray(32).toString('base64url') }, 'ES256K')
    const { payload } = await compactVerify(jwt, key)
    const list = JSON.parse(new TextDecoder().decode(payload))

    expect(list.type).toEqual(['VerifiableCredential', 'BitstringStatusListCredential'])
    expect(list.issuer).toBe(board.did)
    expect(list.id).toBe(entry.statusListCredential)
    expect(list.credentialSubject).toMatchObject({ type: 'BitstringStatusList', statusPurpose: 'revocation', ttl: expect.any(Number) })
    expect(list.credentialSubject.encodedList.startsWith('u')).toBe(true)

    const bytes = gunzipSync(Buffer.from(list.credentialSubject.encodedList.slice(1), 'base64url'))
    expect(bytes.length * 8).toBeGreaterThanOrEqual(131_072)
    const index = Number(entry.statusListIndex)
    expect(bitAt(bytes, index)).toBe(1)
    let set = 0
    for (let i = 0; i < bytes.length * 8; i++) set += bitAt(bytes, i)
    expect(set).toBe(1)
  })

  it('tampering with the served list breaks the jose verification', async () => {
    const jwt = await (await fetch(served(), { headers: { accept: 'application/vc+jwt' } })).text()
    const [h, p, s] = jwt.split('.')
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString())
    payload.credentialSubject.statusPurpose = 'suspension'
    const forged = [h, Buffer.from(JSON.stringify(payload)).toString('base64url'), s].join('.')
    const doc = (await svc.api.request('GET', `/1.0/identifiers/${encodeURIComponent(board.did)}`, { headers: { accept: 'application/did+json' } })).body
    const method = doc.verificationMethod.find((m: any) => m.id === decodeProtectedHeader(jwt).kid)
    const xy = Buffer.from(SigningKey.computePublicKey(`0x${method.publicKeyHex}`, false).slice(4), 'hex')
    const key = await importJWK({ kty: 'EC', crv: 'secp256k1', x: xy.subarray(0, 32).toString('base64url'), y: xy.subarray(32).toString('base64url') }, 'ES256K')
    await expect(compactVerify(forged, key)).rejects.toThrow(/signature verification failed/)
  })

  it('serves the list as an EnvelopedVerifiableCredential to a JSON client', async () => {
    const res = await fetch(served(), { headers: { accept: 'application/json' } })
    const body = await res.json()
    expect(body.type).toBe('EnvelopedVerifiableCredential')
    expect(body.id.startsWith('data:application/vc+jwt,')).toBe(true)
  })
})
