import { decodeJwt, decodeProtectedHeader } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { NonceEntity, OfferEntity } from '../src/oid4vc/entities.js'
import { licenseCredential } from './helpers/fixtures.js'
import { Oid4vcWallet, PRE_AUTH, type CredentialOffer } from './helpers/oid4vc-wallet.js'
import { startTestService, type TestService } from './helpers/service.js'

type Inst = { id: string; did: string; apiKey: string }

/** A license offer body: the issue body without credentialSubject.id. */
function offerBody(extra: Record<string, unknown> = {}) {
  const credential = licenseCredential('did:placeholder')
  delete (credential.credentialSubject as Record<string, unknown>).id
  return { credential, ...extra }
}

describe('OID4VCI 1.0: a board issues to a wallet (pre-authorized code flow)', () => {
  let svc: TestService
  let board: Inst
  let otherBoard: Inst
  let hospital: Inst
  let wallet: Oid4vcWallet
  let intruder: Oid4vcWallet
  let issuer: string

  beforeAll(async () => {
    svc = await startTestService()
    board = await svc.api.createTrustedBoard('Texas Medical Board')
    otherBoard = await svc.api.createTrustedBoard('Another Board')
    hospital = await svc.api.createInstitution({ name: 'St. Luke', kind: 'hospital' })
    const net = { publicUrl: svc.config.publicUrl, baseUrl: svc.url }
    wallet = await Oid4vcWallet.create(net)
    intruder = await Oid4vcWallet.create(net, 'EdDSA')
    issuer = `${svc.config.publicUrl}/oid4vci/${board.id}`
  })
  afterAll(async () => {
    await svc?.dispose()
  })

  const createOffer = async (extra: Record<string, unknown> = {}, by: Inst = board) => {
    const res = await svc.api.post('/oid4vci/offers', offerBody(extra), by.apiKey)
    expect(res.status, JSON.stringify(res.body)).toBe(201)
    return res.body as { id: string; offer: string; expiresAt: string; txCode?: string }
  }
  /** An offer redeemed up to the access token. */
  const tokenFor = async (extra: Record<string, unknown> = {}) => {
    const created = await createOffer(extra)
    const offer = await wallet.resolveOffer(created.offer)
    const token = await wallet.token(offer, { txCode: created.txCode })
    expect(token.status).toBe(200)
    return { created, offer, accessToken: token.body.access_token as string }
  }
  const offerRow = (id: string) => svc.db.getRepository(OfferEntity).findOneByOrFail({ id })
  const credentialRequest = (offer: CredentialOffer, proof: string) => ({ credential_configuration_id: offer.credential_configuration_ids[0], proofs: { jwt: [proof] } })
  const expectNoCredential = async (id: string) => {
    const state = (await svc.api.get(`/oid4vci/offers/${id}`, board.apiKey)).body
    expect(state.state).not.toBe('credential-issued')
    expect(state.credentialId).toBeNull()
  }

  describe('metadata', () => {
    it('serves Credential Issuer Metadata at the well-known URL inserted before the issuer path', async () => {
      const meta = await wallet.issuerMetadata(issuer)
      expect(meta.status).toBe(200)
      expect(meta.type).toMatch(/^application\/json/)
      expect(meta.body.credential_issuer).toBe(issuer)
      expect(meta.body.credential_endpoint).toBe(`${issuer}/credential`)
      expect(meta.body.nonce_endpoint).toBe(`${issuer}/nonce`)
      const config = meta.body.credential_configurations_supported.ClinicianLicenseCredential_jwt_vc_json
      expect(config).toMatchObject({
        format: 'jwt_vc_json',
        cryptographic_binding_methods_supported: expect.arrayContaining(['did:key', 'did:jwk', 'did:ethr']),
        credential_signing_alg_values_supported: ['ES256K'],
        proof_types_supported: { jwt: { proof_signing_alg_values_supported: expect.arrayContaining(['ES256', 'ES256K', 'EdDSA']) } },
        credential_definition: { type: ['VerifiableCredential', 'ClinicianLicenseCredential'] },
      })
      expect(Object.keys(meta.body.credential_configurations_supported).sort()).toEqual(
        ['BoardCertificationCredential_jwt_vc_json', 'ClinicianLicenseCredential_jwt_vc_json', 'DEARegistrationCredential_jwt_vc_json'],
      )
    })

    it('serves OAuth authorization server metadata (RFC 8414) with the token endpoint and the pre-authorized grant', async () => {
      const meta = await wallet.authorizationServerMetadata(issuer)
      expect(meta.status).toBe(200)
      expect(meta.type).toMatch(/^application\/json/)
      expect(meta.body).toMatchObject({ issuer, token_endpoint: `${issuer}/token`, grant_types_supported: [PRE_AUTH], 'pre-authorized_grant_anonymous_access_supported': true })
    })

    it('a hospital issuer lists acceptance receipts; an unknown issuer is a 404', async () => {
      const meta = await wallet.issuerMetadata(`${svc.config.publicUrl}/oid4vci/${hospital.id}`)
      expect(Object.keys(meta.body.credential_configurations_supported)).toContain('AcceptanceReceiptCredential_jwt_vc_json')
      expect((await wallet.issuerMetadata(`${svc.config.publicUrl}/oid4vci/00000000-0000-0000-0000-000000000000`)).status).toBe(404)
    })
  })

  it('resolves did:jwk holder DIDs, refusing one that carries a private key', async () => {
    const res = await svc.api.get(`/1.0/identifiers/${encodeURIComponent(wallet.did)}`)
    expect(res.status).toBe(200)
    expect(res.body.didDocument.verificationMethod[0]).toMatchObject({ id: `${wallet.did}#0`, type: 'JsonWebKey2020', publicKeyJwk: { kty: 'EC', crv: 'P-256' } })
    expect(res.body.didDocument.authentication).toEqual([`${wallet.did}#0`])
    const jwk = JSON.parse(Buffer.from(wallet.did.slice('did:jwk:'.length), 'base64url').toString())
    const withPrivate = `did:jwk:${Buffer.from(JSON.stringify({ ...jwk, d: 'AAAA' })).toString('base64url')}`
    expect((await svc.api.get(`/1.0/identifiers/${encodeURIComponent(withPrivate)}`)).status).toBe(400)
  })

  it('a wallet redeems an offer and holds a license bound to its own DID, issued like POST /credentials/issue', async () => {
    const created = await createOffer()
    expect(created.offer).toMatch(/^openid-credential-offer:\/\/\?credential_offer_uri=/)
    expect(created.txCode).toBeUndefined()
    const offer = await wallet.resolveOffer(created.offer)
    expect(offer).toMatchObject({ credential_issuer: issuer, credential_configuration_ids: ['ClinicianLicenseCredential_jwt_vc_json'] })
    expect(offer.grants[PRE_AUTH]['pre-authorized_code']).toEqual(expect.any(String))
    expect((await svc.api.get(`/oid4vci/offers/${created.id}`, board.apiKey)).body.state).toBe('offered')

    const token = await wallet.token(offer)
    expect(token.status).toBe(200)
    expect(token.type).toMatch(/^application\/json/)
    expect(token.headers.get('cache-control')).toBe('no-store')
    expect(token.body).toMatchObject({ access_token: expect.any(String), token_type: 'Bearer', expires_in: expect.any(Number) })
    expect((await svc.api.get(`/oid4vci/offers/${created.id}`, board.apiKey)).body.state).toBe('token-issued')

    const nonce = await wallet.nonce(issuer)
    const res = await wallet.requestCredential(issuer, token.body.access_token, credentialRequest(offer, await wallet.proof({ aud: issuer, nonce })))
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store')
    const jwt = res.body.credentials[0].credential as string
    expect(decodeProtectedHeader(jwt).alg).toBe('ES256K')
    const payload = decodeJwt(jwt) as any
    expect(payload.sub).toBe(wallet.did)
    expect(payload.iss).toBe(board.did)
    expect(payload.vc.type).toContain('ClinicianLicenseCredential')
    expect(payload.vc.credentialStatus).toBeDefined()

    const verified = await svc.api.post('/credentials/verify', { verifiableCredential: jwt })
    expect(verified.status, JSON.stringify(verified.body)).toBe(200)
    const state = (await svc.api.get(`/oid4vci/offers/${created.id}`, board.apiKey)).body
    expect(state).toMatchObject({ state: 'credential-issued', subjectDid: wallet.did, credentialId: payload.jti })
    const audit = (await svc.api.get('/audit/events?limit=500', board.apiKey)).body
    const events = (audit.events ?? audit) as any[]
    expect(events.some((e) => e.action === 'credential.issued' && e.subject?.id === payload.jti)).toBe(true)
  })

  it('binds to the did:jwk of a proof that names its key by jwk', async () => {
    const { offer, accessToken } = await tokenFor()
    const proof = await wallet.proof({ aud: issuer, nonce: await wallet.nonce(issuer), jwk: true })
    const res = await wallet.requestCredential(issuer, accessToken, credentialRequest(offer, proof))
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect((decodeJwt(res.body.credentials[0].credential) as any).sub).toBe(wallet.did)
  })

  it('binds to a did:key or a did:ethr that the proof names by kid', async () => {
    const net = { publicUrl: svc.config.publicUrl, baseUrl: svc.url, ethrNetwork: svc.chain.network }
    for (const holder of [await Oid4vcWallet.create(net, 'EdDSA', 'did:key'), await Oid4vcWallet.create(net, 'ES256K', 'did:ethr')]) {
      const created = await createOffer()
      const jwt = await holder.receive(created.offer)
      expect((decodeJwt(jwt) as any).sub).toBe(holder.did)
    }
  })

  it('redeems a code once when two token requests race', async () => {
    const created = await createOffer()
    const offer = await wallet.resolveOffer(created.offer)
    const replies = await Promise.all([wallet.token(offer), wallet.token(offer), wallet.token(offer)])
    expect(replies.map((r) => r.status).sort()).toEqual([200, 400, 400])
    expect(replies.filter((r) => r.status === 400).every((r) => r.body.error === 'invalid_grant')).toBe(true)
  })

  it('issues one credential when two credential requests with one token race', async () => {
    const { created, offer, accessToken } = await tokenFor()
    const proofs = await Promise.all([0, 1].map(async () => wallet.proof({ aud: issuer, nonce: await wallet.nonce(issuer) })))
    const replies = await Promise.all(proofs.map((p) => wallet.requestCredential(issuer, accessToken, credentialRequest(offer, p))))
    expect(replies.map((r) => r.status).sort()).toEqual([200, 401])
    expect(replies.find((r) => r.status === 401)!.body.error).toBe('invalid_token')
    expect((await svc.api.get(`/oid4vci/offers/${created.id}`, board.apiKey)).body.state).toBe('credential-issued')
  })

  it('a tx_code offer needs the right code: a wrong one is invalid_grant, the right one then works', async () => {
    const created = await createOffer({ txCode: true })
    expect(created.txCode).toMatch(/^\d{6}$/)
    const offer = await wallet.resolveOffer(created.offer)
    expect(offer.grants[PRE_AUTH].tx_code).toMatchObject({ input_mode: 'numeric', length: 6 })
    const wrong = await wallet.token(offer, { txCode: created.txCode === '000000' ? '111111' : '000000' })
    expect(wrong.status).toBe(400)
    expect(wrong.type).toMatch(/^application\/json/)
    expect(wrong.body.error).toBe('invalid_grant')
    const missing = await wallet.token(offer)
    expect(missing.body.error).toBe('invalid_grant')
    await expectNoCredential(created.id)
    expect((await wallet.token(offer, { txCode: created.txCode })).status).toBe(200)
  })

  it('burns a tx_code offer after five wrong codes', async () => {
    const created = await createOffer({ txCode: true })
    const offer = await wallet.resolveOffer(created.offer)
    const wrongCode = created.txCode === '000000' ? '111111' : '000000'
    for (let i = 0; i < 5; i++) expect((await wallet.token(offer, { txCode: wrongCode })).body.error).toBe('invalid_grant')
    const right = await wallet.token(offer, { txCode: created.txCode })
    expect(right.body.error).toBe('invalid_grant')
  })

  it('refuses an offer redeemed twice: invalid_grant at the token endpoint, invalid_token at the credential endpoint', async () => {
    const { created, offer, accessToken } = await tokenFor()
    expect((await wallet.token(offer)).body.error).toBe('invalid_grant')
    const first = await wallet.requestCredential(issuer, accessToken, credentialRequest(offer, await wallet.proof({ aud: issuer, nonce: await wallet.nonce(issuer) })))
    expect(first.status).toBe(200)
    const again = await wallet.requestCredential(issuer, accessToken, credentialRequest(offer, await wallet.proof({ aud: issuer, nonce: await wallet.nonce(issuer) })))
    expect(again.status).toBe(401)
    expect(again.body.error).toBe('invalid_token')
    expect(again.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/)
    expect((await svc.api.get(`/oid4vci/offers/${created.id}`, board.apiKey)).body.credentialId).toBe((decodeJwt(first.body.credentials[0].credential) as any).jti)
  })

  it('refuses an expired offer with invalid_grant, and shows it expired', async () => {
    const created = await createOffer()
    const offer = await wallet.resolveOffer(created.offer)
    await svc.store.transaction((m) => m.getRepository(OfferEntity).update({ id: created.id }, { expiresAt: new Date(Date.now() - 1000).toISOString() }))
    const res = await wallet.token(offer)
    expect(res.status).toBe(400)
    expect(res.body.error).toBe('invalid_grant')
    expect((await svc.api.get(`/oid4vci/offers/${created.id}`, board.apiKey)).body.state).toBe('expired')
    expect((await wallet.fetch(new URL(created.offer).searchParams.get('credential_offer_uri')!)).status).toBe(400)
  })

  it('refuses an unknown pre-authorized code, another grant type and a JSON token request', async () => {
    const { offer } = await tokenFor()
    expect((await wallet.token(offer, { code: 'not-a-code' })).body.error).toBe('invalid_grant')
    const grant = await wallet.token(offer, { grantType: 'authorization_code' })
    expect(grant.status).toBe(400)
    expect(grant.body.error).toBe('unsupported_grant_type')
    const json = await svc.api.request('POST', `/oid4vci/${board.id}/token`, { body: { grant_type: PRE_AUTH, 'pre-authorized_code': 'x' } })
    expect(json.status).toBe(400)
    expect(json.type).toMatch(/^application\/json/)
    expect(json.body.error).toBe('invalid_request')
  })

  it('refuses a form field holding a NUL character as invalid_request, never a 500', async () => {
    const res = await svc.api.request('POST', `/oid4vci/${board.id}/token`, {
      raw: `grant_type=${encodeURIComponent(PRE_AUTH)}&pre-authorized_code=%00`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    expect(res.status).toBe(400)
    expect(res.body.error).toBe('invalid_request')
  })

  it('answers 404 problems, never a 500, for protocol paths without an institution id', async () => {
    for (const p of ['/oid4vci/offers/nonce', '/oid4vci/not-an-id/token', '/oid4vci/offers/credential']) {
      const res = await svc.api.request('POST', p)
      expect(res.status, p).toBe(404)
      expect(res.type).toMatch(/^application\/problem\+json/)
    }
    const nonce = await svc.api.request('POST', '/oid4vci/00000000-0000-0000-0000-000000000000/nonce')
    expect(nonce.status).toBe(400)
    expect(nonce.body.error).toBe('invalid_request')
  })

  it('refuses a code of one issuer at another issuer', async () => {
    const created = await createOffer()
    const offer = await wallet.resolveOffer(created.offer)
    const res = await wallet.token({ ...offer, credential_issuer: `${svc.config.publicUrl}/oid4vci/${otherBoard.id}` })
    expect(res.body.error).toBe('invalid_grant')
  })

  describe('key proofs', () => {
    it('refuses a reused nonce with invalid_nonce, a fresh c_nonce and no credential', async () => {
      const { created, offer, accessToken } = await tokenFor()
      const nonce = await wallet.nonce(issuer)
      // Spend the nonce on another offer first.
      const other = await tokenFor()
      expect((await wallet.requestCredential(issuer, other.accessToken, credentialRequest(other.offer, await wallet.proof({ aud: issuer, nonce })))).status).toBe(200)
      const res = await wallet.requestCredential(issuer, accessToken, credentialRequest(offer, await wallet.proof({ aud: issuer, nonce })))
      expect(res.status).toBe(400)
      expect(res.body.error).toBe('invalid_nonce')
      expect(res.body.c_nonce).toEqual(expect.any(String))
      expect(res.body.c_nonce).not.toBe(nonce)
      await expectNoCredential(created.id)
      // The fresh nonce works, and the token was not spent by the refusal.
      const retry = await wallet.requestCredential(issuer, accessToken, credentialRequest(offer, await wallet.proof({ aud: issuer, nonce: res.body.c_nonce })))
      expect(retry.status).toBe(200)
    })

    it('refuses a stale (expired) nonce with invalid_nonce', async () => {
      const { created, offer, accessToken } = await tokenFor()
      const nonce = await wallet.nonce(issuer)
      await svc.store.transaction((m) => m.getRepository(NonceEntity).createQueryBuilder().update().set({ expiresAt: new Date(Date.now() - 1000).toISOString() }).where('"usedAt" IS NULL').execute())
      const res = await wallet.requestCredential(issuer, accessToken, credentialRequest(offer, await wallet.proof({ aud: issuer, nonce })))
      expect(res.body.error).toBe('invalid_nonce')
      await expectNoCredential(created.id)
    })

    it('refuses a proof without a nonce, or with a nonce of another issuer, with invalid_nonce', async () => {
      const { created, offer, accessToken } = await tokenFor()
      expect((await wallet.requestCredential(issuer, accessToken, credentialRequest(offer, await wallet.proof({ aud: issuer })))).body.error).toBe('invalid_nonce')
      const foreign = await wallet.nonce(`${svc.config.publicUrl}/oid4vci/${otherBoard.id}`)
      expect((await wallet.requestCredential(issuer, accessToken, credentialRequest(offer, await wallet.proof({ aud: issuer, nonce: foreign })))).body.error).toBe('invalid_nonce')
      await expectNoCredential(created.id)
    })

    it('refuses a proof for a wrong aud with invalid_proof and a fresh c_nonce', async () => {
      const { created, offer, accessToken } = await tokenFor()
      const proof = await wallet.proof({ aud: `${svc.config.publicUrl}/oid4vci/${otherBoard.id}`, nonce: await wallet.nonce(issuer) })
      const res = await wallet.requestCredential(issuer, accessToken, credentialRequest(offer, proof))
      expect(res.status).toBe(400)
      expect(res.body.error).toBe('invalid_proof')
      expect(res.body.c_nonce).toEqual(expect.any(String))
      await expectNoCredential(created.id)
    })

    it('refuses a proof signed by another key than the one its kid names with invalid_proof', async () => {
      const { created, offer, accessToken } = await tokenFor()
      const proof = await wallet.proof({ aud: issuer, nonce: await wallet.nonce(issuer), signWith: intruder, kid: wallet.kid })
      const res = await wallet.requestCredential(issuer, accessToken, credentialRequest(offer, proof))
      expect(res.body.error).toBe('invalid_proof')
      await expectNoCredential(created.id)
    })

    it('refuses a proof with the wrong typ, a kid that is no DID, an iat far in the future or a lone surrogate, with invalid_proof', async () => {
      const { created, offer, accessToken } = await tokenFor()
      for (const opts of [{ typ: 'JWT' }, { kid: 'https://wallet.example/keys/1' }, { iat: Math.floor(Date.now() / 1000) + 3600 }, { claims: { note: '\ud800' } }]) {
        const proof = await wallet.proof({ aud: issuer, nonce: await wallet.nonce(issuer), ...opts })
        const res = await wallet.requestCredential(issuer, accessToken, credentialRequest(offer, proof))
        expect(res.body.error, JSON.stringify(opts)).toBe('invalid_proof')
      }
      await expectNoCredential(created.id)
    })
  })

  describe('credential requests', () => {
    it('refuses a configuration the token was not issued for with unknown_credential_configuration', async () => {
      const { created, accessToken } = await tokenFor()
      const proof = await wallet.proof({ aud: issuer, nonce: await wallet.nonce(issuer) })
      const res = await wallet.requestCredential(issuer, accessToken, { credential_configuration_id: 'DEARegistrationCredential_jwt_vc_json', proofs: { jwt: [proof] } })
      expect(res.status).toBe(400)
      expect(res.body.error).toBe('unknown_credential_configuration')
      await expectNoCredential(created.id)
    })

    it('refuses a missing or unknown access token with 401 invalid_token', async () => {
      const { offer } = await tokenFor()
      const body = credentialRequest(offer, await wallet.proof({ aud: issuer, nonce: await wallet.nonce(issuer) }))
      for (const token of [undefined, 'made-up']) {
        const res = await wallet.requestCredential(issuer, token, body)
        expect(res.status).toBe(401)
        expect(res.body.error).toBe('invalid_token')
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/)
      }
    })

    it('refuses malformed credential requests with invalid_credential_request, never a 500', async () => {
      const { offer, accessToken } = await tokenFor()
      const proof = await wallet.proof({ aud: issuer, nonce: await wallet.nonce(issuer) })
      for (const body of [
        { credential_configuration_id: offer.credential_configuration_ids[0] },
        { credential_configuration_id: offer.credential_configuration_ids[0], proof: { proof_type: 'jwt', jwt: proof } },
        { credential_configuration_id: offer.credential_configuration_ids[0], proofs: { jwt: [proof, proof] } },
        { credential_configuration_id: 7, proofs: { jwt: [proof] } },
      ]) {
        const res = await wallet.requestCredential(issuer, accessToken, body)
        expect(res.status, JSON.stringify(body)).toBe(400)
        expect(res.body.error).toBe('invalid_credential_request')
      }
      const bad = await svc.api.request('POST', `/oid4vci/${board.id}/credential`, { raw: '{not json', headers: { authorization: `Bearer ${accessToken}` } })
      expect(bad.status).toBe(400)
      expect(bad.type).toMatch(/^application\/json/)
      expect(bad.body.error).toBe('invalid_credential_request')
    })
  })

  describe('offers (institution API, problem+json)', () => {
    it('refuses a credentialSubject.id, a type the institution does not offer, and callers without an institution key', async () => {
      const withId = await svc.api.post('/oid4vci/offers', { credential: licenseCredential(wallet.did) }, board.apiKey)
      expect(withId.status).toBe(400)
      expect(withId.type).toMatch(/^application\/problem\+json/)
      const hospitalLicense = await svc.api.post('/oid4vci/offers', offerBody(), hospital.apiKey)
      expect(hospitalLicense.status).toBe(422)
      expect(hospitalLicense.body.type).toMatch(/invalid-credential$/)
      expect((await svc.api.post('/oid4vci/offers', offerBody())).status).toBe(401)
      expect((await svc.api.post('/oid4vci/offers', offerBody(), svc.api.adminToken)).status).toBe(403)
      const badNpi = await svc.api.post('/oid4vci/offers', offerBody({ credential: { ...offerBody().credential, credentialSubject: { ...offerBody().credential.credentialSubject, npi: '1234567890' } } }), board.apiKey)
      expect(badNpi.status).toBe(422)
    })

    it("shows an offer's state only to its institution: another gets the same 404 as an unknown id", async () => {
      const created = await createOffer()
      const other = await svc.api.get(`/oid4vci/offers/${created.id}`, otherBoard.apiKey)
      const unknown = await svc.api.get('/oid4vci/offers/00000000-0000-0000-0000-000000000000', otherBoard.apiKey)
      expect(other.status).toBe(404)
      expect(unknown.status).toBe(404)
      expect(other.body.type).toBe(unknown.body.type)
      const own = await svc.api.get(`/oid4vci/offers/${created.id}`, board.apiKey)
      expect(own.body).toMatchObject({ id: created.id, state: 'offered', credentialConfigurationId: 'ClinicianLicenseCredential_jwt_vc_json', txCode: false })
    })

    it('stores codes and tx_codes hashed only', async () => {
      const created = await createOffer({ txCode: true })
      const offer = await wallet.resolveOffer(created.offer)
      const row = await offerRow(created.id)
      const code = offer.grants[PRE_AUTH]['pre-authorized_code']
      expect(JSON.stringify(row)).not.toContain(code)
      expect(JSON.stringify(row)).not.toContain(`"${created.txCode}"`)
      expect(row.codeHash).toMatch(/^[0-9a-f]{64}$/)
    })
  })
})
