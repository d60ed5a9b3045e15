import { createHash } from 'node:crypto'
import type { EntityManager } from 'typeorm'
import { canonicalJson } from '../credentials/canonical.js'
import { AppError } from '../errors.js'
import { IdempotencyEntity } from './idempotency.entity.js'

/** A caller's `Idempotency-Key` for one request. */
export interface IdempotencyKey {
  scope: string
  key: string
  requestDigest: string
}

export function idempotencyKey(scope: string, key: string, request: unknown): IdempotencyKey {
  return { scope, key, requestDigest: createHash('sha256').update(canonicalJson(request) ?? '').digest('hex') }
}

/** The reply stored for this key, if the same request was already done; a different request under it is a 409. */
export async function replayed<T>(m: EntityManager, k: IdempotencyKey | undefined): Promise<T | undefined> {
  if (!k) return undefined
  const row = await m.getRepository(IdempotencyEntity).findOneBy({ scope: k.scope, key: k.key })
  if (!row) return undefined
  if (row.requestDigest !== k.requestDigest) {
    throw new AppError('conflict', 'this Idempotency-Key was used for a different request; use a new key')
  }
  return row.response as T
}

/** Records the reply in the same transaction as the write, so a retry after a crash replays or redoes it whole. */
export async function remember(m: EntityManager, k: IdempotencyKey | undefined, status: number, response: unknown): Promise<void> {
  if (!k) return
  await m.getRepository(IdempotencyEntity).insert({ ...k, status, response: response as never, createdAt: new Date().toISOString() })
}
