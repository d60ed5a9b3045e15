import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { ES256KSigner, ES256Signer, EdDSASigner, bytesToBase58, createJWT, verifyJWT } from 'did-jwt'
import type { DIDResolutionResult, VerificationMethod } from 'did-resolver'
import { computeAddress, SigningKey } from 'ethers'
import { describe, expect, it } from 'vitest'
import { verifyJwtSignature } from '../src/verification/jwt-signature.js'
import { verifySignatureNatively } from '../src/verification/native-signature.js'

/**
 * The native signature path (libsecp256k1, OpenSSL) must judge every JWT exactly as did-jwt does: same
 * signer when valid, a refusal when not. The set covers each algorithm and key shape medcred meets
 * (full secp256k1 keys, did:ethr's address-only recovery method, Ed25519, P-256) and the ways a
 * signature goes wrong: tampered, high-S, signed by another key, by a key of another curve.
 */
const SECP256K1_N = BigInt('0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141')
const P256_N = BigInt('0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551')

type Keyed = { did: string; vm: VerificationMethod; sign: (payload: object, alg?: string) => Promise<string> }

function secp256k1Key(shape: 'hex' | 'address'): Keyed {
  const priv = randomBytes(32)
  const signing = new SigningKey(priv)
  const did = `did:example:${shape}-${randomBytes(4).toString('hex')}`
  const vm: VerificationMethod =
    shape === 'hex'
      ? { id: `${did}#key-1`, type: 'EcdsaSecp256k1VerificationKey2019', controller: did, publicKeyHex: signing.compressedPublicKey.slice(2) }
      : { id: `${did}#controller`, type: 'EcdsaSecp256k1RecoveryMethod2020', controller: did, blockchainAccountId: `eip155:31337:${computeAddress(signing.publicKey)}` }
  return { did, vm, sign: (payload, alg = 'ES256K') => createJWT(payload, { issuer: did, signer: ES256KSigner(priv, alg === 'ES256K-R') }, { alg }) }
}

function ed25519Key(): Keyed {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519')
  const did = `did:example:ed-${randomBytes(4).toString('hex')}`
  const pub = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url')
  const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url')
  const vm = { id: `${did}#key-1`, type: 'Ed25519VerificationKey2018', controller: did, publicKeyBase58: bytesToBase58(pub) }
  return { did, vm, sign: (payload) => createJWT(payload, { issuer: did, signer: EdDSASigner(seed) }, { alg: 'EdDSA' }) }
}

function p256Key(): Keyed {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const did = `did:example:p256-${randomBytes(4).toString('hex')}`
  const jwk = publicKey.export({ format: 'jwk' })
  const d = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url')
  const vm = { id: `${did}#key-1`, type: 'JsonWebKey2020', controller: did, publicKeyJwk: { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y } }
  return { did, vm, sign: (payload) => createJWT(payload, { issuer: did, signer: ES256Signer(d) }, { alg: 'ES256' }) }
}

function resolution(did: string, vms: VerificationMethod[]): DIDResolutionResult {
  return {
    didDocument: { id: did, verificationMethod: vms, assertionMethod: vms.map((v) => v.id), authentication: vms.map((v) => v.id) },
    didDocumentMetadata: {},
    didResolutionMetadata: { contentType: 'application/did+json' },
  }
}

/** Re-encodes the signature with S replaced by n - S: the same signature, in its other valid form. */
function highS(jwt: string, n: bigint): string {
  const [h, p, s] = jwt.split('.')
  const sig = Buffer.from(s, 'base64url')
  const sValue = BigInt(`0x${sig.subarray(32, 64).toString('hex')}`)
  const flipped = Buffer.from((n - sValue).toString(16).padStart(64, '0'), 'hex')
  return [h, p, Buffer.concat([sig.subarray(0, 32), flipped, sig.subarray(64)]).toString('base64url')].join('.')
}

const tamperPayload = (jwt: string) => {
  const [h, p, s] = jwt.split('.')
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString())
  payload.claim = 'changed'
  return [h, Buffer.from(JSON.stringify(payload)).toString('base64url'), s].join('.')
}
const tamperSignature = (jwt: string) => {
  const [h, p, s] = jwt.split('.')
  const sig = Buffer.from(s, 'base64url')
  sig[10] ^= 0x01
  return [h, p, sig.toString('base64url')].join('.')
}
/** Claims another algorithm in the header, keeping the signature (a key of the wrong curve). */
const relabel = (jwt: string, alg: string) => {
  const [h, p, s] = jwt.split('.')
  const header = { ...JSON.parse(Buffer.from(h, 'base64url').toString()), alg }
  return [Buffer.from(JSON.stringify(header)).toString('base64url'), p, s].join('.')
}

