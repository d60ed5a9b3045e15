import http from 'node:http'
import https from 'node:https'
import { FetchRequest, JsonRpcProvider, Network } from 'ethers'

/**
 * One provider per chain, shared by the DID resolver, the registry writer and the DID provider.
 * A static network stops ethers probing `eth_chainId` before every call, `batchMaxCount: 1` drops its 10 ms
 * batching wait, `cacheTimeout: -1` turns off its 250 ms call cache (which serves stale nonces), and a
 * keep-alive agent saves a TCP handshake per call (ethers opens a new connection by default).
 */
export function createProvider(rpcUrl: string, chainId: number): JsonRpcProvider {
  const request = new FetchRequest(rpcUrl)
  const agent = rpcUrl.startsWith('https:') ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true })
  request.getUrlFunc = FetchRequest.createGetUrlFunc({ agent })
  request.timeout = 10_000
  const provider = new JsonRpcProvider(request, Network.from(chainId), {
    staticNetwork: true,
    batchMaxCount: 1,
    cacheTimeout: -1,
  })
  provider.pollingInterval = 100
  const destroy = provider.destroy.bind(provider)
  provider.destroy = () => {
    destroy()
    agent.destroy()
  }
  return provider
}
