import fs from 'node:fs'
import path from 'node:path'
import { ContractFactory, type JsonRpcProvider, type Wallet } from 'ethers'
import registryArtifacts from 'ethr-did-registry'

const { abi, bytecode } = registryArtifacts.EthereumDIDRegistry

export const registryAbi = abi

async function hasCode(provider: JsonRpcProvider, address: string): Promise<boolean> {
  return (await provider.getCode(address)) !== '0x'
}

/**
 * On the local node: returns the ERC-1056 registry recorded in `<stateDir>/registry.json`, deploying it
 * (and recording it) when there is none yet. A recorded registry whose code is gone means the chain state
 * was lost: every DID's on-chain history with it, so we refuse to start rather than silently redeploy.
 */
export async function ensureLocalRegistry(stateDir: string, operator: Wallet): Promise<string> {
  const provider = operator.provider as JsonRpcProvider
  const file = path.join(stateDir, 'registry.json')
  if (fs.existsSync(file)) {
    const { address } = JSON.parse(fs.readFileSync(file, 'utf8')) as { address: string }
    if (await hasCode(provider, address)) return address
    throw new Error(
      `the local chain in ${stateDir} has lost the registry at ${address} (state file missing or corrupt); ` +
        `restore ${path.join(stateDir, 'state.json')} or start on a new DATA_DIR`,
    )
  }
  const factory = new ContractFactory(abi, bytecode, operator)
  const contract = await factory.deploy()
  await contract.waitForDeployment()
  const address = await contract.getAddress()
  fs.writeFileSync(file, JSON.stringify({ address }, null, 2) + '\n')
  return address
}

/** On a configured chain: the registry must already be there. */
export async function checkRegistry(provider: JsonRpcProvider, address: string): Promise<string> {
  if (!(await hasCode(provider, address))) {
    throw new Error(`no contract at ETHR_REGISTRY ${address} on the configured chain`)
  }
  return address
}
