import { createAgent, type ICredentialPlugin, type IDIDManager, type IKeyManager, type IResolver, type TAgent } from '@veramo/core'
import { CredentialPlugin } from '@veramo/credential-w3c'
import { CredentialProviderJWT } from '@veramo/credential-jwt'
import { DIDManager, MemoryDIDStore } from '@veramo/did-manager'
import { KeyDIDProvider, getDidKeyResolver } from '@veramo/did-provider-key'
import { DIDResolverPlugin } from '@veramo/did-resolver'
import { KeyManager, MemoryKeyStore, MemoryPrivateKeyStore } from '@veramo/key-manager'
import { KeyManagementSystem } from '@veramo/kms-local'
import type { VerifiableCredential, VerifiablePresentation } from '@veramo/core'

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

  /** Signs a credential with this wallet's key (a self-issued credential: not from any institution). */
  async selfIssue(credential: Record<string, unknown>): Promise<VerifiableCredential> {
    return this.agent.createVerifiableCredential({
      credential: { ...credential, issuer: { id: this.did } } as never,
      proofFormat: 'jwt',
    })
  }
}
