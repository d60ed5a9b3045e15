import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HolderWallet } from '../src/holder/wallet.js'
import { Bitstring } from '../src/status/bitstring.js'
import { startStubServer } from './helpers/http-server.js'
import { startTestService, type TestService } from './helpers/service.js'
import { VC_V2 } from './helpers/vc2.js'

/**
 * A VC 2.0 credential from an issuer outside medcred (a did:key) whose Bitstring Status List lives
 * elsewhere: the verifier follows Bitstring Status List v1.0's validation, and fails closed.
 */
describe("another issuer's Bitstring Status List is validated as the spec says", () => {
  let svc: TestService
  let stub: Awaited<ReturnType<typeof startStubServer>>
  let issuer: HolderWallet
  let other: HolderWallet
  let holder: HolderWallet
  beforeAll(async () => {
    svc = await startTestService()
    stub = await startStubServer()
    ;[issuer, other, holder] = await Promise.all([HolderWallet.create('Secp256k1'), HolderWallet.create('Secp256k1'), HolderWallet.create()])
  })
  afterAll(async () => {
    await stub?.close()
    await svc?.dispose()
  })

  const listUrl = () => `${stub.url}/lists/1`
  const credential = (entry: Record<string, unknown> = {}) =>
    issuer.signJwt(
      {
        '@context': [VC_V2],
        id: 'urn:uuid:6a1f4b52-0000-4000-8000-000000000011',
        type: ['VerifiableCredential', 'TrainingCertificate'],
        issuer: issuer.did,
        validFrom: '2026-01-01T00:00:00Z',
        credentialSubject: { id: holder.did, course: 'ACLS' },
        credentialStatus: { id: `${listUrl()}#7`, type: 'BitstringStatusListEntry', statusPurpose: 'revocation', statusListIndex: '7', statusListCredential: listUrl(), ...entry },
      },
      { typ: 'vc+jwt' },
    )
  const list = (opts: { by?: HolderWallet; length?: number; purpose?: unknown; set?: number[]; encodedList?: string; type?: string } = {}) => {
    const by = opts.by ?? issuer
    const bits = Bitstring.empty(opts.length ?? 131_072)
    for (const i of opts.set ?? []) bits.set(i, true)
    return by.signJwt(
      {
        '@context': [VC_V2],
        id: listUrl(),
        type: ['VerifiableCredential', opts.type ?? 'BitstringStatusListCredential'],
        issuer: by.did,
        validFrom: '2026-01-01T00:00:00Z',
        credentialSubject: { id: `${listUrl()}#list`, type: 'BitstringStatusList', statusPurpose: opts.purpose ?? 'revocation', encodedList: opts.encodedList ?? `u${bits.encode()}` },
      },
      { typ: 'vc+jwt' },
    )
  }
  const statusOf = async (vc: string) => {
    const res = await svc.api.post('/credentials/verify', { verifiableCredential: vc })
    return { status: res.status, check: res.body.checks.find((c: { check: string }) => c.check === 'status') }
  }

  it('passes with a valid list whose bit is clear, fails revoked when it is set', async () => {
    stub.respond(200, await list())
    expect(await statusOf(await credential())).toMatchObject({ status: 200, check: { ok: true, detail: 'not revoked' } })
    stub.respond(200, await list({ set: [7] }))
    expect(await statusOf(await credential())).toMatchObject({ status: 400, check: { ok: false, detail: 'revoked' } })
  })

  it('accepts a list naming several purposes, one of them the entry’s', async () => {
    stub.respond(200, await list({ purpose: ['revocation', 'suspension'] }))
    expect((await statusOf(await credential())).check.ok).toBe(true)
  })

  it('fails a list shorter than 131,072 entries (STATUS_LIST_LENGTH_ERROR)', async () => {
    stub.respond(200, await list({ length: 16_384 }))
    const { check } = await statusOf(await credential())
    expect(check.ok).toBe(false)
    expect(check.detail).toMatch(/STATUS_LIST_LENGTH_ERROR/)
  })

  it('fails a list for another purpose (STATUS_VERIFICATION_ERROR)', async () => {
    stub.respond(200, await list({ purpose: 'suspension' }))
    const { check } = await statusOf(await credential())
    expect(check.detail).toMatch(/STATUS_VERIFICATION_ERROR.*for suspension, the entry for revocation/)
  })

  it('fails a list signed by someone other than the credential’s issuer', async () => {
    stub.respond(200, await list({ by: other }))
    expect((await statusOf(await credential())).check.detail).toMatch(/signed by .*not by the credential's issuer/)
  })

  it('fails a list of the wrong type, an encodedList without multibase, and an entry of statusSize 2', async () => {
    stub.respond(200, await list({ type: 'StatusList2021Credential' }))
    expect((await statusOf(await credential())).check.detail).toMatch(/not a BitstringStatusListCredential/)
    stub.respond(200, await list({ encodedList: Bitstring.empty(131_072).encode() }))
    expect((await statusOf(await credential())).check.detail).toMatch(/multibase/)
    stub.respond(200, await list())
    expect((await statusOf(await credential({ statusSize: 2 }))).check.detail).toMatch(/statusSize 2 is not supported/)
  })

  it('fails a list whose signature was tampered with', async () => {
    const jwt = await list()
    const [h, p, s] = jwt.split('.')
    stub.respond(200, [h, p, s.slice(0, 10) + (s[10] === 'A' ? 'B' : 'A') + s.slice(11)].join('.'))
    expect((await statusOf(await credential())).check.detail).toMatch(/proof check failed/)
  })
})
