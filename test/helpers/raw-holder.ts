import { generateKeyPairSync } from 'node:crypto'
import { EdDSASigner, bytesToMultibase, createJWT } from 'did-jwt'

/**
 * A holder that signs whatever JWT it is given with its own did:key (Ed25519), as an attacker's tool
 * would: for tests that need what no well-behaved wallet library emits.
 */
export class RawHolder {
  private constructor(
    readonly did: string,
    readonly kid: string,
    private readonly seed: Uint8Array,
  ) {}

  static create(): RawHolder {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519')
    const pub = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url')
    const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url')
    const id = bytesToMultibase(pub, 'base58btc', 'ed25519-pub')
    return new RawHolder(`did:key:${id}`, `did:key:${id}#${id}`, seed)
  }

  /** A JWT with `payload`, issued and signed by this holder. */
  sign(payload: Record<string, unknown>): Promise<string> {
    return createJWT(payload, { issuer: this.did, signer: EdDSASigner(this.seed), alg: 'EdDSA' }, { kid: this.kid })
  }

  /** A VP-JWT holding `credentials` exactly as given (JSON forms included), bound to a challenge and domain. */
  present(credentials: unknown[], binding: { challenge: string; domain: string }): Promise<string> {
    return this.sign({
      nonce: binding.challenge,
      aud: binding.domain,
      vp: { '@context': ['https://www.w3.org/2018/credentials/v1'], type: ['VerifiablePresentation'], holder: this.did, verifiableCredential: credentials },
    })
  }
}
