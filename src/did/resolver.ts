import { computeAddress } from 'ethers'
import { Resolver, type DIDResolutionResult, type Resolvable } from 'did-resolver'
import { getResolver as getEthrResolver } from 'ethr-did-resolver'
import { getDidKeyResolver } from '@veramo/did-provider-key'
import type { Chain } from '../chain/chain.js'
import { JsonRpcClient } from '../chain/json-rpc.js'
import { RegistryWatcher } from './registry-watcher.js'
import { resolveDidJwk } from './did-jwk.js'
import { resolveDidWeb, type DidWebPolicy } from './did-web.js'

/** Why a DID could not be resolved; `unavailable` means "cannot check now", never "invalid". */
export type ResolutionFailure = 'invalidDid' | 'notFound' | 'methodNotSupported' | 'unavailable'

export type Resolution =
  | { ok: true; result: DIDResolutionResult }
  | { ok: false; reason: ResolutionFailure; message: string; result: DIDResolutionResult }

/** did:ethr on medcred's chain, did:key and did:jwk for holders' wallets, did:web under a fetch policy. */
export interface DidResolver extends Resolvable {
  /** Resolves and classifies failures, telling an unreachable chain apart from a DID that does not exist. */
  resolveDid(did: string): Promise<Resolution>
  /** The DID document as it was at `blockNumber` (did:ethr `versionId`); historical documents never change. */
  resolveAt(did: string, blockNumber: number): Promise<Resolution>
  /** Drops what is cached for `did` (after our own registry write). */
  invalidate(did: string): void
  close(): Promise<void>
}

