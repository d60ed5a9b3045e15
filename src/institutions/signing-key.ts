import type { EntityManager } from 'typeorm'
import type { Database } from '../db/database.js'
import { AppError } from '../errors.js'
import { InstitutionEntity, type InstitutionRow } from './institution.entity.js'
import { KeyRotationEntity } from './key-rotation.entity.js'

/**
 * The institution as it signs now, read inside the signing transaction: the row loaded when the request
 * was authenticated may name a key that a rotation has removed since. On PostgreSQL the row stays locked
 * `FOR SHARE` until the transaction ends, so a rotation's switch to the new key waits for this signature
 * instead of interleaving with it (SQLite's write queue already serialises the two).
 *
 * While a rotation is pending, its ownership change may be on its way to the chain and the current key
 * about to leave the DID document: refuse (409) rather than sign with it.
 */
export async function currentSigner(m: EntityManager, db: Database, institutionId: string): Promise<InstitutionRow> {
  const qb = m.getRepository(InstitutionEntity).createQueryBuilder('i').where('i.id = :id', { id: institutionId })
  if (db.isPostgres) qb.setLock('pessimistic_read')
  const institution = await qb.getOne()
  if (!institution) throw new AppError('not-found', `no institution ${institutionId}`)
  if (await m.getRepository(KeyRotationEntity).existsBy({ institutionId, status: 'pending' })) {
    throw new AppError('conflict', 'a key rotation is in progress for this institution; retry once it has finished')
  }
  return institution
}