/** What did-jwt says, and what medcred's native path says: the signer's id or "refused". */
async function bothVerdicts(jwt: string, res: DIDResolutionResult, purpose: 'assertionMethod' | 'authentication' = 'assertionMethod') {
  const library = await verifyJWT(jwt, { resolver: { resolve: async () => res }, proofPurpose: purpose, policies: { nbf: false, iat: false, exp: false, aud: false } }).then(
    (v) => v.signer.id,
    () => 'refused',
  )
  const native = await verifyJwtSignature(jwt, res, purpose).then((vm) => vm.id, () => 'refused')
  return { library, native }
}

describe('native and did-jwt signature verification agree', () => {
  const payload = (issuer: string) => ({ iss: issuer, claim: 'original', iat: 1_700_000_000 })

  for (const [name, make, n] of [
    ['ES256K, full public key', () => secp256k1Key('hex'), SECP256K1_N],
    ["ES256K, did:ethr's address-only recovery method", () => secp256k1Key('address'), SECP256K1_N],
    ['EdDSA, Ed25519', ed25519Key, undefined],
    ['ES256, P-256', p256Key, P256_N],
  ] as const) {
    it(`${name}: valid, tampered, high-S, wrong key`, async () => {
      const key = make()
      const other = make()
      const res = resolution(key.did, [key.vm])
      const valid = await key.sign(payload(key.did))
      const cases: [string, string, 'signer' | 'refused'][] = [
        ['valid', valid, 'signer'],
        ['tampered payload', tamperPayload(valid), 'refused'],
        ['tampered signature', tamperSignature(valid), 'refused'],
        ['signed by another key', await other.sign(payload(key.did)), 'refused'],
      ]
      // did-jwt accepts either S for ES256K (it normalises) and for P-256 (noble's p256 allows high S).
      if (n !== undefined) cases.push(['high-S', highS(valid, n), 'signer'])
      // Judged by the native path itself, not handed back to did-jwt.
      const [h, p, sig] = valid.split('.')
      const alg = JSON.parse(Buffer.from(h, 'base64url').toString()).alg
      expect(verifySignatureNatively(alg, `${h}.${p}`, sig, [key.vm])).toBe(key.vm)
      for (const [what, jwt, expected] of cases) {
        const verdicts = await bothVerdicts(jwt, res)
        expect(verdicts.native, what).toBe(verdicts.library)
        expect(verdicts.native, what).toBe(expected === 'signer' ? key.vm.id : 'refused')
      }
    })
  }

  it('ES256K-R carries its recovery id; a flipped one is refused by both', async () => {
    const key = secp256k1Key('address')
    const res = resolution(key.did, [key.vm])
    const valid = await key.sign(payload(key.did), 'ES256K-R')
    const [h, p, s] = valid.split('.')
    const sig = Buffer.from(s, 'base64url')
    sig[64] ^= 1
    for (const [jwt, expected] of [[valid, key.vm.id], [[h, p, sig.toString('base64url')].join('.'), 'refused']]) {
      const verdicts = await bothVerdicts(jwt, res)
      expect(verdicts.native).toBe(verdicts.library)
      expect(verdicts.native).toBe(expected)
    }
  })

  it('refuses, with did-jwt, a signature by a key of another curve and a key listed for another purpose', async () => {
    const secp = secp256k1Key('hex')
    const ed = ed25519Key()
    const p256 = p256Key()
    // A P-256 signature labelled ES256K against a secp256k1 document, an Ed25519 one against a P-256 one.
    const p256AsK = relabel(await p256.sign(payload(secp.did)), 'ES256K')
    const edAsP = relabel(await ed.sign(payload(p256.did)), 'ES256')
    for (const [jwt, res] of [[p256AsK, resolution(secp.did, [secp.vm])], [edAsP, resolution(p256.did, [p256.vm])]] as const) {
      const verdicts = await bothVerdicts(jwt, res)
      expect(verdicts).toEqual({ library: 'refused', native: 'refused' })
    }
    // Listed only for authentication: it may sign a presentation, not a credential.
    const authOnly: DIDResolutionResult = {
      ...resolution(secp.did, [secp.vm]),
      didDocument: { id: secp.did, verificationMethod: [secp.vm], authentication: [secp.vm.id], assertionMethod: [] },
    }
    const jwt = await secp.sign(payload(secp.did))
    expect(await bothVerdicts(jwt, authOnly)).toEqual({ library: 'refused', native: 'refused' })
    expect(await bothVerdicts(jwt, authOnly, 'authentication')).toEqual({ library: secp.vm.id, native: secp.vm.id })
  })

  it('picks the same signer among several keys, and honours a DID URL issuer naming one key', async () => {
    const a = secp256k1Key('hex')
    const b = secp256k1Key('address')
    const did = a.did
    const vms = [a.vm, { ...b.vm, id: `${did}#controller`, controller: did }]
    const res = resolution(did, vms)
    const byB = await b.sign(payload(did))
    expect(await bothVerdicts(byB, res)).toEqual({ library: `${did}#controller`, native: `${did}#controller` })
    const namingA = await b.sign(payload(`${did}#key-1`))
    const verdicts = await bothVerdicts(namingA, resolution(did, vms))
    expect(verdicts.native).toBe(verdicts.library)
  })
})
