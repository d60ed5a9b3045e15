import { createHash, createPublicKey, generateKeyPairSync, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto'
import { createRequire } from 'node:module'
import { secp256k1 as noble } from '@noble/curves/secp256k1'
import { createAgent, type ICredentialPlugin, type IResolver } from '@veramo/core'
import { CredentialPlugin } from '@veramo/credential-w3c'
import { CredentialProviderJWT } from '@veramo/credential-jwt'
import { DIDResolverPlugin } from '@veramo/did-resolver'
import { Resolver } from 'did-resolver'
import { getResolver as ethrResolver } from 'ethr-did-resolver'
import { HolderWallet } from '../../src/holder/wallet.js'
import { InstitutionEntity } from '../../src/institutions/institution.entity.js'
import { verifyCredential } from '../../src/verification/verify-credential.js'
import { verifyPresentation } from '../../src/verification/verify-presentation.js'
import { issueBenchLicense, opsPerSecond, trustedBenchBoard, type BenchContext, type Figure } from './harness.js'

const libsecp256k1 = createRequire(import.meta.url)('secp256k1/bindings') as typeof import('secp256k1')

/** The three ES256K verifiers on one signature: libsecp256k1 (native), OpenSSL (Node's crypto), @noble/curves (did-jwt's). */
export async function benchRawVerifiers(): Promise<{ figures: Figure[]; libsecp256k1: number }> {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'secp256k1' })
  const data = Buffer.from('eyJhbGciOiJFUzI1NksifQ.eyJpc3MiOiJkaWQ6ZXRocjoweDdhNjkifQ')
  const signature = cryptoSign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' })
  const hash = createHash('sha256').update(data).digest()
  const jwk = publicKey.export({ format: 'jwk' })
  const raw = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')])
  const opensslKey = createPublicKey({ key: jwk, format: 'jwk' })
  const must = (ok: boolean) => {
    if (!ok) throw new Error('bench signature did not verify')
  }
  const native = await opsPerSecond(() => must(libsecp256k1.ecdsaVerify(libsecp256k1.signatureNormalize(Uint8Array.from(signature)), hash, raw)))
  const openssl = await opsPerSecond(() => must(cryptoVerify('sha256', data, { key: opensslKey, dsaEncoding: 'ieee-p1363' }, signature)))
  const pureJs = await opsPerSecond(() => must(noble.verify(signature, hash, raw, { lowS: false })))
  const baseline = { name: 'libsecp256k1', value: native }
  return {
    libsecp256k1: native,
    figures: [
      { name: 'raw ES256K verify, libsecp256k1 (secp256k1 package)', value: native, unit: 'ops/s' },
      { name: "raw ES256K verify, Node's OpenSSL (crypto.verify)", value: openssl, unit: 'ops/s', baseline },
      { name: 'raw ES256K verify, @noble/curves (what did-jwt uses)', value: pureJs, unit: 'ops/s', baseline },
    ],
  }
}

/**
 * Verification of one license: a plain Veramo 7 agent (credential-w3c + ethr-did-resolver on the same
 * chain, no status check) with did-resolver's cache on and off, against medcred's full verification in
 * process (every check, status and trust included, warm caches); and accept-on-receipt against a full
 * verification that resolves the issuer's DID from the chain.
 */
