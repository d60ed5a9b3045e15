import { JsonRpcProvider, Network } from 'ethers'

/**
 * One provider per chain, shared by the DID resolver and the DID provider.
 * A static network stops ethers probing `eth_chainId` before every call, `batchMaxCount: 1` drops its 10 ms
 * batching wait, and `cacheTimeout: -1` turns off its 250 ms call cache (which serves stale nonces).
 */
export function createProvider(rpcUrl: string, chainId: number): JsonRpcProvider {
  const provider = new JsonRpcProvider(rpcUrl, Network.from(chainId), {
    staticNetwork: true,
    batchMaxCount: 1,
    cacheTimeout: -1,
  })
  provider.pollingInterval = 100
  return provider
}
