import { createHash, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto'
import { deflateSync } from 'node:zlib'
import { CompactSign, SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { failedChecks, verifyPatientAt } from './helpers/consent.js'
import { startStubServer } from './helpers/http-server.js'
import { expectNoneIn } from './helpers/sd-jwt.js'
import { startTestService, type TestService } from './helpers/service.js'

/**
 * medcred verifying an SD-JWT VC built here from RFC 9901's rules (and the SD-JWT VC and Token Status List
 * drafts) with node:crypto and jose alone: none of medcred's issuance, holder or SD-JWT code is used.
 */

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
function base58btc(bytes: Buffer): string {
  let n = BigInt(`0x${bytes.toString('hex') || '0'}`)
  let out = ''
  while (n > 0n) {
    out = B58[Number(n % 58n)] + out
    n /= 58n
  }
  for (const b of bytes) {
    if (b !== 0) break
    out = `1${out}`
  }
  return out
}

interface Party {
  did: string
  kid: string
  privateKey: KeyObject
  jwk: { kty: string; crv: string; x: string }
}

/** An Ed25519 key as a did:key (multicodec 0xed01, base58btc multibase). */
function newParty(): Party {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519')
  const jwk = publicKey.export({ format: 'jwk' }) as { kty: string; crv: string; x: string }
  const id = `z${base58btc(Buffer.concat([Buffer.from([0xed, 0x01]), Buffer.from(jwk.x, 'base64url')]))}`
  return { did: `did:key:${id}`, kid: `did:key:${id}#${id}`, privateKey, jwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x } }
}

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
const digest = (s: string) => createHash('sha256').update(s, 'ascii').digest('base64url')

/** RFC 9901 §4.2.1: a disclosure is base64url of the JSON array [salt, name, value] (or [salt, value] for an array element). */
function disclosure(...content: unknown[]) {
  const encoded = b64([randomBytes(16).toString('base64url'), ...content])
  return { encoded, digest: digest(encoded) }
}

describe('medcred verifies an SD-JWT VC built independently from the RFC', () => {
  let svc: TestService
  let hospital: Awaited<ReturnType<TestService['api']['createInstitution']>>
  let stub: Awaited<ReturnType<typeof startStubServer>>
  const issuer = newParty()
  const holder = newParty()
  const statusUri = () => `${stub.url}/status/1`

  beforeAll(async () => {
    svc = await startTestService()
    stub = await startStubServer()
    hospital = await svc.api.createInstitution({ name: 'Interop Hospital', kind: 'hospital' })
    await svc.api.trustIssuer(issuer.did, ['PatientIdentityCredential'])
    // Token Status List: one bit per token, index 0 = least significant bit of byte 0; entry 5 revoked.
    const bytes = Buffer.alloc(16)
    bytes[0] = 1 << 5
    const token = await new SignJWT({ status_list: { bits: 1, lst: deflateSync(bytes).toString('base64url') }, ttl: 60 })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'statuslist+jwt', kid: issuer.kid })
      .setIssuer(issuer.did)
      .setSubject(statusUri())
      .setIssuedAt()
      .sign(issuer.privateKey)
    stub.respond(200, token, 'application/statuslist+jwt')
  })
  afterAll(async () => {
    await stub?.close()
    await svc?.dispose()
  })

  /** The issuer-signed JWT and its disclosures: every subject claim disclosable, one nested, array elements too, a decoy. */
  async function issue(statusIdx: number) {
    const name = disclosure('name', 'Robin Interop')
    const birthDate = disclosure('birthDate', '1979-11-30')
    const level = disclosure('assuranceLevel', 'IAL2')
    const mrn = disclosure({ system: 'urn:mrn:interop', value: 'I-77' })
    const identifiers = disclosure('identifiers', [{ '...': mrn.digest }])
    const locality = disclosure('locality', 'Springfield')
    const payload = {
      iss: issuer.did,
      sub: holder.did,
      iat: Math.floor(Date.now() / 1000) - 10,
      vct: `${svc.config.publicUrl}/vct/PatientIdentityCredential`,
      jti: `urn:uuid:${crypto.randomUUID()}`,
      cnf: { jwk: holder.jwk },
      status: { status_list: { idx: statusIdx, uri: statusUri() } },
      address: { country: 'US', _sd: [locality.digest] },
      _sd: [name.digest, birthDate.digest, level.digest, identifiers.digest, digest(randomBytes(16).toString('base64url'))].sort(),
      _sd_alg: 'sha-256',
    }
    const jwt = await new CompactSign(Buffer.from(JSON.stringify(payload)))
      .setProtectedHeader({ alg: 'EdDSA', typ: 'dc+sd-jwt', kid: issuer.kid })
      .sign(issuer.privateKey)
    return { jwt, d: { name, birthDate, level, identifiers, mrn, locality } }
  }

  /** RFC 9901 §4.3: the presented disclosures, then a KB-JWT over them (sd_hash) for the verifier. */
  async function present(jwt: string, disclosures: string[], b: { challenge: string; domain: string }, extra: Record<string, unknown> = {}) {
    const presented = `${[jwt, ...disclosures].join('~')}~`
    const kb = await new SignJWT({ nonce: b.challenge, sd_hash: digest(presented), ...extra })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'kb+jwt' })
      .setAudience(b.domain)
      .setIssuedAt()
      .sign(holder.privateKey)
    return presented + kb
  }

  /** The patient's consent as a VC-JWT, signed with the holder key (the did:key the credential is bound to). */
  function consent(purposes: string[]) {
    const now = Math.floor(Date.now() / 1000)
    return new SignJWT({
      vc: {
        '@context': ['https://www.w3.org/2018/credentials/v1'],
        type: ['VerifiableCredential', 'PatientConsentCredential'],
        credentialSubject: { purposes, credentialTypes: ['PatientIdentityCredential'] },
      },
    })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', kid: holder.kid })
      .setIssuer(holder.did)
      .setSubject(hospital.did)
      .setNotBefore(now - 5)
      .setExpirationTime(now + 3600)
      .sign(holder.privateKey)
  }

  it('verifies it with key binding, nested and array-element disclosures, its status and a consent carried in the KB-JWT', async () => {
    const { jwt, d } = await issue(2)
    const carried = await consent(['treatment'])
    const res = await verifyPatientAt(svc, hospital, (b) => present(jwt, [d.name.encoded, d.identifiers.encoded, d.mrn.encoded, d.locality.encoded], b, { consent: carried }))
    expect(res.body.errors).toBeUndefined()
    expect(res.status).toBe(201)
    expect(res.body.credentials[0].credentialSubject).toEqual({
      id: holder.did,
      name: 'Robin Interop',
      identifiers: [{ system: 'urn:mrn:interop', value: 'I-77' }],
      address: { country: 'US', locality: 'Springfield' },
    })
    const checks = Object.fromEntries(res.body.checks.map((c: any) => [c.check, c]))
    expect(checks.status.detail).toMatch(/valid/)
    expect(checks.consent.detail).toMatch(/carried in the presentation/)
    expect(checks.trustedIssuer.ok).toBe(true)
  })

  it('the same credential revoked in its (independently built) Token Status List fails status', async () => {
    const { jwt, d } = await issue(5)
    const res = await verifyPatientAt(svc, hospital, async (b) => present(jwt, [d.name.encoded], b, { consent: await consent(['treatment']) }))
    expect(failedChecks(res.body)).toEqual(['status'])
  })

  it('without a consent for the purpose it fails consent only; an array element disclosed without its parent is refused', async () => {
    const { jwt, d } = await issue(3)
    // The consent carried in the first test was stored as granted: it covers treatment, not research.
    expect((await verifyPatientAt(svc, hospital, (b) => present(jwt, [d.birthDate.encoded], b))).status).toBe(201)
    expect(failedChecks((await verifyPatientAt(svc, hospital, (b) => present(jwt, [d.birthDate.encoded], b), 'research')).body)).toEqual(['consent'])
    // The element's digest sits inside the undisclosed `identifiers` claim: the disclosure matches nothing signed.
    const orphan = await verifyPatientAt(svc, hospital, (b) => present(jwt, [d.mrn.encoded], b, { consent: 'x' }))
    expect(failedChecks(orphan.body)).toEqual(['disclosures'])
  })

  it('logged no patient name, birth date or identifier', () => {
    expectNoneIn(svc.logs, ['Robin Interop', '1979-11-30', 'I-77'])
  })
})