/** Longer than any DID medcred resolves (did:ethr with a named network and a public key is about 90). */
const MAX_DID_LENGTH = 200
const DID_SYNTAX = /^did:[a-z0-9]+:[A-Za-z0-9._%:-]+(#[^\s]*)?$/

function failure(reason: ResolutionFailure, message: string): Resolution {
  return {
    ok: false,
    reason,
    message,
    result: { didResolutionMetadata: { error: reason, message }, didDocument: null, didDocumentMetadata: {} },
  }
}

export function createDidResolver(
  chain: Pick<Chain, 'network' | 'chainId' | 'registry' | 'provider' | 'rpcUrl'>,
  opts: { watchPollMs?: number; /** did:web is resolved only with a fetch policy. */ web?: DidWebPolicy } = {},
): DidResolver {
  const web = opts.web
  const inner = new Resolver({
    // ethr-did-resolver's types come from ethers' CommonJS build; the ESM provider is the same class at run time.
    ...getEthrResolver({
      networks: [
        { name: chain.network, chainId: chain.chainId, registry: chain.registry, provider: chain.provider as never },
      ],
    }),
    ...getDidKeyResolver(),
    jwk: async (did) => resolveDidJwk(did),
    ...(web ? { web: (did: string) => resolveDidWeb(did, web) } : {}),
  })

  const rpc = new JsonRpcClient(chain.rpcUrl)
  /** `changed(address)` of the ERC-1056 registry: the last block that touched the DID. */
  const changedBlock = async (address: string): Promise<bigint> =>
    BigInt((await rpc.call('eth_call', [{ to: chain.registry, data: `0xf96d0f9f${address.slice(2).toLowerCase().padStart(64, '0')}` }, 'latest'])) as string)
  /**
   * Cached documents by DID, each with the registry's `changed` block for its identity when it was read.
   * A cached document is served without any chain call while the registry watcher keeps up (it drops
   * every identity a registry event touches, block by block); otherwise each read re-checks that one
   * number (a single eth_call). Either way a cached document never outlives a registry change affecting
   * its DID (owner, delegate or attribute) by more than one poll of the chain; our own writes drop it at once.
   */
  const cache = new Map<string, { changed: bigint; result: DIDResolutionResult; address: string }>()
  const history = new Map<string, DIDResolutionResult>()
  const didKeys = new Map<string, DIDResolutionResult>()
  /** Bumped whenever an identity changes, so a resolution in flight across the change is not cached. */
  const generation = new Map<string, number>()
  const MAX_CACHED = 10_000

  const dropIdentity = (address: string) => {
    generation.set(address, (generation.get(address) ?? 0) + 1)
    for (const [did, entry] of cache) if (entry.address === address) cache.delete(did)
  }
  const watcher = opts.watchPollMs
    ? new RegistryWatcher({ rpc, registry: chain.registry, pollMs: opts.watchPollMs, onIdentityChanged: dropIdentity })
    : undefined
  watcher?.start()

  async function resolveDid(did: string): Promise<Resolution> {
    if (typeof did !== 'string' || did.length > MAX_DID_LENGTH || !DID_SYNTAX.test(did)) {
      return failure('invalidDid', `not a DID: ${String(did).slice(0, 100)}`)
    }
    const method = did.split(':')[1]
    if (method === 'jwk' || (method === 'web' && web)) return resolveUncached(did)
    if (method !== 'ethr' && method !== 'key') return failure('methodNotSupported', `did:${method} is not supported`)
    if (method === 'key') {
      const known = didKeys.get(did)
      if (known) return { ok: true, result: known }
      const resolved = await resolveUncached(did)
      if (resolved.ok) remember(didKeys, did, resolved.result)
      return resolved
    }
    const address = ethrAddress(did)
    if (!address && did.startsWith(`did:ethr:${chain.network}:`) && /:0x0[23][0-9a-fA-F]{64}$/.test(did)) return failure('invalidDid', `${did.slice(0, 100)}: the public key is not a point on secp256k1`)
    if (!address) return resolveUncached(did)
    const cached = cache.get(did)
    if (cached && watcher?.fresh()) return { ok: true, result: cached.result }
    const gen = generation.get(address) ?? 0
    let changed: bigint
    try {
      changed = await changedBlock(address)
    } catch (e) {
      return failure('unavailable', `the chain could not be read: ${(e as Error).message.slice(0, 200)}`)
    }
    if (cached && cached.changed === changed) return { ok: true, result: cached.result }
    const resolved = await resolveUncached(did)
    if (resolved.ok && (generation.get(address) ?? 0) === gen) remember(cache, did, { changed, result: resolved.result, address })
    return resolved
  }

  async function resolveAt(did: string, blockNumber: number): Promise<Resolution> {
    const key = `${did}@${blockNumber}`
    const known = history.get(key)
    if (known) return { ok: true, result: known }
    if (!DID_SYNTAX.test(did) || !did.startsWith('did:ethr:')) return failure('invalidDid', `not a did:ethr: ${did.slice(0, 100)}`)
    const resolved = await resolveUncached(`${did}?versionId=${blockNumber}`)
    if (resolved.ok) remember(history, key, resolved.result)
    return resolved
  }

  function remember<V>(map: Map<string, V>, key: string, value: V): void {
    if (map.size >= MAX_CACHED) map.delete(map.keys().next().value as string)
    map.set(key, value)
  }

  async function resolveUncached(did: string): Promise<Resolution> {
    const method = did.split(':')[1]
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

  /** The address behind each DID seen (a public-key DID costs a point decompression and a hash). */
  const addresses = new Map<string, string | undefined>()
  function ethrAddress(did: string): string | undefined {
    if (addresses.has(did)) return addresses.get(did)
    const address = computeEthrAddress(did)
    if (addresses.size >= MAX_CACHED) addresses.delete(addresses.keys().next().value as string)
    addresses.set(did, address)
    return address
  }

  /** The Ethereum address behind a did:ethr on our network (public-key or address form), else undefined. */
  function computeEthrAddress(did: string): string | undefined {
    const parts = did.split(':')
    if (parts.length !== 4 || parts[2] !== chain.network) return undefined
    const id = parts[3]
    if (/^0x[0-9a-fA-F]{40}$/.test(id)) return id.toLowerCase()
    if (/^0x0[23][0-9a-fA-F]{64}$/.test(id)) {
      try {
        return computeAddress(id).toLowerCase()
      } catch {
        return undefined // not a point on the curve: the resolver below reports the DID as invalid
      }
    }
    return undefined
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
    resolveAt,
    invalidate: (did) => {
      const address = ethrAddress(did)
      if (address) dropIdentity(address)
      else cache.delete(did)
    },
    close: async () => {
      await watcher?.stop()
      rpc.close()
    },
    async resolve(didUrl: string) {
      return (await resolveDid(didUrl.split('#')[0])).result
    },
  }
}
