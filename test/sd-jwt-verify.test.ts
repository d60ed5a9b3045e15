import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HolderWallet } from '../src/holder/wallet.js'
import { sdDigest } from '../src/credentials/sd-jwt-vc.js'
import { failedChecks, grantConsent, signConsent, verifyPatientAt } from './helpers/consent.js'
import { PATIENT_BIRTH_DATE, PATIENT_NAME, b64json, expectNoneIn, decodeJws, enc, issueSdJwt } from './helpers/sd-jwt.js'
import { startTestService, type TestService } from './helpers/service.js'

describe('SD-JWT VC presentations with key binding', () => {
  let svc: TestService
  let idp: Awaited<ReturnType<TestService['api']['createInstitution']>>
  let hospital: typeof idp
  let patient: HolderWallet
  let other: HolderWallet
  let sdJwt: string

  beforeAll(async () => {
    svc = await startTestService()
    idp = await svc.api.createTrustedIdentityProvider('Registration Desk')
    hospital = await svc.api.createInstitution({ name: 'St Luke', kind: 'hospital' })
    patient = await HolderWallet.create()
    other = await HolderWallet.create()
    sdJwt = await issueSdJwt(svc, idp.apiKey, patient.did)
    await grantConsent(svc, await signConsent(patient, hospital.did))
  })
  afterAll(() => svc?.dispose())

  const verify = (present: (b: { challenge: string; domain: string }) => Promise<string>) => verifyPatientAt(svc, hospital, present)
  const onlyFailure = (res: { status: number; body: any }, check: string) => {
    expect(res.status).toBe(400)
    expect(res.body.verified).toBe(false)
    expect(failedChecks(res.body)).toEqual([check])
  }

  it('a presentation disclosing only name and birth date verifies and shows only those; the undisclosed are nowhere', async () => {
    const res = await verify((b) => patient.presentSdJwt(sdJwt, ['name', 'birthDate'], b))
    expect(res.status).toBe(201)
    expect(res.body.verified).toBe(true)
    const checks = Object.fromEntries(res.body.checks.map((c: any) => [c.check, c.ok]))
    for (const c of ['format', 'issuerDid', 'proof', 'disclosures', 'dates', 'schema', 'trustedIssuer', 'status', 'keyBinding', 'sdHash', 'challenge', 'domain', 'freshness', 'holderBinding', 'consent']) {
      expect(checks[c], c).toBe(true)
    }
    expect(res.body.credentials).toHaveLength(1)
    expect(res.body.credentials[0]).toMatchObject({ type: 'PatientIdentityCredential', issuer: idp.did, format: 'dc+sd-jwt' })
    expect(res.body.credentials[0].credentialSubject).toEqual({ id: patient.did, name: PATIENT_NAME, birthDate: PATIENT_BIRTH_DATE })
    const undisclosed = ['MRN-0042', 'urn:mrn:st-lukes', 'IAL2', 'Austin', 'assuranceLevel', 'identifiers', 'address']
    const reply = JSON.stringify(res.body)
    for (const u of undisclosed) expect(reply).not.toContain(u)

    const stored = await svc.api.get(`/verifications/${res.body.id}`, hospital.apiKey)
    expect(stored.status).toBe(200)
    expect(stored.body.verified).toBe(true)
    for (const u of [...undisclosed, PATIENT_NAME, PATIENT_BIRTH_DATE]) expect(JSON.stringify(stored.body)).not.toContain(u)
    const row = await svc.db.query(`SELECT * FROM medcred_verification WHERE id = '${res.body.id}'`)
    for (const u of [...undisclosed, PATIENT_NAME, PATIENT_BIRTH_DATE]) expect(JSON.stringify(row)).not.toContain(u)

    const events = (await svc.api.get('/audit/events?limit=1000', svc.api.adminToken)).body.events
    const mine = events.filter((e: any) => e.subject?.id === res.body.id || e.detail?.verificationId === res.body.id)
    expect(mine.map((e: any) => e.action).sort()).toEqual(['consent.checked', 'presentation.verified'])
    for (const u of [...undisclosed, PATIENT_NAME, PATIENT_BIRTH_DATE]) expect(JSON.stringify(mine)).not.toContain(u)
  })

  it('a tampered disclosure fails disclosures', async () => {
    const res = await verify(async (b) => {
      const presented = await patient.presentSdJwt(sdJwt, ['name'], b)
      const parts = presented.split('~')
      const d = b64json(parts[1])
      d[2] = 'Someone Else'
      parts[1] = enc(d)
      // Re-bind so that only the disclosure is wrong (sd_hash over what is now presented).
      const body = `${parts.slice(0, -1).join('~')}~`
      return body + (await patient.signJwt({ iat: Math.floor(Date.now() / 1000), aud: b.domain, nonce: b.challenge, sd_hash: sdDigest(body) }, { typ: 'kb+jwt' }))
    })
    onlyFailure(res, 'disclosures')
  })

  it('an added disclosure the issuer never signed fails disclosures', async () => {
    const res = await verify(async (b) => {
      const presented = await patient.presentSdJwt(sdJwt, ['name'], b)
      const parts = presented.split('~')
      const added = enc(['c2FsdHNhbHRzYWx0', 'assuranceLevel', 'IAL3'])
      const body = `${[parts[0], parts[1], added].join('~')}~`
      return body + (await patient.signJwt({ iat: Math.floor(Date.now() / 1000), aud: b.domain, nonce: b.challenge, sd_hash: sdDigest(body) }, { typ: 'kb+jwt' }))
    })
    onlyFailure(res, 'disclosures')
  })

  it('a missing KB-JWT fails keyBinding', async () => {
    const res = await verify(async (b) => {
      const presented = await patient.presentSdJwt(sdJwt, ['name'], b)
      return presented.slice(0, presented.lastIndexOf('~') + 1)
    })
    onlyFailure(res, 'keyBinding')
  })

  it('a KB-JWT signed by another key fails keyBinding', async () => {
    const res = await verify((b) => other.presentSdJwt(sdJwt, ['name'], b))
    onlyFailure(res, 'keyBinding')
  })

  it('a wrong nonce fails challenge; a wrong aud fails domain', async () => {
    onlyFailure(await verify((b) => patient.presentSdJwt(sdJwt, ['name'], { ...b, challenge: 'not-the-challenge' })), 'challenge')
    onlyFailure(await verify((b) => patient.presentSdJwt(sdJwt, ['name'], { ...b, domain: 'did:example:elsewhere' })), 'domain')
  })

  it('a stale iat fails freshness', async () => {
    const res = await verify((b) => patient.presentSdJwt(sdJwt, ['name'], { ...b, iat: Math.floor(Date.now() / 1000) - 3600 }))
    onlyFailure(res, 'freshness')
  })

  it('a wrong sd_hash fails sdHash', async () => {
    const res = await verify(async (b) => {
      const presented = await patient.presentSdJwt(sdJwt, ['name', 'birthDate'], b)
      const body = presented.slice(0, presented.lastIndexOf('~') + 1)
      const kb = await patient.signJwt({ iat: Math.floor(Date.now() / 1000), aud: b.domain, nonce: b.challenge, sd_hash: sdDigest(`${sdJwt.split('~')[0]}~`) }, { typ: 'kb+jwt' })
      return body + kb
    })
    onlyFailure(res, 'sdHash')
  })

  it('a credential revoked in its Token Status List fails status', async () => {
    const revoked = await issueSdJwt(svc, idp.apiKey, patient.did)
    const { payload } = decodeJws(revoked.split('~')[0])
    const change = await svc.api.post('/credentials/status', { credentialId: payload.jti, credentialStatus: [{ type: 'TokenStatusList', status: 'revoked' }] }, idp.apiKey)
    expect(change.status).toBe(200)
    const res = await verify((b) => patient.presentSdJwt(revoked, ['name'], b))
    onlyFailure(res, 'status')
    expect(res.body.errors[0].detail).toBe('revoked')
  })

  it('an issuer signature that does not verify fails proof, and an untrusted issuer fails trustedIssuer', async () => {
    const [jwt, ...rest] = sdJwt.split('~')
    const [h, p, s] = jwt.split('.')
    const forged = [`${h}.${p}.${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`, ...rest].join('~')
    const res = await verify((b) => patient.presentSdJwt(forged, ['name'], b))
    expect(failedChecks(res.body)).toContain('proof')

    const untrusted = await svc.api.createInstitution({ name: 'Unknown Desk', kind: 'identity-provider' })
    const fromUntrusted = await issueSdJwt(svc, untrusted.apiKey, patient.did)
    onlyFailure(await verify((b) => patient.presentSdJwt(fromUntrusted, ['name'], b)), 'trustedIssuer')
  })

  it('POST /presentations/verify checks everything but cannot satisfy consent without a verifier identity, and says so', async () => {
    const binding = { challenge: 'vc-api-challenge-1', domain: 'https://verifier.example' }
    const res = await svc.api.post('/presentations/verify', { verifiablePresentation: await patient.presentSdJwt(sdJwt, ['name'], binding), options: binding })
    expect(res.status).toBe(400)
    expect(failedChecks(res.body)).toEqual(['consent'])
    expect(res.body.errors[0].detail).toMatch(/verifier identity/)
    expect(JSON.stringify(res.body)).not.toContain(PATIENT_NAME)

    const other = await svc.api.post('/presentations/verify', { verifiablePresentation: await patient.presentSdJwt(sdJwt, ['name'], binding), options: { ...binding, challenge: 'another' } })
    expect(failedChecks(other.body).sort()).toEqual(['challenge', 'consent'])
  })

  it('POST /presentations/verify with the hospital key and a patient purpose checks its consent', async () => {
    const binding = { challenge: 'vc-api-challenge-2', domain: hospital.did }
    const res = await svc.api.post(
      '/presentations/verify',
      { verifiablePresentation: await patient.presentSdJwt(sdJwt, ['birthDate'], binding), options: { ...binding, purpose: 'treatment' } },
      hospital.apiKey,
    )
    expect(res.status).toBe(200)
    expect(res.body.credentials[0].credentialSubject).toEqual({ id: patient.did, birthDate: PATIENT_BIRTH_DATE })
  })

  it('a disclosure holding text that is not well-formed Unicode fails disclosures, naming why', async () => {
    const res = await verify(async (b) => {
      const presented = await patient.presentSdJwt(sdJwt, ['name'], b)
      const parts = presented.split('~')
      parts[1] = Buffer.from('["c2FsdA", "name", "\\ud800"]').toString('base64url')
      return parts.join('~')
    })
    expect(failedChecks(res.body)).toEqual(['disclosures'])
    expect(res.body.errors[0].detail).toMatch(/well-formed/)
  })

  it('malformed SD-JWT presentations are a named failure, never a 500', async () => {
    const [h, , sig] = sdJwt.split('~')[0].split('.')
    const deep = `${h}.${Buffer.from(`{"vct":"x","a":${'['.repeat(5000)}${']'.repeat(5000)}}`).toString('base64url')}.${sig}~`
    for (const bad of [`${sdJwt.split('~')[0]}~%%%~`, `${sdJwt.split('~')[0]}~${enc(['only-salt'])}~`, `${sdJwt.split('~')[0]}~${enc({ a: 1 })}~x.y.z`, deep]) {
      const res = await verify(async () => bad)
      expect(res.status).toBe(400)
      expect(res.body.verified).toBe(false)
    }
  })

  it('logged no patient name, birth date or identifier', () => {
    expectNoneIn(svc.logs, [PATIENT_NAME, PATIENT_BIRTH_DATE, 'MRN-0042'])
  })
})
