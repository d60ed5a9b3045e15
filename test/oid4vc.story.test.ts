import { decodeJwt } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { licenseCredential } from './helpers/fixtures.js'
import { Oid4vcWallet } from './helpers/oid4vc-wallet.js'
import { startTestService, type TestService } from './helpers/service.js'

type Inst = { id: string; did: string; apiKey: string }

/**
 * The whole story in standard wallet protocols, over HTTP only: the board issues over OID4VCI, hospital A
 * verifies over OID4VP and hands its receipt back over OID4VCI, hospital B accepts on that receipt over
 * OID4VP, the board revokes, B's next request fails on status.
 */
describe('accept once, end to end through a wallet', () => {
  let svc: TestService
  let board: Inst
  let hospitalA: Inst
  let hospitalB: Inst
  let clinician: Oid4vcWallet
  let colleague: Oid4vcWallet

  beforeAll(async () => {
    svc = await startTestService()
    board = await svc.api.createTrustedBoard('Texas Medical Board')
    ;({ hospitalA, hospitalB } = await svc.api.createHospitalPair())
    const net = { publicUrl: svc.config.publicUrl, baseUrl: svc.url }
    clinician = await Oid4vcWallet.create(net)
    colleague = await Oid4vcWallet.create(net, 'EdDSA')
  })
  afterAll(async () => {
    await svc?.dispose()
  })

  const poll = async (hospital: Inst, id: string) => (await svc.api.get(`/oid4vp/requests/${id}`, hospital.apiKey)).body
  const request = async (hospital: Inst, acceptReceipts = false) => {
    const res = await svc.api.post('/oid4vp/requests', { purpose: 'privileging', credentialTypes: ['ClinicianLicenseCredential'], acceptReceipts }, hospital.apiKey)
    expect(res.status, JSON.stringify(res.body)).toBe(201)
    return res.body as { id: string; request: string }
  }

  it('board offer → wallet → hospital A verified → receipt to the wallet → hospital B accepted on receipt → revoked → B fails on status', async () => {
    // The board offers a license; the clinician's wallet redeems it with a tx_code.
    const { credentialSubject, ...rest } = licenseCredential('unused')
    const { id: _id, ...subject } = credentialSubject as Record<string, unknown>
    const offer = await svc.api.post('/oid4vci/offers', { credential: { ...rest, credentialSubject: subject }, txCode: true }, board.apiKey)
    expect(offer.status, JSON.stringify(offer.body)).toBe(201)
    const license = await clinician.receive(offer.body.offer, { txCode: offer.body.txCode })
    const claims = decodeJwt(license) as any
    expect(claims.sub).toBe(clinician.did)
    expect((await svc.api.get(`/oid4vci/offers/${offer.body.id}`, board.apiKey)).body.state).toBe('credential-issued')

    // Hospital A asks; the wallet answers; A polls and sees the full verification.
    const atA = await request(hospitalA)
    expect((await poll(hospitalA, atA.id)).status).toBe('pending')
    const answerA = await clinician.answer(atA.request, [license])
    expect(answerA.reply.status, JSON.stringify(answerA.reply.body)).toBe(200)
    const verifiedA = await poll(hospitalA, atA.id)
    expect(verifiedA.status).toBe('verified')
    expect(verifiedA.verification.verified).toBe(true)

    // A colleague's wallet cannot take the clinician's receipt; the clinician's wallet can.
    const receiptOffer = await colleague.resolveOffer(verifiedA.receiptOffer)
    const token = (await colleague.token(receiptOffer)).body.access_token
    const refused = await colleague.requestCredential(receiptOffer.credential_issuer, token, {
      credential_configuration_id: receiptOffer.credential_configuration_ids[0],
      proofs: { jwt: [await colleague.proof({ aud: receiptOffer.credential_issuer, nonce: await colleague.nonce(receiptOffer.credential_issuer) })] },
    })
    expect(refused.body.error).toBe('invalid_proof')
    const res = await clinician.requestCredential(receiptOffer.credential_issuer, token, {
      credential_configuration_id: receiptOffer.credential_configuration_ids[0],
      proofs: { jwt: [await clinician.proof({ aud: receiptOffer.credential_issuer, nonce: await clinician.nonce(receiptOffer.credential_issuer) })] },
    })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    const receipt = res.body.credentials[0].credential as string
    expect((decodeJwt(receipt) as any).vc.credentialSubject.acceptedCredential.id).toBe(claims.jti)

    // Hospital B accepts receipts: the wallet presents license and receipt, B settles on A's receipt.
    const atB = await request(hospitalB, true)
    const answerB = await clinician.answer(atB.request, [license, receipt])
    expect(answerB.reply.status, JSON.stringify(answerB.reply.body)).toBe(200)
    const acceptedB = await poll(hospitalB, atB.id)
    expect(acceptedB.status).toBe('accepted-on-receipt')
    expect(acceptedB.acceptance.reliedOn.verifier).toBe(hospitalA.did)
    expect(acceptedB.checks.filter((c: any) => !c.ok)).toEqual([])

    // The board revokes the license; B's next request fails, naming the status check.
    const revoked = await svc.api.post('/credentials/status', { credentialId: claims.jti, credentialStatus: [{ type: 'StatusList2021Entry', status: 'revoked' }] }, board.apiKey)
    expect(revoked.status, JSON.stringify(revoked.body)).toBe(200)
    const again = await request(hospitalB, true)
    const answerAgain = await clinician.answer(again.request, [license, receipt])
    expect(answerAgain.reply.status).toBe(400)
    expect(answerAgain.reply.body.error).toBe('invalid_request')
    const failed = await poll(hospitalB, again.id)
    expect(failed.status).toBe('failed')
    expect(failed.checks.filter((c: any) => !c.ok).map((c: any) => c.check)).toEqual(expect.arrayContaining([expect.stringMatching(/(^|\.)status$/)]))
  })
})
