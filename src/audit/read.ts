import type { EntityManager, SelectQueryBuilder } from 'typeorm'
import { AppError } from '../errors.js'
import { AuditAnchorEntity, type AnchorStatus } from './audit-anchor.entity.js'
import { AuditEventEntity, type AuditEventRow } from './audit-event.entity.js'
import { ANCHOR_ATTRIBUTE, anchorValue, didIdentity } from './anchor-record.js'
import { merkleProof, type ProofStep } from './merkle.js'
import { fromRow } from './new-event.js'
import type { AuditScope, ChainedAuditEvent } from './types.js'

/** Where anchors are written: enough, with the proof, to check an event against the chain alone. */
export interface AnchorTarget {
  chainId: number
  registry: string
}

/** An event, its inclusion proof in its batch, and where that batch's root is anchored. */
export interface EventProof {
  event: ChainedAuditEvent
  /** Null until the event is in a batch (batches are cut every AUDIT_ANCHOR_EVERY events or AUDIT_ANCHOR_SECONDS). */
  proof: ProofStep[] | null
  anchor: {
    status: AnchorStatus
    fromSeq: number
    toSeq: number
    root: string
    chainId: number
    registry: string
    /** Null while pending: the DID is recorded when the root is anchored. */
    did: string | null
    identity: string | null
    attribute: { name: string; value: string }
    txHash: string | null
    blockNumber: number | null
  } | null
}

/** Narrows a query on events to what `scope` may see: its own acts and acts on what it issued. */
function scoped(q: SelectQueryBuilder<AuditEventRow>, scope: AuditScope): SelectQueryBuilder<AuditEventRow> {
  if (scope.kind === 'admin') return q
  return q.andWhere(
    '((e.actorType = :institution AND e.actorId = :inst) OR e.subjectIssuerInstitutionId = :inst)',
    { institution: 'institution', inst: scope.institutionId },
  )
}

/** Events after `after`, in sequence order, at most `limit`. */
export async function listEvents(
  manager: EntityManager,
  scope: AuditScope,
  page: { after: number; limit: number },
): Promise<ChainedAuditEvent[]> {
  const q = manager
    .getRepository(AuditEventEntity)
    .createQueryBuilder('e')
    .where('e.seq > :after', { after: page.after })
  const rows = await scoped(q, scope).orderBy('e.seq', 'ASC').limit(page.limit).getMany()
  return rows.map(fromRow)
}

/** The event `seq` with its proof; 404 when it does not exist or is outside the caller's scope. */
export async function eventProof(
  manager: EntityManager,
  scope: AuditScope,
  seq: number,
  target: AnchorTarget,
): Promise<EventProof> {
  const q = manager.getRepository(AuditEventEntity).createQueryBuilder('e').where('e.seq = :seq', { seq })
  const row = await scoped(q, scope).getOne()
  if (!row) throw new AppError('not-found', `no audit event ${seq} visible to this caller`)
  const event = fromRow(row)
  // The last batch starting at or before the event (one step down the primary key, however many batches
  // there are), and the event only if that batch reaches it.
  const batch = await manager
    .getRepository(AuditAnchorEntity)
    .createQueryBuilder('a')
    .where('a.fromSeq <= :seq', { seq })
    .orderBy('a.fromSeq', 'DESC')
    .limit(1)
    .getOne()
  if (!batch || batch.toSeq < seq) return { event, proof: null, anchor: null }
  const hashes = await manager
    .getRepository(AuditEventEntity)
    .createQueryBuilder('e')
    .select('e.hash', 'hash')
    .where('e.seq >= :from AND e.seq <= :to', { from: batch.fromSeq, to: batch.toSeq })
    .orderBy('e.seq', 'ASC')
    .getRawMany<{ hash: string }>()
  if (hashes.length !== batch.toSeq - batch.fromSeq + 1) {
    throw new AppError('internal', `audit batch ${batch.fromSeq}-${batch.toSeq} has lost events; run npm run audit:verify`)
  }
  return {
    event,
    proof: merkleProof(
      hashes.map((h) => h.hash),
      seq - batch.fromSeq,
    ),
    anchor: {
      status: batch.status,
      fromSeq: batch.fromSeq,
      toSeq: batch.toSeq,
      root: batch.root,
      chainId: target.chainId,
      registry: target.registry,
      did: batch.did,
      identity: batch.did ? didIdentity(batch.did) : null,
      attribute: { name: ANCHOR_ATTRIBUTE, value: anchorValue(batch) },
      txHash: batch.txHash,
      blockNumber: batch.blockNumber,
    },
  }
}
