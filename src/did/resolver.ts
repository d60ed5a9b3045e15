import { Resolver, type DIDResolutionResult, type Resolvable } from 'did-resolver'
import { getResolver as getEthrResolver } from 'ethr-did-resolver'
import { getDidKeyResolver } from '@veramo/did-provider-key'
import type { Chain } from '../chain/chain.js'

/** Why a DID could not be resolved; `unavailable` means "cannot check now", never "invalid". */
export type ResolutionFailure = 'invalidDid' | 'notFound' | 'methodNotSupported' | 'unavailable'

export type Resolution =
  | { ok: true; result: DIDResolutionResult }
  | { ok: false; reason: ResolutionFailure; message: string; result: DIDResolutionResult }

/** did:ethr on medcred's chain, and did:key for holders' wallets. */
export interface DidResolver extends Resolvable {
  /** Resolves and classifies failures, telling an unreachable chain apart from a DID that does not exist. */
  resolveDid(did: string): Promise<Resolution>
}

const DID_SYNTAX = /^did:[a-z0-9]+:[A-Za-z0-9._%:-]+(#[^\s]*)?$/

function failure(reason: ResolutionFailure, message: string): Resolution {
  return {
    ok: false,
    reason,
    message,
    result: { didResolutionMetadata: { error: reason, message }, didDocument: null, didDocumentMetadata: {} },
  }
}

export function createDidResolver(chain: Pick<Chain, 'network' | 'chainId' | 'registry' | 'provider'>): DidResolver {
  const inner = new Resolver({
    // ethr-did-resolver's types come from ethers' CommonJS build; the ESM provider is the same class at run time.
    ...getEthrResolver({
      networks: [
        { name: chain.network, chainId: chain.chainId, registry: chain.registry, provider: chain.provider as never },
      ],
    }),
    ...getDidKeyResolver(),
  })

  async function resolveDid(did: string): Promise<Resolution> {
    if (typeof did !== 'string' || !DID_SYNTAX.test(did)) return failure('invalidDid', `not a DID: ${String(did).slice(0, 100)}`)
    const method = did.split(':')[1]
    if (method !== 'ethr' && method !== 'key') return failure('methodNotSupported', `did:${method} is not supported`)
    let result: DIDResolutionResult
    try {
      result = await inner.resolve(did)
    } catch (e) {
      // ethr-did-resolver throws (or reports notFound) when the RPC call itself fails.
      return failure('unavailable', `the chain could not be read: ${(e as Error).message.slice(0, 200)}`)
    }
    const error = result.didResolutionMetadata?.error
    if (!error && result.didDocument) return { ok: true, result }
    const message = String(result.didResolutionMetadata?.message ?? error ?? 'no DID document')
    if (error === 'unsupportedDidMethod' || error === 'unknownNetwork') return failure('methodNotSupported', message)
    if (error === 'invalidDid') return failure('invalidDid', message)
    if (method === 'ethr' && !(await chainReachable())) return failure('unavailable', `the chain could not be read: ${message}`)
    return failure('notFound', message)
  }

  async function chainReachable(): Promise<boolean> {
    try {
      await chain.provider.getBlockNumber()
      return true
    } catch {
      return false
    }
  }

  return {
    resolveDid,
    async resolve(didUrl: string) {
      return (await resolveDid(didUrl.split('#')[0])).result
    },
  }
}
