import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Oid4vcWallet } from './helpers/oid4vc-wallet.js'
import { decodeJws, disclosedNames } from './helpers/sd-jwt.js'
import { startTestService, type TestService } from './helpers/service.js'

describe('OID4VCI: a PatientIdentityCredential as an SD-JWT VC (configuration format dc+sd-jwt)', () => {
  let svc: TestService
  let idp: { id: string; did: string; apiKey: string }
  let board: typeof idp

  beforeAll(async () => {
    svc = await startTestService()
    idp = await svc.api.createInstitution({ name: 'Registration Desk', kind: 'identity-provider' })
    board = await svc.api.createTrustedBoard('Texas Medical Board')
  })
  afterAll(() => svc?.dispose())

  const net = () => ({ publicUrl: svc.config.publicUrl, baseUrl: svc.url })
  const subject = { name: 'Wallet Patient', birthDate: '1990-02-03', assuranceLevel: 'IAL2' }
  const offer = (by: { apiKey: string }, credential: Record<string, unknown>) => svc.api.post('/oid4vci/offers', { credential, format: 'dc+sd-jwt' }, by.apiKey)

  it('lists the dc+sd-jwt configuration with its vct, and issues to the key proof: cnf.jwk is the proving key', async () => {
    const meta = await svc.api.get(`/.well-known/openid-credential-issuer/oid4vci/${idp.id}`)
    const config = meta.body.credential_configurations_supported?.PatientIdentityCredential_dc_sd_jwt
    expect(config).toMatchObject({ format: 'dc+sd-jwt', vct: `${svc.config.publicUrl}/vct/PatientIdentityCredential` })

    for (const wallet of [await Oid4vcWallet.create(net(), 'EdDSA', 'did:key'), await Oid4vcWallet.create(net(), 'ES256')]) {
      const created = await offer(idp, { type: ['VerifiableCredential', 'PatientIdentityCredential'], credentialSubject: subject })
      expect(created.status, JSON.stringify(created.body)).toBe(201)
      const sdJwt = await wallet.receive(created.body.offer)
      expect(sdJwt.endsWith('~')).toBe(true)
      const { header, payload } = decodeJws(sdJwt.split('~')[0])
      expect(header.typ).toBe('dc+sd-jwt')
      expect(payload).toMatchObject({ iss: idp.did, sub: wallet.did, vct: config.vct })
      expect(payload.cnf.jwk.kty).toBe(wallet.alg === 'EdDSA' ? 'OKP' : 'EC')
      expect(disclosedNames(sdJwt).sort()).toEqual(['assuranceLevel', 'birthDate', 'name'])
    }
  })

  it('is not offered for types issued only as VC-JWTs, nor to a did:ethr key without a JWK', async () => {
    const license = await offer(board, {
      type: ['VerifiableCredential', 'ClinicianLicenseCredential'],
      expirationDate: new Date(Date.now() + 86_400_000).toISOString(),
      credentialSubject: { name: 'Dr A', npi: '1234567893', licenseNumber: 'Q-1', licenseType: 'MD', jurisdiction: 'US-TX', status: 'active' },
    })
    expect(license.status).toBe(400)
    const ethr = await Oid4vcWallet.create({ ...net(), ethrNetwork: svc.chain.network }, 'ES256K', 'did:ethr')
    const created = await offer(idp, { type: ['VerifiableCredential', 'PatientIdentityCredential'], credentialSubject: subject })
    await expect(ethr.receive(created.body.offer)).rejects.toThrow(/credential_request_denied/)
    const meta = await svc.api.get(`/.well-known/openid-credential-issuer/oid4vci/${board.id}`)
    expect(Object.keys(meta.body.credential_configurations_supported).some((k) => k.endsWith('_dc_sd_jwt'))).toBe(false)
  })
})
