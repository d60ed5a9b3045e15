import { normalizeCredential } from 'did-jwt-vc'
import type { DidResolver } from '../did/resolver.js'
import { asArray } from '../credentials/w3c.js'
import { RESERVED_CREDENTIAL_TYPES } from '../credentials/reserved-types.js'
import { checkDates } from '../verification/dates.js'
import { verifyJwtProof } from '../verification/jwt-proof.js'
import { Bitstring } from './bitstring.js'

export const STATUS_LIST_CONTEXT = 'https://w3id.org/vc/status-list/2021/v1'
export const STATUS_ENTRY_TYPES = ['StatusList2021Entry', 'BitstringStatusListEntry'] as const
const LIST_CREDENTIAL_TYPES: string[] = [RESERVED_CREDENTIAL_TYPES.statusList2021, RESERVED_CREDENTIAL_TYPES.bitstringStatusList]

/** The unsigned StatusList2021 credential for a list (signed by its issuer's current key). */
export function statusListCredential(url: string, purpose: string, bits: Bitstring): Record<string, unknown> {
  return {
    '@context': ['https://www.w3.org/2018/credentials/v1', STATUS_LIST_CONTEXT],
    id: url,
    type: ['VerifiableCredential', RESERVED_CREDENTIAL_TYPES.statusList2021],
    issuanceDate: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    credentialSubject: { id: `${url}#list`, type: 'StatusList2021', statusPurpose: purpose, encodedList: bits.encode() },
  }
}

export interface VerifiedList {
  issuer: string
  purpose: string
  bits: Bitstring
}

/**
 * Checks a status list credential on its own: signed by an assertionMethod key of its issuer (resolved
 * from the chain), of a status list type, with a decodable list. Returns why not, or the list.
 */
export async function verifyStatusList(
  jwt: string,
  resolver: DidResolver,
): Promise<{ ok: true; list: VerifiedList } | { ok: false; reason: string }> {
  const proof = await verifyJwtProof(jwt, { resolver, proofPurpose: 'assertionMethod', names: { proof: 'proof', did: 'issuer' } })
  const failed = proof.checks.find((c) => !c.ok)
  if (failed) return { ok: false, reason: `the status list credential's ${failed.check} check failed: ${failed.detail}` }
  try {
    const vc = normalizeCredential(jwt) as unknown as Record<string, any>
    if (!asArray(vc.type).some((t: string) => LIST_CREDENTIAL_TYPES.includes(t))) {
      return { ok: false, reason: 'the status list credential is not of a status list type' }
    }
    const subject = vc.credentialSubject as { statusPurpose?: unknown; encodedList?: unknown }
    if (typeof subject?.encodedList !== 'string' || typeof subject.statusPurpose !== 'string') {
      return { ok: false, reason: 'the status list credential has no encodedList or statusPurpose' }
    }
    const dates = checkDates(proof.payload!, [vc, proof.payload!.vc], { now: Math.floor(Date.now() / 1000), skewSeconds: 60 })
    if (!dates.ok) return { ok: false, reason: `the status list credential is not valid now: ${dates.detail}` }
    // The list's issuer is the key that signed it (`iss`); an `issuer` claim naming anyone else is refused.
    const issuer = typeof vc.issuer === 'string' ? vc.issuer : vc.issuer?.id
    if (issuer !== proof.payload?.iss) return { ok: false, reason: 'the status list credential names an issuer other than its signer' }
    return { ok: true, list: { issuer, purpose: subject.statusPurpose, bits: Bitstring.decode(subject.encodedList) } }
  } catch (e) {
    return { ok: false, reason: `the status list credential cannot be decoded: ${(e as Error).message.slice(0, 200)}` }
  }
}
