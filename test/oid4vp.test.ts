import { decodeJwt } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PresentationRequestEntity } from '../src/oid4vc/entities.js'
import { licenseCredential } from './helpers/fixtures.js'
import { Oid4vcWallet, vpTokenFor } from './helpers/oid4vc-wallet.js'
import { startTestService, type TestService } from './helpers/service.js'

type Inst = { id: string; did: string; apiKey: string }

describe('OID4VP 1.0: a hospital asks a wallet for a license', () => {
  let svc: TestService
  let board: Inst
  let hospital: Inst
  let otherHospital: Inst
  let wallet: Oid4vcWallet
  let stranger: Oid4vcWallet
  let license: string

  beforeAll(async () => {
    svc = await startTestService()
    board = await svc.api.createTrustedBoard('Texas Medical Board')
    hospital = await svc.api.createInstitution({ name: 'Hospital A', kind: 'hospital' })
    otherHospital = await svc.api.createInstitution({ name: 'Hospital B', kind: 'hospital' })
    const net = { publicUrl: svc.config.publicUrl, baseUrl: svc.url }
    wallet = await Oid4vcWallet.create(net)
    stranger = await Oid4vcWallet.create(net, 'EdDSA')
    const issued = await svc.api.post('/credentials/issue', { credential: licenseCredential(wallet.did) }, board.apiKey)
    expect(issued.status, JSON.stringify(issued.body)).toBe(201)
    license = issued.body.verifiableCredential.proof.jwt
  })
  afterAll(async () => {
    await svc?.dispose()
  })

  const createRequest = async (body: Record<string, unknown> = {}, by: Inst = hospital) => {
    const res = await svc.api.post('/oid4vp/requests', { purpose: 'onboarding', credentialTypes: ['ClinicianLicenseCredential'], ...body }, by.apiKey)
    expect(res.status, JSON.stringify(res.body)).toBe(201)
    return res.body as { id: string; request: string; expiresAt: string }
  }
  const poll = async (id: string, by: Inst = hospital) => (await svc.api.get(`/oid4vp/requests/${id}`, by.apiKey)).body
  const failedChecks = (view: any) => (view.checks as { check: string; ok: boolean }[]).filter((c) => !c.ok).map((c) => c.check)

  it('serves a Request Object signed by the hospital did:ethr key, as OID4VP 1.0 and RFC 9101 say', async () => {
    const created = await createRequest()
    const uri = new URL(created.request)
    expect(uri.protocol).toBe('openid4vp:')
    expect(uri.searchParams.get('client_id')).toBe(`decentralized_identifier:${hospital.did}`)
    expect(uri.searchParams.get('request_uri')).toBe(`${svc.config.publicUrl}/oid4vp/requests/${created.id}/request-object`)
    const request = await wallet.openRequest(created.request)
    expect(request.contentType).toMatch(/^application\/oauth-authz-req\+jwt/)
    expect(request.header).toMatchObject({ typ: 'oauth-authz-req+jwt', alg: 'ES256K' })
    expect(request.header.kid.startsWith(`${hospital.did}#`)).toBe(true)
    expect(request.claims).toMatchObject({
      client_id: `decentralized_identifier:${hospital.did}`,
      response_type: 'vp_token',
      response_mode: 'direct_post',
      response_uri: `${svc.config.publicUrl}/oid4vp/requests/${created.id}/response`,
      nonce: expect.any(String),
      state: expect.any(String),
      dcql_query: { credentials: [{ id: 'ClinicianLicenseCredential', format: 'jwt_vc_json', meta: { type_values: [['VerifiableCredential', 'ClinicianLicenseCredential']] } }] },
    })
    expect(request.claims.client_metadata.vp_formats_supported.jwt_vc_json).toBeDefined()
    expect(request.claims.exp).toBeGreaterThan(request.claims.iat)
    expect((await poll(created.id)).status).toBe('pending')
  })

  it('a fresh nonce and state per request; with acceptReceipts the DCQL query also asks for a receipt', async () => {
    const a = await wallet.openRequest((await createRequest()).request)
    const b = await wallet.openRequest((await createRequest({ acceptReceipts: true })).request)
    expect(a.claims.nonce).not.toBe(b.claims.nonce)
    expect(a.claims.state).not.toBe(b.claims.state)
    expect(b.claims.dcql_query.credentials.map((c: any) => c.id)).toEqual(['ClinicianLicenseCredential', 'receipt'])
    expect(b.claims.dcql_query.credential_sets).toEqual([{ options: [['ClinicianLicenseCredential', 'receipt'], ['ClinicianLicenseCredential']], required: true }])
  })

  it('verifies a wallet response as POST /verifications does, records it and offers the receipt back', async () => {
    const created = await createRequest()
    const { reply } = await wallet.answer(created.request, [license])
    expect(reply.status, JSON.stringify(reply.body)).toBe(200)
    expect(reply.type).toMatch(/^application\/json/)
    const view = await poll(created.id)
    expect(view.status).toBe('verified')
    expect(view.holder).toBe(wallet.did)
    expect(failedChecks(view)).toEqual([])
    for (const name of ['presentationProof', 'challenge', 'domain', 'holderBinding', 'credentialTypes', 'credentials[0].proof', 'credentials[0].status', 'credentials[0].trustedIssuer']) {
      expect(view.checks.map((c: any) => c.check)).toContain(name)
    }
    expect(view.verification).toMatchObject({ verified: true, holderDid: wallet.did })
    expect((await svc.api.get(`/verifications/${view.verification.id}`, hospital.apiKey)).status).toBe(200)
    expect(view.receiptOffer).toMatch(/^openid-credential-offer:\/\/\?credential_offer_uri=/)
    expect(view.receiptOffer).toBe((await poll(created.id)).receiptOffer)
  })

  it('the receipt offer hands the signed receipt to the wallet that presented, and to no other key', async () => {
    const created = await createRequest()
    await wallet.answer(created.request, [license])
    const { receiptOffer } = await poll(created.id)
    const offer = await wallet.resolveOffer(receiptOffer)
    expect(offer.credential_issuer).toBe(`${svc.config.publicUrl}/oid4vci/${hospital.id}`)
    expect(offer.credential_configuration_ids).toEqual(['AcceptanceReceiptCredential_jwt_vc_json'])
    const token = (await stranger.token(offer)).body.access_token
    const body = (proof: string) => ({ credential_configuration_id: offer.credential_configuration_ids[0], proofs: { jwt: [proof] } })
    const refused = await stranger.requestCredential(offer.credential_issuer, token, body(await stranger.proof({ aud: offer.credential_issuer, nonce: await stranger.nonce(offer.credential_issuer) })))
    expect(refused.status).toBe(400)
    expect(refused.body.error).toBe('invalid_proof')
    const res = await wallet.requestCredential(offer.credential_issuer, token, body(await wallet.proof({ aud: offer.credential_issuer, nonce: await wallet.nonce(offer.credential_issuer) })))
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    const receipt = decodeJwt(res.body.credentials[0].credential) as any
    expect(receipt.iss).toBe(hospital.did)
    expect(receipt.sub).toBe(wallet.did)
    expect(receipt.vc.type).toContain('AcceptanceReceiptCredential')
    expect(res.body.credentials[0].credential).toBe(await (await svc.api.request('GET', new URL(receipt.jti ?? receipt.vc.id).pathname)).body)
  })

  it('verifies a did:key wallet too, and processes one of two racing responses', async () => {
    const holder = await Oid4vcWallet.create({ publicUrl: svc.config.publicUrl, baseUrl: svc.url }, 'EdDSA', 'did:key')
    const credential = (await svc.api.post('/credentials/issue', { credential: licenseCredential(holder.did) }, board.apiKey)).body.verifiableCredential.proof.jwt
    const created = await createRequest()
    const request = await holder.openRequest(created.request)
    const vp = await holder.presentation([credential], { aud: request.claims.client_id, nonce: request.claims.nonce })
    const replies = await Promise.all([0, 1, 2].map(() => holder.respond(request, vpTokenFor(request, [credential], vp))))
    expect(replies.map((r) => r.status).sort()).toEqual([200, 400, 400])
    const view = await poll(created.id)
    expect(view.status).toBe('verified')
    expect(view.holder).toBe(holder.did)
  })

  it('records a wallet error response as failed', async () => {
    const created = await createRequest()
    const request = await wallet.openRequest(created.request)
    const form = new URLSearchParams({ error: 'access_denied', error_description: 'the clinician declined', state: request.claims.state })
    const reply = await svc.api.request('POST', `/oid4vp/requests/${created.id}/response`, { raw: form.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } })
    expect(reply.status).toBe(200)
    const view = await poll(created.id)
    expect(view.status).toBe('failed')
    expect(failedChecks(view)).toEqual(['wallet'])
  })

  it("refuses to settle on the receipt of a verifier the consortium does not trust, and a receipt where none was asked for", async () => {
    // otherHospital is not a trusted verifier: its receipt counts for nothing.
    const atOther = await createRequest({}, otherHospital)
    await wallet.answer(atOther.request, [license])
    const offer = await wallet.resolveOffer((await poll(atOther.id, otherHospital)).receiptOffer)
    const token = (await wallet.token(offer)).body.access_token
    const issued = await wallet.requestCredential(offer.credential_issuer, token, {
      credential_configuration_id: offer.credential_configuration_ids[0],
      proofs: { jwt: [await wallet.proof({ aud: offer.credential_issuer, nonce: await wallet.nonce(offer.credential_issuer) })] },
    })
    const receipt = issued.body.credentials[0].credential as string
    const accepting = await createRequest({ acceptReceipts: true })
    expect((await wallet.answer(accepting.request, [license, receipt])).reply.status).toBe(400)
    const view = await poll(accepting.id)
    expect(view.status).toBe('failed')
    expect(failedChecks(view)).toEqual(['credentials[0].receiptVerifier'])
    const plain = await createRequest()
    const request = await wallet.openRequest(plain.request)
    const vp = await wallet.presentation([license, receipt], { aud: request.claims.client_id, nonce: request.claims.nonce })
    expect((await wallet.respond(request, { ClinicianLicenseCredential: [vp] })).status).toBe(400)
    expect(failedChecks(await poll(plain.id))).toContain('credentialTypes')
  })

  it('fails a vp_token replayed to another request, naming the challenge and domain checks', async () => {
    const first = await createRequest()
    const { request, reply } = await wallet.answer(first.request, [license])
    expect(reply.status).toBe(200)
    const vp = await wallet.presentation([license], { aud: request.claims.client_id, nonce: request.claims.nonce })
    const second = await createRequest({}, otherHospital)
    const target = await wallet.openRequest(second.request)
    const replay = await wallet.respond(target, vpTokenFor(target, [license], vp))
    expect(replay.status).toBe(400)
    expect(replay.body.error).toBe('invalid_request')
    const view = await poll(second.id, otherHospital)
    expect(view.status).toBe('failed')
    expect(failedChecks(view)).toEqual(expect.arrayContaining(['challenge', 'domain']))
  })

  it('fails a presentation bound to a wrong nonce', async () => {
    const created = await createRequest()
    const request = await wallet.openRequest(created.request)
    const vp = await wallet.presentation([license], { aud: request.claims.client_id, nonce: 'not-the-nonce' })
    const reply = await wallet.respond(request, vpTokenFor(request, [license], vp))
    expect(reply.body.error).toBe('invalid_request')
    const view = await poll(created.id)
    expect(view.status).toBe('failed')
    expect(failedChecks(view)).toEqual(['challenge'])
    expect(view.verification.verified).toBe(false)
  })

  it("fails a presentation of someone else's credential on holderBinding", async () => {
    const created = await createRequest()
    const { reply } = await stranger.answer(created.request, [license])
    expect(reply.status).toBe(400)
    const view = await poll(created.id)
    expect(view.status).toBe('failed')
    expect(failedChecks(view)).toContain('holderBinding')
    expect(view.receiptOffer).toBeUndefined()
  })

  it('fails a response whose state matches no request', async () => {
    const created = await createRequest()
    const request = await wallet.openRequest(created.request)
    const vp = await wallet.presentation([license], { aud: request.claims.client_id, nonce: request.claims.nonce })
    const reply = await wallet.respond(request, vpTokenFor(request, [license], vp), { state: 'made-up-state' })
    expect(reply.status).toBe(400)
    expect(reply.body.error).toBe('invalid_request')
    const view = await poll(created.id)
    expect(view.status).toBe('failed')
    expect(failedChecks(view)).toEqual(['state'])
  })

  it('uses a request once: a second response is refused and the outcome stays', async () => {
    const created = await createRequest()
    const { request } = await wallet.answer(created.request, [license])
    const vp = await wallet.presentation([license], { aud: request.claims.client_id, nonce: request.claims.nonce })
    const again = await wallet.respond(request, vpTokenFor(request, [license], vp))
    expect(again.status).toBe(400)
    expect(again.body.error).toBe('invalid_request')
    expect((await poll(created.id)).status).toBe('verified')
    const object = await wallet.fetch(`${svc.config.publicUrl}/oid4vp/requests/${created.id}/request-object`)
    expect(object.status).toBe(400)
    expect((await object.json()).error).toBe('invalid_request_uri')
  })

  it('an expired request shows expired and refuses a response', async () => {
    const created = await createRequest()
    const request = await wallet.openRequest(created.request)
    await svc.store.transaction((m) => m.getRepository(PresentationRequestEntity).update({ id: created.id }, { expiresAt: new Date(Date.now() - 1000).toISOString() }))
    expect((await poll(created.id)).status).toBe('expired')
    const vp = await wallet.presentation([license], { aud: request.claims.client_id, nonce: request.claims.nonce })
    const reply = await wallet.respond(request, vpTokenFor(request, [license], vp))
    expect(reply.body.error).toBe('invalid_request')
    expect((await poll(created.id)).status).toBe('expired')
  })

  it('fails a vp_token that is not a DCQL-keyed object, or names queries the request did not make', async () => {
    for (const token of ['["a"]', 'not json', JSON.stringify({ SomethingElse: ['x'] }), JSON.stringify({ ClinicianLicenseCredential: 'x' }), '{"ClinicianLicenseCredential":["\\ud800"]}']) {
      const created = await createRequest()
      const request = await wallet.openRequest(created.request)
      const reply = await wallet.respond(request, token)
      expect(reply.status, token).toBe(400)
      expect(reply.body.error).toBe('invalid_request')
      const view = await poll(created.id)
      expect(failedChecks(view)).toEqual(['format'])
    }
  })

  it('fails a presentation of a credential type the request did not ask for', async () => {
    const created = await createRequest({ credentialTypes: ['DEARegistrationCredential'] })
    const request = await wallet.openRequest(created.request)
    const vp = await wallet.presentation([license], { aud: request.claims.client_id, nonce: request.claims.nonce })
    const reply = await wallet.respond(request, JSON.stringify({ DEARegistrationCredential: [vp] }))
    expect(reply.status).toBe(400)
    const view = await poll(created.id)
    expect(failedChecks(view)).toContain('credentialTypes')
  })

  it('answers protocol errors as OAuth JSON: a JSON body, a missing vp_token, an unknown response_uri', async () => {
    const created = await createRequest()
    const json = await svc.api.request('POST', `/oid4vp/requests/${created.id}/response`, { body: { vp_token: 'x' } })
    expect(json.status).toBe(400)
    expect(json.type).toMatch(/^application\/json/)
    expect(json.body.error).toBe('invalid_request')
    const form = (raw: string, id = created.id) => svc.api.request('POST', `/oid4vp/requests/${id}/response`, { raw, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
    expect((await form('state=x')).body.error).toBe('invalid_request')
    expect((await form('vp_token=%7B%7D&state=x', '00000000-0000-0000-0000-000000000000')).body.error).toBe('invalid_request')
    expect((await form('vp_token=a&vp_token=b&state=x')).body.error).toBe('invalid_request')
    expect((await poll(created.id)).status).toBe('pending')
  })

  it('only hospitals create requests, and only the requesting hospital reads one (404 like an unknown id)', async () => {
    const created = await createRequest()
    expect((await svc.api.post('/oid4vp/requests', { purpose: 'onboarding', credentialTypes: ['ClinicianLicenseCredential'] }, board.apiKey)).status).toBe(403)
    expect((await svc.api.post('/oid4vp/requests', { purpose: 'onboarding', credentialTypes: ['ClinicianLicenseCredential'] })).status).toBe(401)
    expect((await svc.api.post('/oid4vp/requests', { purpose: 'onboarding', credentialTypes: ['AcceptanceReceiptCredential'] }, hospital.apiKey)).status).toBe(400)
    expect((await svc.api.post('/oid4vp/requests', { purpose: 'onboarding', credentialTypes: [] }, hospital.apiKey)).status).toBe(400)
    const other = await svc.api.get(`/oid4vp/requests/${created.id}`, otherHospital.apiKey)
    const unknown = await svc.api.get('/oid4vp/requests/00000000-0000-0000-0000-000000000000', otherHospital.apiKey)
    expect(other.status).toBe(404)
    expect(unknown.status).toBe(404)
    expect(other.body.type).toBe(unknown.body.type)
  })
})
