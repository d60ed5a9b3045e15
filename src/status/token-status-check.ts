import { StatusList } from '@sd-jwt/jwt-status-list'
import type { DidResolver } from '../did/resolver.js'
import { fail, pass, type Check } from '../verification/checks.js'
import { verifyJwtProof } from '../verification/jwt-proof.js'
import type { StatusCheckContext } from './status-check.js'
import { STATUS_LIST_JWT_TYPE } from './token-status-list.js'

export interface VerifiedToken {
  issuer: string
  list: StatusList
}

/**
 * Checks a Status List Token on its own: `typ: statuslist+jwt`, signed by an assertionMethod key of its
 * issuer's DID, its `sub` the URI it was fetched from, not expired, with a decodable list.
 */
export async function verifyStatusListToken(
  jwt: string,
  uri: string,
  resolver: DidResolver,
): Promise<{ ok: true; token: VerifiedToken } | { ok: false; reason: string }> {
  const proof = await verifyJwtProof(jwt, { resolver, proofPurpose: 'assertionMethod', names: { proof: 'proof', did: 'issuer' } })
  const failed = proof.checks.find((c) => !c.ok)
  if (failed) return { ok: false, reason: `the status list token's ${failed.check} check failed: ${failed.detail}` }
  const { header, payload } = proof
  if ((header as { typ?: unknown } | undefined)?.typ !== STATUS_LIST_JWT_TYPE) return { ok: false, reason: `the status list token is not typ ${STATUS_LIST_JWT_TYPE}` }
  if (payload?.sub !== uri) return { ok: false, reason: 'the status list token is for another URI (sub)' }
  if (typeof payload.exp === 'number' && payload.exp <= Math.floor(Date.now() / 1000)) return { ok: false, reason: 'the status list token has expired' }
  const statusList = (payload as { status_list?: { bits?: unknown; lst?: unknown } }).status_list
  if (![1, 2, 4, 8].includes(statusList?.bits as number) || typeof statusList?.lst !== 'string') {
    return { ok: false, reason: 'the status list token has no status_list (bits, lst)' }
  }
  try {
    return { ok: true, token: { issuer: payload.iss as string, list: StatusList.decompressStatusList(statusList.lst, statusList.bits as 1 | 2 | 4 | 8) } }
  } catch {
    return { ok: false, reason: 'the status list in the token cannot be decoded' }
  }
}

/**
 * The `status` check of an SD-JWT VC: its `status.status_list` entry must read 0 (VALID) in a token
 * signed by the credential's own issuer. Anything that cannot be checked fails closed, as for the W3C lists.
 */
export async function checkTokenStatus(
  status: unknown,
  issuer: string,
  type: string,
  ctx: StatusCheckContext,
): Promise<Check> {
  if (status === undefined) {
    return ctx.typesRequiringStatus.has(type) ? fail('status', `a ${type} must carry a status; without one its status is unknown`) : pass('status', 'no status to check')
  }
  const entry = (status as { status_list?: { idx?: unknown; uri?: unknown } } | null)?.status_list
  if (!entry || typeof entry.uri !== 'string' || !Number.isInteger(entry.idx) || (entry.idx as number) < 0) {
    return fail('status', 'status unknown: the status claim has no status_list {idx, uri}')
  }
  const lookup = await ctx.lists.loadToken(entry.uri)
  if (!lookup.ok) return fail('status', `status unknown, so not verified: ${lookup.reason}`)
  if (lookup.token.issuer !== issuer) return fail('status', `status unknown: the status list is signed by ${lookup.token.issuer}, not by the credential's issuer`)
  let value: number
  try {
    value = lookup.token.list.getStatus(entry.idx as number)
  } catch {
    return fail('status', `status unknown: index ${String(entry.idx)} is outside the list`)
  }
  if (value === 0) return pass('status', 'valid (Token Status List)')
  return fail('status', value === 1 ? 'revoked' : value === 2 ? 'suspended' : `status ${value} (not valid)`)
}
