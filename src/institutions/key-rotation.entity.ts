import { EntitySchema } from 'typeorm'

export type RotationReason = 'superseded' | 'compromised'

/**
 * A change of an institution's signing key, made on chain by handing the DID's ownership to the new key.
 * `pending` rows are rotations whose transaction may not have landed; they are finished before the next.
 * `abandoned` ones can never land (the DID's owner changed outside medcred) and are kept for the record.
 */
export interface KeyRotationRow {
  id: string
  institutionId: string
  did: string
  oldKid: string
  newKid: string
  reason: RotationReason
  status: 'pending' | 'done' | 'abandoned'
  txHash: string | null
  blockNumber: number | null
  requestedAt: string
  rotatedAt: string | null
}

export const KeyRotationEntity = new EntitySchema<KeyRotationRow>({
  name: 'KeyRotation',
  tableName: 'medcred_key_rotation',
  columns: {
    id: { type: 'varchar', length: 36, primary: true },
    institutionId: { type: 'varchar', length: 36 },
    did: { type: 'varchar', length: 200 },
    oldKid: { type: 'varchar', length: 200 },
    newKid: { type: 'varchar', length: 200 },
    reason: { type: 'varchar', length: 16 },
    status: { type: 'varchar', length: 16 },
    txHash: { type: 'varchar', length: 66, nullable: true },
    blockNumber: { type: 'integer', nullable: true },
    requestedAt: { type: 'varchar', length: 30 },
    rotatedAt: { type: 'varchar', length: 30, nullable: true },
  },
})
