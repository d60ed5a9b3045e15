import { EntitySchema } from 'typeorm'

/** A write done under an `Idempotency-Key`: the request it answered and the reply, to replay on a retry. */
export interface IdempotencyRow {
  /** Whose key it is: an institution id (keys are per caller). */
  scope: string
  key: string
  /** SHA-256 of the canonical request: a key reused for a different request is refused. */
  requestDigest: string
  status: number
  response: unknown
  createdAt: string
}

export const IdempotencyEntity = new EntitySchema<IdempotencyRow>({
  name: 'Idempotency',
  tableName: 'medcred_idempotency',
  columns: {
    scope: { type: 'varchar', length: 36, primary: true },
    key: { type: 'varchar', length: 200, primary: true },
    requestDigest: { type: 'varchar', length: 64 },
    status: { type: 'integer' },
    response: { type: 'simple-json' },
    createdAt: { type: 'varchar', length: 30 },
  },
})
