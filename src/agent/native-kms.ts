import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'
import type { AbstractPrivateKeyStore } from '@veramo/key-manager'
import { KeyManagementSystem } from '@veramo/kms-local'
import { surfacingDatabaseErrors } from '../db/errors.js'

const secp256k1 = createRequire(import.meta.url)('secp256k1/bindings') as typeof import('secp256k1')

/** An ES256K (or ES256K-R) JWS signature, base64url, by libsecp256k1: RFC 6979 nonce, low S. */
export function signES256KNatively(privateKeyHex: string, alg: string | undefined, data: Uint8Array): string {
  const hash = createHash('sha256').update(data).digest()
  const { signature, recid } = secp256k1.ecdsaSign(hash, Buffer.from(privateKeyHex.replace(/^0x/, ''), 'hex'))
  const bytes = alg === 'ES256K-R' ? Buffer.concat([signature, Buffer.from([recid])]) : Buffer.from(signature)
  return bytes.toString('base64url')
}

/**
 * Veramo's local KMS (keys encrypted at rest in the database, never handed out), with ES256K signatures
 * made by libsecp256k1 instead of pure JS. Deterministic nonces and low S make each signature byte for
 * byte the one did-jwt's signer makes (`test/native-kms.test.ts`), in a fraction of the time.
 * kms-local 7.0.1 (pinned) signs every ES256K request through its `signES256K` method, which its types
 * mark private; this replaces that one method, and `sign` only reports the database's own errors.
 */
export class NativeKeyManagementSystem extends KeyManagementSystem {
  constructor(private readonly keys: AbstractPrivateKeyStore) {
    super(keys)
  }

  /** kms-local reports any failure to read the key as `key_not_found`, a database outage included: see surfacingDatabaseErrors. */
  override sign(args: Parameters<KeyManagementSystem['sign']>[0]): Promise<string> {
    return surfacingDatabaseErrors(
      () => super.sign(args),
      () => this.keys.getKey({ alias: args.keyRef.kid }),
    )
  }
}
Object.defineProperty(NativeKeyManagementSystem.prototype, 'signES256K', {
  writable: true,
  configurable: true,
  value: async (privateKeyHex: string, alg: string | undefined, data: Uint8Array) => signES256KNatively(privateKeyHex, alg, data),
})