export async function benchVerification(ctx: BenchContext, libsecp256k1Rate: number): Promise<Figure[]> {
  const board = await trustedBenchBoard(ctx, 'Verify Bench Board')
  const clinician = await HolderWallet.create()
  const license = await issueBenchLicense(ctx, board, clinician.did)
  const { chain, verifyContext } = ctx.medcred

  const plainAgent = (cache: boolean) => {
    const resolver = new Resolver(ethrResolver({ networks: [{ name: chain.network, chainId: chain.chainId, rpcUrl: chain.rpcUrl, registry: chain.registry }] }), { cache })
    return createAgent<IResolver & ICredentialPlugin>({ plugins: [new DIDResolverPlugin({ resolver }), new CredentialPlugin([new CredentialProviderJWT()])] })
  }
  const plain = (agent: ReturnType<typeof plainAgent>) => async () => {
    const r = await agent.verifyCredential({ credential: license, policies: { credentialStatus: false } })
    if (!r.verified) throw new Error(`plain Veramo did not verify the bench license: ${JSON.stringify(r.error)}`)
  }
  const cachedAgent = plainAgent(true)
  const plainCached = await opsPerSecond(plain(cachedAgent))
  const plainUncached = await opsPerSecond(plain(plainAgent(false)), 500)

  const medcred = await opsPerSecond(async () => {
    const r = await verifyCredential(license, verifyContext)
    if (!r.verified) throw new Error(`medcred did not verify the bench license: ${JSON.stringify(r.checks.filter((c) => !c.ok))}`)
  })

  // Accept once: the receipt-based checks against a full presentation verification with the DID from chain.
  const hospitalA = (await ctx.post('/institutions', { name: 'Bench A', kind: 'hospital' }, ctx.adminToken)).body
  const hospitalB = (await ctx.post('/institutions', { name: 'Bench B', kind: 'hospital' }, ctx.adminToken)).body
  await ctx.post('/trust/verifiers', { did: hospitalA.did }, ctx.adminToken)
  const { challenge, domain } = (await ctx.post('/verifications/challenges', {}, hospitalA.apiKey)).body
  const vp = await clinician.present([license], { challenge, domain })
  const verified = await ctx.post('/verifications', { verifiablePresentation: vp, challenge, domain, purpose: 'onboarding' }, hospitalA.apiKey)
  if (verified.status !== 201) throw new Error(`bench verification failed: ${JSON.stringify(verified.body)}`)
  const receiptJwt = verified.body.receipts[0].proof.jwt as string
  const hospitalBRow = await ctx.medcred.db.getRepository(InstitutionEntity).findOneByOrFail({ id: hospitalB.id })
  const accept = await opsPerSecond(async () => {
    const r = await ctx.medcred.services.acceptances.evaluate(hospitalBRow, license.proof.jwt, receiptJwt)
    if (!r.verified) throw new Error(`bench acceptance failed: ${JSON.stringify(r.checks.filter((c) => !c.ok))}`)
  })
  const binding = { challenge: 'bench', domain: 'bench' }
  const benchVp = await clinician.present([license], binding)
  const fullFromChain = await opsPerSecond(async () => {
    verifyContext.resolver.invalidate(board.did)
    const r = await verifyPresentation(benchVp as never, binding, verifyContext)
    if (!r.verified) throw new Error('bench presentation did not verify')
  }, 500)
  const fullCached = await opsPerSecond(async () => {
    const r = await verifyPresentation(benchVp as never, binding, verifyContext)
    if (!r.verified) throw new Error('bench presentation did not verify')
  })

  return [
    { name: 'plain Veramo 7 verifyCredential, did-resolver cache on, no status', value: plainCached, unit: 'ops/s' },
    { name: 'plain Veramo 7 verifyCredential, cache off', value: plainUncached, unit: 'ops/s', baseline: { name: 'cache on', value: plainCached } },
    { name: 'medcred full verification in process (every check)', value: medcred, unit: 'ops/s', baseline: { name: 'plain Veramo, cache on', value: plainCached }, target: '≥ 5,000/s, ≥ 8×' },
    { name: 'medcred full verification in process', value: medcred, unit: 'ops/s', baseline: { name: 'raw libsecp256k1 verify', value: libsecp256k1Rate } },
    { name: 'accept-on-receipt checks in process', value: accept, unit: 'ops/s', baseline: { name: 'full presentation verification, DID from chain', value: fullFromChain }, target: '≥ 10×, ≥ 20,000/s' },
    { name: 'accept-on-receipt checks in process', value: accept, unit: 'ops/s', baseline: { name: 'full presentation verification, warm caches', value: fullCached } },
  ]
}
