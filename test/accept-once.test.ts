import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { receiptCredential } from '../src/acceptance/receipts.js'
import { credentialDigest } from '../src/credentials/digest.js'
import { HolderWallet } from '../src/holder/wallet.js'
import { InstitutionEntity } from '../src/institutions/institution.entity.js'
import { signAsInstitution } from '../src/issuance/sign.js'
import { createTestDatabase, type TestDatabase } from './helpers/database.js'
import { licenseCredential, tamperPayload } from './helpers/fixtures.js'
import { startTestService, type TestService } from './helpers/service.js'
import { WebhookListener } from './helpers/webhook-listener.js'

const FAST_WEBHOOKS = { WEBHOOK_POLL_MS: '50', WEBHOOK_RETRY_BASE_MS: '100', WEBHOOK_RETRY_MAX_MS: '300' }

type Inst = { id: string; did: string; apiKey: string }

describe('verify once, accept everywhere', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'medcred-accept-'))
  let database: TestDatabase
  let svc: TestService
  let board: Inst
  let hospitalA: Inst
  let hospitalB: Inst
  let clinician: HolderWallet
  let license: any
  let listenerA: WebhookListener
  let listenerB: WebhookListener

  beforeAll(async () => {
    database = await createTestDatabase()
    svc = await startTestService({ dataDir, database, env: FAST_WEBHOOKS })
    board = await svc.api.createTrustedBoard('Texas Medical Board')
    ;({ hospitalA, hospitalB } = await svc.api.createHospitalPair())
    clinician = await HolderWallet.create()
    license = (await svc.api.post('/credentials/issue', { credential: licenseCredential(clinician.did) }, board.apiKey)).body.verifiableCredential
    listenerA = await WebhookListener.start()
    listenerB = await WebhookListener.start()
    for (const [h, l] of [[hospitalA, listenerA], [hospitalB, listenerB]] as const) {
      const res = await svc.api.post('/webhooks', { url: l.url(), events: ['credential.revoked', 'credential.suspended', 'issuer.untrusted'] }, h.apiKey)
      expect(res.status).toBe(201)
    }
  })
  afterAll(async () => {
    await svc?.dispose()
    await listenerA?.close()
    await listenerB?.close()
    fs.rmSync(dataDir, { recursive: true, force: true })
  })

  const verifyAt = async (hospital: Inst, credentials: unknown[] = [license], wallet = clinician) => {
    const { challenge, domain } = (await svc.api.post('/verifications/challenges', {}, hospital.apiKey)).body
    const vp = await wallet.present(credentials as never, { challenge, domain })
    return { vp, challenge, domain, res: await svc.api.post('/verifications', { verifiablePresentation: vp, challenge, domain, purpose: 'onboarding' }, hospital.apiKey) }
  }
  const accept = (hospital: Inst, credential: unknown, receipt: unknown) =>
    svc.api.post('/acceptances', { verifiableCredential: credential, receipt }, hospital.apiKey)
  const failed = (body: any) => body.errors.map((e: any) => e.check)

  it('end to end: A verifies in full, B accepts on the receipt, the board revokes, both are told, B refuses', async () => {
    // Hospital A: full verification against a challenge it got from the service.
    const { res: verified } = await verifyAt(hospitalA)
    expect(verified.status).toBe(201)
    const names = verified.body.checks.map((c: any) => c.check)
    expect(names).toEqual(expect.arrayContaining(['challenge', 'domain', 'holderBinding', 'credentials[0].proof', 'credentials[0].trustedIssuer', 'credentials[0].status']))
    const receipt = verified.body.receipts[0]
    expect(receipt.type).toContain('AcceptanceReceiptCredential')
    expect(receipt.issuer).toEqual({ id: hospitalA.did })
    expect(receipt.credentialSubject.acceptedCredential).toMatchObject({ id: license.id, issuer: board.did, digest: credentialDigest(license.proof.jwt) })
    // The clinician can fetch the receipt to carry it on.
    const fetched = await svc.api.get(new URL(receipt.id).pathname)
    expect(fetched.status).toBe(200)
    expect(fetched.body).toBe(receipt.proof.jwt)

    // Hospital B: accepts on A's receipt, with only the live checks.
    const accepted = await accept(hospitalB, license, receipt)
    expect(accepted.status).toBe(201)
    expect(accepted.body).toMatchObject({ accepted: true, reliedOnReceipt: true, reliedOn: { verifier: hospitalA.did } })
    const bChecks = accepted.body.checks.map((c: any) => c.check)
    // The receipt stands for the primary-source work; the credential's own signature is still checked.
    expect(bChecks).toEqual(['integrity', 'receiptIntegrity', 'receiptSignerDid', 'receiptProof', 'receiptFormat', 'receiptVerifier', 'receiptSubject', 'receiptAge', 'issuerDid', 'proof', 'dates', 'trustedIssuer', 'status'])
    expect(bChecks).not.toContain('schema')
    expect(accepted.body.note).toMatch(/primary-source verification was relied on/)

    // B's webhook fails at first: the delivery stays pending across a restart.
    listenerB.answer(500, 500)
    const revoked = await svc.api.post('/credentials/status', { credentialId: license.id, credentialStatus: [{ type: 'StatusList2021Entry', status: 'revoked' }], reason: 'disciplinary-action' }, board.apiKey)
    expect(revoked.body.changed).toBe(true)

    const refused = await accept(hospitalB, license, receipt)
    expect(refused.status).toBe(400)
    expect(failed(refused.body)).toEqual(['status'])

    await listenerA.waitUntil((l) => l.delivered.length >= 1)
    await listenerB.waitUntil((l) => l.requests.length >= 1)
    await svc.stop()
    svc = await startTestService({ dataDir, database, env: FAST_WEBHOOKS })
    await listenerB.waitUntil((l) => l.delivered.length >= 1, 15_000)

    for (const [hospital, listener] of [[hospitalA, listenerA], [hospitalB, listenerB]] as const) {
      const payload = JSON.parse(listener.delivered[0].body)
      expect(payload).toMatchObject({ event: 'credential.revoked', data: { credentialId: license.id, issuer: board.did, status: 'revoked' } })
      const notices = await svc.api.get('/notifications', hospital.apiKey)
      expect(notices.body.items[0]).toMatchObject({ event: 'credential.revoked', data: { credentialId: license.id } })
    }
    expect(listenerB.requests.filter((r) => r.answered >= 500).length).toBeGreaterThanOrEqual(1)
  })

  it('refuses a replayed presentation: the second use of a challenge fails', async () => {
    const fresh = (await svc.api.post('/credentials/issue', { credential: licenseCredential(clinician.did) }, board.apiKey)).body.verifiableCredential
    const { vp, challenge, domain, res } = await verifyAt(hospitalA, [fresh])
    expect(res.status).toBe(201)
    const replay = await svc.api.post('/verifications', { verifiablePresentation: vp, challenge, domain, purpose: 'onboarding' }, hospitalA.apiKey)
    expect(replay.status).toBe(400)
    expect(replay.body.errors).toEqual([{ check: 'challenge', detail: 'the challenge was already used (a replayed presentation)' }])
    expect(replay.body.verificationId).toBeDefined()
    // Another hospital cannot use A's challenge either.
    const { challenge: c2, domain: d2 } = (await svc.api.post('/verifications/challenges', {}, hospitalA.apiKey)).body
    const stolen = await svc.api.post('/verifications', { verifiablePresentation: await clinician.present([fresh], { challenge: c2, domain: d2 }), challenge: c2, domain: d2, purpose: 'onboarding' }, hospitalB.apiKey)
    expect(stolen.body.errors[0].detail).toMatch(/not issued to this verifier/)
  })

  it("accepts from the clinician's own presentation of the credential and the receipt, bound to B's challenge", async () => {
    const fresh = (await svc.api.post('/credentials/issue', { credential: licenseCredential(clinician.did) }, board.apiKey)).body.verifiableCredential
    const receipt = (await verifyAt(hospitalA, [fresh])).res.body.receipts[0]
    const present = async (wallet: HolderWallet) => {
      const { challenge, domain } = (await svc.api.post('/verifications/challenges', {}, hospitalB.apiKey)).body
      const vp = await wallet.present([fresh, receipt], { challenge, domain })
      return svc.api.post('/acceptances', { verifiablePresentation: vp, challenge, domain }, hospitalB.apiKey)
    }
    const res = await present(clinician)
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({ accepted: true, reliedOn: { verifier: hospitalA.did } })
    const names = res.body.checks.map((c: any) => c.check)
    expect(names).toEqual(expect.arrayContaining(['challenge', 'domain', 'holderBinding', 'credentials[0].receiptSubject', 'credentials[0].status', 'credentials[1].receiptProof']))
    expect(names).toContain('credentials[0].proof')
    expect(names).not.toContain('credentials[0].schema')
    // Someone else holding both documents cannot present them.
    const thief = await HolderWallet.create()
    const stolen = await present(thief)
    expect(stolen.status).toBe(400)
    expect(failed(stolen.body)).toContain('holderBinding')
  })

  describe('receipts that must not be relied on', () => {
    let fresh: any
    let receipt: any
    beforeAll(async () => {
      fresh = (await svc.api.post('/credentials/issue', { credential: licenseCredential(clinician.did) }, board.apiKey)).body.verifiableCredential
      receipt = (await verifyAt(hospitalA, [fresh])).res.body.receipts[0]
    })

    it('a receipt from a verifier the consortium does not trust', async () => {
      const untrusted = await svc.api.createInstitution({ name: 'Hospital C', kind: 'hospital' })
      const cReceipt = (await verifyAt(untrusted, [fresh])).res.body.receipts[0]
      const res = await accept(hospitalB, fresh, cReceipt)
      expect(res.status).toBe(400)
      expect(failed(res.body)).toEqual(['receiptVerifier'])
    })

    it('a receipt for a different credential (digest mismatch)', async () => {
      const other = (await svc.api.post('/credentials/issue', { credential: licenseCredential(clinician.did) }, board.apiKey)).body.verifiableCredential
      const res = await accept(hospitalB, other, receipt)
      expect(failed(res.body)).toEqual(['receiptSubject'])
      expect(res.body.errors[0].detail).toMatch(/digest mismatch/)
    })

    it('an expired receipt (older than the institution’s window), and the window is per institution', async () => {
      const aRow = await svc.db.getRepository(InstitutionEntity).findOneByOrFail({ id: hospitalA.id })
      const old = new Date(Date.now() - 200 * 86_400_000).toISOString()
      const stale = await signAsInstitution(
        svc.agent,
        aRow,
        receiptCredential({
          url: `${svc.config.publicUrl}/receipts/old`,
          verifier: aRow,
          holder: clinician.did,
          accepted: { id: fresh.id, type: 'ClinicianLicenseCredential', issuer: board.did, digest: credentialDigest(fresh.proof.jwt) },
          verificationId: 'v-old',
          purpose: 'onboarding',
          checksPassed: ['proof'],
          verifiedAt: old,
        }),
      )
      const res = await accept(hospitalB, fresh, stale)
      expect(failed(res.body)).toEqual(['receiptAge'])
      expect(res.body.errors[0].detail).toMatch(/up to 120 days old/)
      const policy = await svc.api.request('PATCH', `/institutions/${hospitalB.id}/policy`, { body: { receiptWindowDays: 365 }, token: hospitalB.apiKey })
      expect(policy.body.policy).toEqual({ receiptWindowDays: 365 })
      expect((await accept(hospitalB, fresh, stale)).status).toBe(201)
      await svc.api.request('PATCH', `/institutions/${hospitalB.id}/policy`, { body: { receiptWindowDays: 120 }, token: hospitalB.apiKey })
    })

    it('a forged receipt: edited payload, or signed by someone else in a trusted verifier’s name', async () => {
      const edited = tamperPayload(receipt.proof.jwt, 'onboarding', 'privileging')
      const res = await accept(hospitalB, fresh, edited)
      expect(failed(res.body)).toContain('receiptProof')
      const mallory = await HolderWallet.create('Secp256k1')
      const impostor = await mallory.selfIssue({ ...receipt, proof: undefined, issuer: undefined })
      const relabelled = impostor.proof.jwt.split('.')
      const payload = JSON.parse(Buffer.from(relabelled[1], 'base64url').toString())
      payload.iss = hospitalA.did
      const forged = [relabelled[0], Buffer.from(JSON.stringify(payload)).toString('base64url'), relabelled[2]].join('.')
      const res2 = await accept(hospitalB, fresh, forged)
      expect(failed(res2.body)).toContain('receiptProof')
    })

    it('only hospitals verify and accept; bodies of the wrong shape are 400', async () => {
      expect((await svc.api.post('/verifications/challenges', {}, board.apiKey)).status).toBe(403)
      expect((await accept(board, fresh, receipt)).status).toBe(403)
      expect((await svc.api.post('/acceptances', { verifiableCredential: fresh }, hospitalB.apiKey)).status).toBe(400)
      expect((await svc.api.post('/verifications', { verifiablePresentation: 'x', challenge: 'c', domain: 'd', purpose: 'fun' }, hospitalA.apiKey)).status).toBe(400)
    })
  })
})
