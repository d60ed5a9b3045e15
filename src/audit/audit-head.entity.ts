import { EntitySchema } from 'typeorm'
import { bigintAsNumber } from './columns.js'

/**
 * The one row (id `main`) holding the end of the hash chain. Every append locks it, so sequence numbers are
 * handed out one at a time across all replicas, inside the appending transaction: a rolled-back change
 * rolls its number back too, and no gap appears.
 */
export interface AuditHeadRow {
  id: string
  lastSeq: number
  lastHash: string
}

export const AUDIT_HEAD_ID = 'main'

export const AuditHeadEntity = new EntitySchema<AuditHeadRow>({
  name: 'AuditHead',
  tableName: 'medcred_audit_head',
  columns: {
    id: { type: 'varchar', length: 16, primary: true },
    lastSeq: { type: 'bigint', transformer: bigintAsNumber },
    lastHash: { type: 'varchar', length: 64 },
  },
})
