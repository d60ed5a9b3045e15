import { createAgent, type ICredentialPlugin, type IDIDManager, type IKeyManager, type IResolver, type TAgent } from '@veramo/core'
import { CredentialPlugin } from '@veramo/credential-w3c'
import { CredentialProviderJWT } from '@veramo/credential-jwt'
import { DIDManager, MemoryDIDStore } from '@veramo/did-manager'
import { KeyDIDProvider, getDidKeyResolver } from '@veramo/did-provider-key'
import { DIDResolverPlugin } from '@veramo/did-resolver'
import { KeyManager, MemoryKeyStore, MemoryPrivateKeyStore } from '@veramo/key-manager'
import { KeyManagementSystem } from '@veramo/kms-local'
import type { VerifiableCredential, VerifiablePresentation } from '@veramo/core'
import { KB_JWT_TYP, sdDigest, splitSdJwt } from '../credentials/sd-jwt-vc.js'

type WalletAgent = TAgent<IKeyManager & IDIDManager & IResolver & ICredentialPlugin>

/**
 * A clinician's or patient's wallet: an in-memory Veramo agent holding one did:key.
 * Used by the demo, the benchmark and the tests to present credentials as a real holder would.
 */
export class HolderWallet {
  private constructor(
    private readonly agent: WalletAgent,
    readonly did: string,
  ) {}

  static async create(keyType: 'Ed25519' | 'Secp256k1' = 'Ed25519'): Promise<HolderWallet> {
    const agent = createAgent<IKeyManager & IDIDManager & IResolver & ICredentialPlugin>({
      plugins: [
        new KeyManager({ store: new MemoryKeyStore(), kms: { local: new KeyManagementSystem(new MemoryPrivateKeyStore()) } }),
        new DIDManager({
          store: new MemoryDIDStore(),
          defaultProvider: 'did:key',
          providers: { 'did:key': new KeyDIDProvider({ defaultKms: 'local' }) },
        }),
        new DIDResolverPlugin({ ...getDidKeyResolver() }),
        new CredentialPlugin([new CredentialProviderJWT()]),
      ],
    })
    const identifier = await agent.didManagerCreate({ provider: 'did:key', kms: 'local', options: { keyType } })
    return new HolderWallet(agent, identifier.did)
  }

  /** A VC-JWT presentation of `credentials`, bound to the verifier's challenge and domain. */
  async present(
    credentials: (VerifiableCredential | string)[],
    binding: { challenge?: string; domain?: string },
  ): Promise<VerifiablePresentation> {
    return this.agent.createVerifiablePresentation({
      presentation: { holder: this.did, verifiableCredential: credentials },
      proofFormat: 'jwt',
      challenge: binding.challenge,
      domain: binding.domain,
    })
  }

  /** A compact JWS signed by this wallet's key (`iss` is not added: put it in `payload` when it is meant). */
  async signJwt(payload: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
    const key = (await this.agent.didManagerGet({ did: this.did })).keys[0]
    const alg = key.type === 'Ed25519' ? 'EdDSA' : 'ES256K'
    const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
    const input = `${enc({ alg, kid: `${this.did}#${this.did.slice('did:key:'.length)}`, ...header })}.${enc(payload)}`
    return `${input}.${await this.agent.keyManagerSign({ keyRef: key.kid, data: input, algorithm: alg })}`
  }

  /**
   * Presents an SD-JWT VC held by this wallet: keeps only the disclosures of the claims named in
   * `disclose`, and adds a KB-JWT bound to the verifier's challenge (`nonce`) and domain (`aud`).
   * `extraClaims` go into the KB-JWT (e.g. a consent the patient signs in the same interaction).
   */
  async presentSdJwt(
    sdJwt: string,
    disclose: readonly string[],
    binding: { challenge: string; domain: string; iat?: number },
    extraClaims: Record<string, unknown> = {},
  ): Promise<string> {
    const parts = splitSdJwt(sdJwt)
    if (!parts) throw new Error('not an SD-JWT')
    const kept = parts.disclosures.filter((d) => {
      const decoded = JSON.parse(Buffer.from(d, 'base64url').toString('utf8')) as unknown[]
      return decoded.length === 3 && disclose.includes(decoded[1] as string)
    })
    const presented = `${[parts.issuerJwt, ...kept].join('~')}~`
    const kb = await this.signJwt(
      { iat: binding.iat ?? Math.floor(Date.now() / 1000), aud: binding.domain, nonce: binding.challenge, sd_hash: sdDigest(presented), ...extraClaims },
      { typ: KB_JWT_TYP },
    )
    return presented + kb
  }

  /** Signs a credential with this wallet's key (a self-issued credential: not from any institution). */
  async selfIssue(credential: Record<string, unknown>): Promise<VerifiableCredential> {
    return this.agent.createVerifiableCredential({
      credential: { ...credential, issuer: { id: this.did } } as never,
      proofFormat: 'jwt',
    })
  }
}
