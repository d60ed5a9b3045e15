import type { EntityManager } from 'typeorm'
import type { DidResolver } from '../did/resolver.js'
import { AppError, type ProblemCode } from '../errors.js'
import { isUniqueViolation } from '../db/errors.js'
import { verifyJwtProof } from '../verification/jwt-proof.js'
import { PatientTokenUseEntity } from './consent.entities.js'

/** A short JWT a patient signed with their wallet DID, checked: who signed it and its claims. */
export interface PatientToken {
  did: string
  nonce: string
  payload: Record<string, unknown>
  /** When the token stops being usable (its `exp`, or `iat` + the window). */
  expiresAt: string
}

/**
 * Verifies a patient's short JWT: signed by an `authentication` key of the DID in `iss`, with a nonce
 * (`nonce` or `jti`) and a life within `maxSeconds` (`exp` at most that far ahead; or `iat` at most that old).
 * `code` is the problem for a token that is not the patient's (401 for a bearer token, 403 for a revocation).
 */
export async function verifyPatientToken(
  jwt: string,
  opts: { resolver: DidResolver; now: number; skewSeconds: number; maxSeconds: number; audience?: string; requireExp: boolean; code: ProblemCode; what: string },
): Promise<PatientToken> {
  const proof = await verifyJwtProof(jwt, { resolver: opts.resolver, proofPurpose: 'authentication', names: { proof: 'signature', did: 'did' } })
  const failed = proof.checks.find((c) => !c.ok)
  if (failed || !proof.payload) {
    if (failed?.detail?.startsWith('cannot be checked now')) throw new AppError('chain-unavailable', `the ${opts.what} cannot be checked now`)
    throw new AppError(opts.code, `the ${opts.what} is not signed by the DID it names (${failed?.check ?? 'signature'})`)
  }
  const payload = proof.payload as Record<string, unknown>
  const bad = (detail: string) => new AppError(opts.code === 'unauthorized' ? 'unauthorized' : 'invalid-request', `the ${opts.what} ${detail}`)
  const nonce = payload.nonce ?? payload.jti
  if (typeof nonce !== 'string' || nonce.length < 8 || nonce.length > 200) throw bad('has no nonce (nonce or jti, 8 to 200 characters)')
  if (opts.audience !== undefined) {
    const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud]
    if (!aud.includes(opts.audience)) throw bad(`is not for this service (aud must be ${opts.audience})`)
  }
  const { iat, exp } = payload
  if (iat !== undefined && (typeof iat !== 'number' || iat > opts.now + opts.skewSeconds)) throw bad('is issued in the future')
  let until: number
  if (typeof exp === 'number') {
    if (exp <= opts.now - opts.skewSeconds) throw bad('has expired')
    if (exp > opts.now + opts.maxSeconds + opts.skewSeconds) throw bad(`lives too long (exp at most ${opts.maxSeconds} s ahead)`)
    until = exp
  } else if (opts.requireExp) {
    throw bad('has no exp')
  } else {
    if (typeof iat !== 'number') throw bad('has no iat')
    if (iat < opts.now - opts.maxSeconds - opts.skewSeconds) throw bad(`is older than ${opts.maxSeconds} s`)
    until = iat + opts.maxSeconds
  }
  return { did: payload.iss as string, nonce, payload, expiresAt: new Date((until + opts.skewSeconds) * 1000).toISOString() }
}

/**
 * Spends a patient token inside the caller's transaction: the (DID, nonce) row is the primary key, so of
 * two requests carrying one token, on any replica, one insert wins and the other is refused.
 */
export async function spendPatientToken(m: EntityManager, token: PatientToken, purpose: string, replayCode: ProblemCode): Promise<void> {
  // A token past its expiresAt is refused by its own dates, so its row is no longer needed to refuse it.
  await m.getRepository(PatientTokenUseEntity).createQueryBuilder().delete().where('"expiresAt" < :now', { now: new Date().toISOString() }).execute()
  try {
    await m.getRepository(PatientTokenUseEntity).insert({ did: token.did, nonce: token.nonce, purpose, usedAt: new Date().toISOString(), expiresAt: token.expiresAt })
  } catch (e) {
    if (isUniqueViolation(e)) throw new AppError(replayCode, `this ${purpose} token was already used (a replay)`)
    throw e
  }
}
