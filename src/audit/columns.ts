import type { ValueTransformer } from 'typeorm'

/**
 * PostgreSQL's driver returns `bigint` as a string (it may exceed 2^53); audit sequence numbers and block
 * numbers stay far below that, so they are numbers in our code on both databases.
 */
export const bigintAsNumber: ValueTransformer = {
  to: (v: number | null | undefined) => v,
  from: (v: string | number | null) => (v === null || v === undefined ? v : Number(v)),
}
