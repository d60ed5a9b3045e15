import { EntitySchema } from 'typeorm'
import { bigintAsNumber } from './columns.js'

export type AnchorStatus = 'pending' | 'anchored'

/**
 * A batch of consecutive events and where its Merkle root was anchored. The row is written (pending) before
 * the transaction is sent, so an outage or a crash leaves it to be retried with the same range and root;
 * `fromSeq` is the key, so two replicas can never cut two batches starting at the same event.
 */
export interface AuditAnchorRow {
  fromSeq: number
  toSeq: number
  /** Hex Merkle root over the batch's event hashes. */
  root: string
  status: AnchorStatus
  /** The DID whose registry attribute carries the root. */
  did: string | null
  txHash: string | null
  blockNumber: number | null
  createdAt: string
  anchoredAt: string | null
  attempts: number
  lastError: string | null
  /** A replica that is sending this batch's transaction holds it until `leaseUntil`, so others wait. */
  leaseOwner: string | null
  leaseUntil: string | null
}

export const AuditAnchorEntity = new EntitySchema<AuditAnchorRow>({
  name: 'AuditAnchor',
  tableName: 'medcred_audit_anchor',
  columns: {
    fromSeq: { type: 'bigint', primary: true, transformer: bigintAsNumber },
    toSeq: { type: 'bigint', unique: true, transformer: bigintAsNumber },
    root: { type: 'varchar', length: 64 },
    status: { type: 'varchar', length: 16 },
    did: { type: 'varchar', length: 200, nullable: true },
    txHash: { type: 'varchar', length: 66, nullable: true },
    blockNumber: { type: 'bigint', nullable: true, transformer: bigintAsNumber },
    createdAt: { type: 'varchar', length: 30 },
    anchoredAt: { type: 'varchar', length: 30, nullable: true },
    attempts: { type: 'integer', default: 0 },
    lastError: { type: 'varchar', length: 500, nullable: true },
    leaseOwner: { type: 'varchar', length: 64, nullable: true },
    leaseUntil: { type: 'varchar', length: 30, nullable: true },
  },
  indices: [{ name: 'IDX_audit_anchor_status', columns: ['status'] }],
})
