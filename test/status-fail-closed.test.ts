import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HolderWallet } from '../src/holder/wallet.js'
import { Bitstring } from '../src/status/bitstring.js'
import { closedPort, startStubServer } from './helpers/http-server.js'
import { tamperPayload } from './helpers/fixtures.js'
import { startTestService, type TestService } from './helpers/service.js'

/**
 * Credentials from an issuer outside medcred (a did:key here) whose status lists live elsewhere:
 * the verifier fetches them, and anything it cannot check fails closed.
 */
describe('status lists that cannot be checked fail closed', () => {
  let svc: TestService
  let stub: Awaited<ReturnType<typeof startStubServer>>
  let issuer: HolderWallet
  let otherIssuer: HolderWallet
  let holder: HolderWallet

  beforeAll(async () => {
    svc = await startTestService()
    stub = await startStubServer()
    issuer = await HolderWallet.create('Secp256k1')
    otherIssuer = await HolderWallet.create('Secp256k1')
    holder = await HolderWallet.create()
  })
  afterAll(async () => {
    await stub?.close()
    await svc?.dispose()
  })

  const credentialWithStatus = (listUrl: string, index = 7) =>
    issuer.selfIssue({
      type: ['VerifiableCredential', 'TrainingCertificate'],
      credentialSubject: { id: holder.did, course: 'ACLS' },
      credentialStatus: { id: `${listUrl}#${index}`, type: 'StatusList2021Entry', statusPurpose: 'revocation', statusListIndex: String(index), statusListCredential: listUrl },
    })
  const listSignedBy = async (wallet: HolderWallet, url: string, revoked: number[] = []) => {
    const bits = Bitstring.empty(131072)
    for (const i of revoked) bits.set(i, true)
    const vc = await wallet.selfIssue({
      '@context': ['https://www.w3.org/2018/credentials/v1', 'https://w3id.org/vc/status-list/2021/v1'],
      id: url,
      type: ['VerifiableCredential', 'StatusList2021Credential'],
      credentialSubject: { id: `${url}#list`, type: 'StatusList2021', statusPurpose: 'revocation', encodedList: bits.encode() },
    })
    return vc.proof.jwt as string
  }
  const verify = (vc: unknown) => svc.api.post('/credentials/verify', { verifiableCredential: vc })

  it('checks a remote list that is valid, and sees a revocation in it', async () => {
    const url = `${stub.url}/lists/1`
    const vc = await credentialWithStatus(url)
    stub.respond(200, await listSignedBy(issuer, url))
    expect((await verify(vc)).status).toBe(200)
    stub.respond(200, await listSignedBy(issuer, url, [7]))
    const res = await verify(vc)
    expect(res.body.errors).toEqual([{ check: 'status', detail: 'revoked' }])
  })

  it('fails closed when the status list URL is unreachable', async () => {
    const vc = await credentialWithStatus(`http://127.0.0.1:${await closedPort()}/lists/2`)
    const res = await verify(vc)
    expect(res.status).toBe(400)
    expect(res.body.errors[0].check).toBe('status')
    expect(res.body.errors[0].detail).toMatch(/^status unknown, so not verified: .*could not be fetched/)
  })

  it('fails closed when the list answers an error', async () => {
    const url = `${stub.url}/lists/3`
    const vc = await credentialWithStatus(url)
    stub.respond(500, 'oops', 'text/plain')
    const res = await verify(vc)
    expect(res.body.errors[0].detail).toMatch(/answered 500/)
  })

  it('fails closed when the list carries a bad signature', async () => {
    const url = `${stub.url}/lists/4`
    const vc = await credentialWithStatus(url)
    const list = await listSignedBy(issuer, url)
    stub.respond(200, tamperPayload(list, 'StatusList2021', 'StatusList2O21'))
    const res = await verify(vc)
    expect(res.body.errors[0].check).toBe('status')
    expect(res.body.errors[0].detail).toMatch(/proof check failed/)
  })

  it("fails closed when the list is signed by someone other than the credential's issuer", async () => {
    const url = `${stub.url}/lists/5`
    const vc = await credentialWithStatus(url)
    stub.respond(200, await listSignedBy(otherIssuer, url))
    const res = await verify(vc)
    expect(res.body.errors[0].detail).toMatch(/not by the credential's issuer/)
  })

  it('fails closed on a host that is not allowed, and on an unknown status type', async () => {
    const vc = await credentialWithStatus('https://status.example.org/lists/6')
    const res = await verify(vc)
    expect(res.body.errors[0].detail).toMatch(/not an allowed https host/)
    const odd = await issuer.selfIssue({
      type: ['VerifiableCredential'],
      credentialSubject: { id: holder.did, note: 'x' },
      credentialStatus: { id: 'urn:x', type: 'RevocationList2020Status' },
    })
    expect((await verify(odd)).body.errors[0].detail).toMatch(/unsupported credentialStatus type/)
  })

  it('fails a known credential type that carries no status at all', async () => {
    const vc = await issuer.selfIssue({
      type: ['VerifiableCredential', 'PatientIdentityCredential'],
      credentialSubject: { id: holder.did, name: 'P', birthDate: '1990-01-01', assuranceLevel: 'IAL2' },
    })
    const res = await verify(vc)
    expect(res.body.errors).toContainEqual({ check: 'status', detail: 'a PatientIdentityCredential must carry a credentialStatus; without one its status is unknown' })
  })
})
