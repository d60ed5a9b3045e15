import { SigningKey, computeAddress } from 'ethers'
import type { VerificationMethod } from 'did-resolver'
import type { MedcredAgent } from '../agent/agent.js'
import type { DidResolver } from '../did/resolver.js'
import { AppError } from '../errors.js'
import type { InstitutionRow } from './institution.entity.js'

/** Signs JOSE signing inputs with an institution's key inside Veramo's KMS: the private key never leaves it. */
export interface JwsSigner {
  alg: 'ES256K'
  /** The DID URL of the signing key in the institution's DID document (`kid` of what it signs). */
  kid: string
  /** base64url signature (R || S) over the JWS signing input. */
  sign(signingInput: string): Promise<string>
}

/**
 * The institution's current signing key as a JWS signer. The `kid` is found in the DID document (an
 * `assertionMethod` entry whose public key or address is this key's), so a verifier resolving it finds the
 * key that signed.
 */
export async function institutionJwsSigner(
  agent: MedcredAgent,
  resolver: DidResolver,
  institution: Pick<InstitutionRow, 'did' | 'signingKid'>,
): Promise<JwsSigner> {
  const kmsKid = institution.signingKid ?? (await agent.didManagerGet({ did: institution.did })).controllerKeyId
  if (!kmsKid) throw new Error(`no signing key for ${institution.did}`)
  const key = await agent.keyManagerGet({ kid: kmsKid })
  // A cached document may predate a key rotation another replica just made: look once more, afresh.
  const match = (await methodOf(resolver, institution.did, key.publicKeyHex)) ?? (resolver.invalidate(institution.did), await methodOf(resolver, institution.did, key.publicKeyHex))
  if (!match) throw new AppError('chain-unavailable', 'the DID document does not list the current signing key yet; retry shortly')
  return {
    alg: 'ES256K',
    kid: match.id,
    sign: (signingInput) => agent.keyManagerSign({ keyRef: kmsKid, data: signingInput, algorithm: 'ES256K', encoding: 'utf-8' }),
  }
}

/** The assertionMethod entry of `did`'s document for this public key, preferring one that lists the key itself (verifiers then need no key recovery). */
async function methodOf(resolver: DidResolver, did: string, publicKeyHex: string): Promise<VerificationMethod | undefined> {
  const resolved = await resolver.resolveDid(did)
  if (!resolved.ok) {
    if (resolved.reason === 'unavailable') throw new AppError('chain-unavailable', 'the issuer DID cannot be resolved now')
    throw new Error(`the institution DID does not resolve: ${resolved.message}`)
  }
  const doc = resolved.result.didDocument!
  const assertion = new Set((doc.assertionMethod ?? []).map((m) => (typeof m === 'string' ? m : m.id)))
  const usable = (doc.verificationMethod ?? []).filter((m) => assertion.has(m.id))
  const compressed = compress(publicKeyHex)
  const address = computeAddress(`0x${publicKeyHex}`).toLowerCase()
  return usable.find((m) => m.publicKeyHex && compress(m.publicKeyHex) === compressed) ?? usable.find((m) => isKey(m, address))
}

const compress = (hex: string) => {
  try {
    return SigningKey.computePublicKey(`0x${hex.replace(/^0x/, '')}`, true).toLowerCase()
  } catch {
    return undefined
  }
}

function isKey(m: VerificationMethod, address: string): boolean {
  const account = m.blockchainAccountId?.split(':').at(-1)?.toLowerCase()
  return account === address || (m as { ethereumAddress?: string }).ethereumAddress?.toLowerCase() === address
}

/** A compact JWS over `header` (given `alg` and `kid`) and `payload`, signed in the KMS. */
export async function signCompactJws(signer: JwsSigner, header: Record<string, unknown>, payload: Record<string, unknown>): Promise<string> {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
  const input = `${enc({ ...header, alg: signer.alg, kid: signer.kid })}.${enc(payload)}`
  return `${input}.${await signer.sign(input)}`
}
