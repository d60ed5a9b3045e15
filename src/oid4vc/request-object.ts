import { computeAddress } from 'ethers'
import { createJWT } from 'did-jwt'
import type { MedcredAgent } from '../agent/agent.js'
import type { DidResolver } from '../did/resolver.js'
import type { InstitutionRow } from '../institutions/institution.entity.js'
import { asArray } from '../credentials/w3c.js'

export const REQUEST_OBJECT_TYP = 'oauth-authz-req+jwt'

/**
 * Signs an OID4VP Request Object (RFC 9101, OID4VP 1.0 §5) with the institution's current did:ethr key
 * through the agent's KMS, as receipts are signed. The `kid` names the verification method of that key in
 * the DID document as it is now, which is what a wallet resolving `decentralized_identifier:<did>` checks.
 */
export async function signRequestObject(
  deps: { agent: MedcredAgent; resolver: DidResolver },
  signer: Pick<InstitutionRow, 'did' | 'signingKid'>,
  payload: Record<string, unknown>,
): Promise<string> {
  const keyRef = signer.signingKid ?? (await deps.agent.didManagerGet({ did: signer.did })).controllerKeyId!
  const key = await deps.agent.keyManagerGet({ kid: keyRef })
  const kid = await verificationMethodOf(deps.resolver, signer.did, key.publicKeyHex)
  return createJWT(
    payload,
    {
      issuer: payload.client_id as string,
      signer: async (data) => deps.agent.keyManagerSign({ keyRef, data: typeof data === 'string' ? data : Buffer.from(data).toString('utf8'), algorithm: 'ES256K', encoding: 'utf-8' }),
    },
    { alg: 'ES256K', typ: REQUEST_OBJECT_TYP as 'JWT', kid },
  )
}

/** The id of the verification method holding `publicKeyHex` (by key, else by its Ethereum address). */
async function verificationMethodOf(resolver: DidResolver, did: string, publicKeyHex: string): Promise<string> {
  const resolved = await resolver.resolveDid(did)
  if (!resolved.ok) throw new Error(`cannot resolve the signer's own DID ${did}: ${resolved.message}`)
  const address = computeAddress(`0x${publicKeyHex.replace(/^0x/, '')}`).toLowerCase()
  const methods = asArray(resolved.result.didDocument?.verificationMethod)
  const byKey = methods.find((vm) => vm.publicKeyHex && computeAddress(`0x${vm.publicKeyHex.replace(/^0x/, '')}`).toLowerCase() === address)
  const byAddress = methods.find((vm) => vm.blockchainAccountId?.toLowerCase().endsWith(address))
  const vm = byKey ?? byAddress
  if (!vm) throw new Error(`the signing key is not in the DID document of ${did}`)
  return vm.id.startsWith('#') ? `${did}${vm.id}` : vm.id
}
