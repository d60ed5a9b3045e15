import { createHash, createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto'
import { createRequire } from 'node:module'
import { extractPublicKeyBytes } from 'did-jwt'
import type { DIDDocument, VerificationMethod } from 'did-resolver'
import { keccak256 } from 'ethers'
import { ownEntry } from '../validation.js'

/*
 * libsecp256k1 through the `secp256k1` package's native binding, loaded directly: its index silently
 * falls back to a pure-JS curve when the binding is missing, and a verifier 30 times slower than
 * expected should fail loudly at start instead.
 */
const secp256k1 = createRequire(import.meta.url)('secp256k1/bindings') as typeof import('secp256k1')

/** Verification method types per JWS algorithm, as did-jwt accepts them (its SUPPORTED_PUBLIC_KEY_TYPES). */
const SECP256K1_TYPES = [
  'EcdsaSecp256k1VerificationKey2019',
  'EcdsaSecp256k1RecoveryMethod2020',
  'Secp256k1VerificationKey2018',
  'Secp256k1SignatureVerificationKey2018',
  'EcdsaPublicKeySecp256k1',
  'JsonWebKey2020',
  'Multikey',
]
const ED25519_TYPES = ['ED25519SignatureVerification', 'Ed25519VerificationKey2018', 'Ed25519VerificationKey2020', 'JsonWebKey2020', 'Multikey']
export const KEY_TYPES_FOR_ALG: Record<string, readonly string[]> = {
  ES256: ['JsonWebKey2020', 'Multikey', 'EcdsaSecp256r1VerificationKey2019'],
  ES256K: SECP256K1_TYPES,
  'ES256K-R': [...SECP256K1_TYPES, 'ConditionalProof2022'],
  Ed25519: ED25519_TYPES,
  EdDSA: ED25519_TYPES,
}

export type ProofPurpose = 'assertionMethod' | 'authentication'

/**
 * The keys of `doc` that may have signed a JWT with `alg` for `purpose`, as did-jwt's
 * `resolveAuthenticator` picks them: the methods the purpose lists (by reference or embedded; a document
 * that lists no `assertionMethod` lets every key assert), of a type the algorithm supports.
 */
export function authenticatorsFor(doc: DIDDocument, alg: string, purpose: ProofPurpose): VerificationMethod[] {
  const types = ownEntry(KEY_TYPES_FOR_ALG, alg) ?? []
  const all = [...(doc.verificationMethod ?? []), ...((doc as { publicKey?: VerificationMethod[] }).publicKey ?? [])]
  const listed = purpose === 'assertionMethod' && !Object.hasOwn(doc, 'assertionMethod') ? all.map((vm) => vm.id) : (doc[purpose] ?? [])
  return listed
    .map((ref) => {
      if (typeof ref === 'string') return all.find((vm) => vm.id === ref)
      const legacy = (ref as { publicKey?: unknown }).publicKey
      return typeof legacy === 'string' ? all.find((vm) => vm.id === legacy) : ref
    })
    .filter((vm): vm is VerificationMethod => vm !== undefined && types.includes(vm.type))
}

/**
 * Checks a JWS signature over `data` against `authenticators` with native code (libsecp256k1 for ES256K,
 * with public-key recovery for address-only methods; OpenSSL for Ed25519 and P-256), with did-jwt's rules:
 * the first method that verifies is the signer; ES256K accepts a high-S signature as did-jwt does (it
 * normalises S), ES256K-R carries its recovery id. Returns the signer, `undefined` when none verifies, or
 * `'unsupported'` when a method is of a shape this does not judge (the caller then asks did-jwt).
 */
export function verifySignatureNatively(
  alg: string,
  data: string,
  signature: string,
  authenticators: VerificationMethod[],
): VerificationMethod | undefined | 'unsupported' {
  if (authenticators.some((vm) => vm.type === 'ConditionalProof2022')) return 'unsupported'
  const sig = Buffer.from(signature, 'base64url')
  switch (alg) {
    case 'ES256K':
      return sig.length === 64 ? es256k(sha256(data), sig, authenticators) : undefined
    case 'ES256K-R':
      return sig.length === 65 ? recover(sha256(data), sig.subarray(0, 64), [sig[64]], authenticators) : undefined
    case 'EdDSA':
    case 'Ed25519':
      return firstSigner(authenticators, (vm) => {
        const key = keyOf(vm)
        return key.keyType === 'Ed25519' && cryptoVerify(null, Buffer.from(data), ed25519Key(key.keyBytes), sig)
      })
    case 'ES256':
      if (sig.length !== 64) return undefined
      return firstSigner(
        authenticators.filter((vm) => !vm.ethereumAddress && !vm.blockchainAccountId),
        (vm) => cryptoVerify('sha256', Buffer.from(data), { key: p256Key(keyOf(vm).keyBytes), dsaEncoding: 'ieee-p1363' }, sig),
      )
    default:
      return 'unsupported'
  }
}

function es256k(hash: Buffer, sig: Buffer, authenticators: VerificationMethod[]): VerificationMethod | undefined | 'unsupported' {
  let normalized: Uint8Array
  try {
    normalized = secp256k1.signatureNormalize(Uint8Array.from(sig))
  } catch {
    return undefined
  }
  const full = authenticators.filter((vm) => !vm.ethereumAddress && !vm.blockchainAccountId)
  const signer = firstSigner(full, (vm) => secp256k1.ecdsaVerify(normalized, hash, keyOf(vm).keyBytes))
  if (signer) return signer
  const byAddress = authenticators.filter((vm) => vm.ethereumAddress || vm.blockchainAccountId)
  return byAddress.length ? recover(hash, sig, [0, 1], byAddress) : undefined
}

/** did-jwt's `verifyRecoverableES256K`: the public key recovered with each recovery id, matched to a method. */
function recover(hash: Buffer, compact: Buffer, recoveryIds: number[], authenticators: VerificationMethod[]): VerificationMethod | undefined | 'unsupported' {
  if (authenticators.some((vm) => vm.blockchainAccountId && !isEip155(vm.blockchainAccountId))) return 'unsupported'
  for (const recid of recoveryIds) {
    if (recid !== 0 && recid !== 1) continue
    let uncompressed: Uint8Array
    try {
      uncompressed = secp256k1.ecdsaRecover(Uint8Array.from(compact), recid, hash, false)
    } catch {
      continue
    }
    const fullHex = Buffer.from(uncompressed).toString('hex')
    const compressedHex = Buffer.from(secp256k1.publicKeyConvert(uncompressed, true)).toString('hex')
    const address = `0x${keccak256(uncompressed.subarray(1)).slice(-40)}`
    const signer = authenticators.find((vm) => {
      const keyHex = Buffer.from(keyOf(vm).keyBytes).toString('hex')
      const account = vm.blockchainAccountId?.toLowerCase()
      return (
        keyHex === fullHex ||
        keyHex === compressedHex ||
        vm.ethereumAddress?.toLowerCase() === address ||
        account?.split('@eip155')[0] === address ||
        (account?.startsWith('eip155:') && account.split(':').at(-1) === address)
      )
    })
    if (signer) return signer
  }
  return undefined
}

const isEip155 = (account: string) => account.startsWith('eip155:') || account.includes('@eip155')

function firstSigner(authenticators: VerificationMethod[], verifies: (vm: VerificationMethod) => boolean): VerificationMethod | undefined {
  return authenticators.find((vm) => {
    try {
      return verifies(vm)
    } catch {
      return false
    }
  })
}

function sha256(data: string): Buffer {
  return createHash('sha256').update(data).digest()
}

/*
 * Key material decoded once per verification method object: the DID cache hands out the same document
 * object until the DID changes on chain, so these live exactly as long as the key is current.
 */
const keys = new WeakMap<VerificationMethod, ReturnType<typeof extractPublicKeyBytes>>()
function keyOf(vm: VerificationMethod): ReturnType<typeof extractPublicKeyBytes> {
  let key = keys.get(vm)
  if (!key) keys.set(vm, (key = extractPublicKeyBytes(vm)))
  return key
}

const keyObjects = new WeakMap<Uint8Array, KeyObject>()
function ed25519Key(raw: Uint8Array): KeyObject {
  let key = keyObjects.get(raw)
  if (!key) keyObjects.set(raw, (key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' })))
  return key
}

/** SubjectPublicKeyInfo prefixes for a P-256 point, uncompressed (65 bytes) or compressed (33). */
const P256_SPKI = {
  65: Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex'),
  33: Buffer.from('3039301306072a8648ce3d020106082a8648ce3d030107032200', 'hex'),
} as Record<number, Buffer>
function p256Key(raw: Uint8Array): KeyObject {
  let key = keyObjects.get(raw)
  if (!key) {
    const prefix = P256_SPKI[raw.length]
    if (!prefix) throw new Error('not a P-256 point')
    keyObjects.set(raw, (key = createPublicKey({ key: Buffer.concat([prefix, raw]), format: 'der', type: 'spki' })))
  }
  return key
}
