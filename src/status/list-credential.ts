import type { DidResolver } from '../did/resolver.js'
import { VC_V2_CONTEXT, asArray } from '../credentials/w3c.js'
import { credentialFormatOf } from '../credentials/formats.js'
import type { StatusListFormat } from './status.entities.js'
import { RESERVED_CREDENTIAL_TYPES } from '../credentials/reserved-types.js'
import { checkDates } from '../verification/dates.js'
import { verifyJwtProof } from '../verification/jwt-proof.js'
import { Bitstring } from './bitstring.js'

export const STATUS_LIST_CONTEXT = 'https://w3id.org/vc/status-list/2021/v1'
export const STATUS_ENTRY_TYPES = ['StatusList2021Entry', 'BitstringStatusListEntry'] as const
export type StatusEntryType = (typeof STATUS_ENTRY_TYPES)[number]

/** The credentialStatus entry type of each list format. */
export const ENTRY_TYPE_OF: Record<StatusListFormat, StatusEntryType> = { StatusList2021: 'StatusList2021Entry', BitstringStatusList: 'BitstringStatusListEntry' }

/** Bitstring Status List v1.0 §3.1: a list shorter than 131,072 entries gives its holders too little herd privacy. */
export const BITSTRING_MIN_LENGTH = 131_072
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

/**
 * The unsigned Bitstring Status List v1.0 credential for a list (VC 2.0, signed as vc+jwt): the list is
 * multibase (`u`) base64url of the gzipped bits; `ttl` (milliseconds) tells others how long they may cache it.
 */
export function bitstringStatusListCredential(url: string, purpose: string, bits: Bitstring, issuer: string, ttlMs: number): Record<string, unknown> {
  return {
    '@context': [VC_V2_CONTEXT],
    id: url,
    type: ['VerifiableCredential', RESERVED_CREDENTIAL_TYPES.bitstringStatusList],
    issuer,
    validFrom: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    credentialSubject: { id: `${url}#list`, type: 'BitstringStatusList', statusPurpose: purpose, encodedList: `u${bits.encode()}`, ttl: ttlMs },
  }
}

export interface VerifiedList {
  issuer: string
  /** The purposes the list is for (a Bitstring Status List may name several). */
  purposes: string[]
  format: StatusListFormat
  bits: Bitstring
}

/**
 * Checks a status list credential on its own: signed by an assertionMethod key of its issuer (resolved
 * from the chain), of a status list type, with a decodable list. A vc+jwt is a Bitstring Status List v1.0
 * credential and is held to that spec's validation; a VC-JWT is a StatusList2021 credential. Returns why
 * not, or the list.
 */
export async function verifyStatusList(
  jwt: string,
  resolver: DidResolver,
): Promise<{ ok: true; list: VerifiedList } | { ok: false; reason: string }> {
  const proof = await verifyJwtProof(jwt, {
    resolver,
    proofPurpose: 'assertionMethod',
    names: { proof: 'proof', did: 'issuer' },
    signerOf: (header, payload) => credentialFormatOf(header, payload).signer(header, payload),
  })
  const failed = proof.checks.find((c) => !c.ok)
  if (failed) return { ok: false, reason: `the status list credential's ${failed.check} check failed: ${failed.detail}` }
  const format = credentialFormatOf(proof.header!, proof.payload!)
  try {
    const vc = format.credential(jwt, proof.payload!) as Record<string, any>
    const problem = format.problem(proof.header!, proof.payload!, vc, proof.signer!)
    if (problem) return { ok: false, reason: `the status list credential is malformed: ${problem}` }
    const dates = checkDates(proof.payload!, format.dateSources(proof.payload!, vc), { now: Math.floor(Date.now() / 1000), skewSeconds: 60 })
    if (!dates.ok) return { ok: false, reason: `the status list credential is not valid now: ${dates.detail}` }
    return format.name === 'jwt_vc' ? statusList2021(vc, proof.signer!) : bitstringStatusList(vc, proof.signer!)
  } catch (e) {
    return { ok: false, reason: `the status list credential cannot be decoded: ${(e as Error).message.slice(0, 200)}` }
  }
}

function statusList2021(vc: Record<string, any>, signer: string): { ok: true; list: VerifiedList } | { ok: false; reason: string } {
  if (!asArray(vc.type).some((t: string) => LIST_CREDENTIAL_TYPES.includes(t))) {
    return { ok: false, reason: 'the status list credential is not of a status list type' }
  }
  const subject = vc.credentialSubject as { statusPurpose?: unknown; encodedList?: unknown }
  if (typeof subject?.encodedList !== 'string' || typeof subject.statusPurpose !== 'string') {
    return { ok: false, reason: 'the status list credential has no encodedList or statusPurpose' }
  }
  return { ok: true, list: { issuer: signer, purposes: [subject.statusPurpose], format: 'StatusList2021', bits: Bitstring.decode(subject.encodedList) } }
}

/** Bitstring Status List v1.0 §3.2 (validate): the credential's type, its subject's type and purposes, the list's encoding and minimum length. */
function bitstringStatusList(vc: Record<string, any>, signer: string): { ok: true; list: VerifiedList } | { ok: false; reason: string } {
  if (!asArray(vc.type).includes(RESERVED_CREDENTIAL_TYPES.bitstringStatusList)) {
    return { ok: false, reason: `the status list credential is not a ${RESERVED_CREDENTIAL_TYPES.bitstringStatusList}` }
  }
  const subject = vc.credentialSubject as { type?: unknown; statusPurpose?: unknown; encodedList?: unknown }
  if (subject?.type !== 'BitstringStatusList') return { ok: false, reason: 'the status list credential\'s subject is not a BitstringStatusList' }
  const purposes = asArray(subject.statusPurpose as string | string[])
  if (!purposes.length || purposes.some((p) => typeof p !== 'string')) return { ok: false, reason: 'the status list credential names no statusPurpose' }
  if (typeof subject.encodedList !== 'string' || !subject.encodedList.startsWith('u')) {
    return { ok: false, reason: 'the encodedList is not multibase base64url (prefix u)' }
  }
  const bits = Bitstring.decode(subject.encodedList)
  if (bits.length < BITSTRING_MIN_LENGTH) {
    return { ok: false, reason: `STATUS_LIST_LENGTH_ERROR: the list has ${bits.length} entries, fewer than the ${BITSTRING_MIN_LENGTH} Bitstring Status List requires` }
  }
  return { ok: true, list: { issuer: signer, purposes, format: 'BitstringStatusList', bits } }
}
