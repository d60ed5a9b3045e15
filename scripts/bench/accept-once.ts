import { HolderWallet } from '../../src/holder/wallet.js'
import { InstitutionEntity } from '../../src/institutions/institution.entity.js'
import { verifyPresentation } from '../../src/verification/verify-presentation.js'
import { issueBenchLicense, timeIt, type BenchContext, type Row } from './harness.js'

/**
 * Issue 4: accepting a credential on another hospital's receipt against verifying it in full, both over
 * HTTP (what a hospital waits for, persistence and signing included) and in-process (the checks alone).
 */
export async function benchAcceptOnce(ctx: BenchContext): Promise<Row[]> {
  const admin = ctx.adminToken
  const board = (await ctx.post('/institutions', { name: 'Accept Board', kind: 'board', jurisdiction: 'US-TX' }, admin)).body
  await ctx.post('/trust/issuers', { did: board.did, credentialTypes: ['ClinicianLicenseCredential'], jurisdictions: ['US-TX'] }, admin)
  const hospitalA = (await ctx.post('/institutions', { name: 'Bench A', kind: 'hospital' }, admin)).body
  const hospitalB = (await ctx.post('/institutions', { name: 'Bench B', kind: 'hospital' }, admin)).body
  await ctx.post('/trust/verifiers', { did: hospitalA.did }, admin)
  const clinician = await HolderWallet.create()
  const license = await issueBenchLicense(ctx, board.apiKey, clinician.did)

  const presentations: { vp: unknown; challenge: string; domain: string }[] = []
  const iterations = 60
  for (let i = 0; i < iterations + 6; i++) {
    const { challenge, domain } = (await ctx.post('/verifications/challenges', {}, hospitalA.apiKey)).body
    presentations.push({ vp: await clinician.present([license], { challenge, domain }), challenge, domain })
  }
  let receipt: unknown
  const fullHttpMs = await timeIt(
    async () => {
      const p = presentations.pop()!
      const res = await ctx.post('/verifications', { verifiablePresentation: p.vp, challenge: p.challenge, domain: p.domain, purpose: 'onboarding' }, hospitalA.apiKey)
      if (res.status !== 201) throw new Error(`full verification failed: ${JSON.stringify(res.body)}`)
      receipt = res.body.receipts[0]
    },
    iterations,
    6,
  )
  const acceptHttpMs = await timeIt(async () => {
    const res = await ctx.post('/acceptances', { verifiableCredential: license, receipt }, hospitalB.apiKey)
    if (res.status !== 201) throw new Error(`acceptance failed: ${JSON.stringify(res.body)}`)
  })

  // The checks alone, no persistence: a full presentation verification against the receipt-based checks.
  const binding = { challenge: 'bench', domain: 'bench' }
  const vp = await clinician.present([license], binding)
  const fullMs = await timeIt(async () => {
    const v = await verifyPresentation(vp as never, binding, ctx.medcred.verifyContext)
    if (!v.verified) throw new Error('bench presentation did not verify')
  })
  // What a verifier without medcred's DID cache does: resolve the issuer's DID from the chain every time.
  const fullColdMs = await timeIt(async () => {
    ctx.medcred.verifyContext.resolver.invalidate(board.did)
    const v = await verifyPresentation(vp as never, binding, ctx.medcred.verifyContext)
    if (!v.verified) throw new Error('bench presentation did not verify')
  }, 100, 10)
  const hospitalBRow = await ctx.medcred.db.getRepository(InstitutionEntity).findOneByOrFail({ id: hospitalB.id })
  const receiptJwt = (receipt as { proof: { jwt: string } }).proof.jwt
  const acceptMs = await timeIt(async () => {
    const r = await ctx.medcred.services.acceptances.evaluate(hospitalBRow, license.proof.jwt, receiptJwt)
    if (!r.verified) throw new Error('bench acceptance checks failed')
  })
  return [
    { name: 'accept on receipt: POST /acceptances', ms: acceptHttpMs, baseline: 'full: POST /verifications', baselineMs: fullHttpMs },
    { name: 'accept-on-receipt checks (in-process)', ms: acceptMs, baseline: 'full presentation verification', baselineMs: fullMs },
    { name: 'accept-on-receipt checks (in-process)', ms: acceptMs, baseline: 'full, issuer DID resolved from chain', baselineMs: fullColdMs },
  ]
}
