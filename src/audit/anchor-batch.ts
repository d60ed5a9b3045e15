import type { RegistryWriter } from '../chain/registry-writer.js'
import type { Database } from '../db/database.js'
import { AuditAnchorEntity, type AuditAnchorRow } from './audit-anchor.entity.js'
import { ANCHOR_ATTRIBUTE, anchorValue } from './anchor-record.js'
import type { AuditIdentity } from './anchor-identity.js'

export interface AnchorBatchDeps {
  db: Database
  registry: RegistryWriter
  identity: () => Promise<AuditIdentity>
  /** This process, as the holder of a batch's lease. */
  replicaId: string
  /** How long a claimed batch stays ours: longer than one transaction may take to confirm. */
  leaseMs: number
}

export type AnchorOutcome =
  | { kind: 'none' }
  /** Another replica holds the lowest pending batch; anchoring waits for it, in order. */
  | { kind: 'busy'; fromSeq: number }
  | { kind: 'anchored'; batch: AuditAnchorRow }
  | { kind: 'failed'; fromSeq: number; error: unknown }

/**
 * Anchors the lowest pending batch, and only that one: a later batch is never sent before an earlier one is
 * on chain, so batches land in order and a failure holds up the rest instead of skipping it. The batch is
 * leased first (an UPDATE that succeeds for one replica only), so two replicas do not pay for one root.
 * A failure (chain down, timeout) leaves the batch pending, with its error, for the next run.
 */
export async function anchorLowestPending(deps: AnchorBatchDeps, now: Date): Promise<AnchorOutcome> {
  const repo = deps.db.manager.getRepository(AuditAnchorEntity)
  const batch = await repo.findOne({ where: { status: 'pending' }, order: { fromSeq: 'ASC' } })
  if (!batch) return { kind: 'none' }
  if (!(await claim(deps, batch.fromSeq, now))) return { kind: 'busy', fromSeq: batch.fromSeq }
  try {
    const { did, controllerKeyId } = await deps.identity()
    const { txHash, blockNumber } = await deps.registry.setAttribute(did, controllerKeyId, ANCHOR_ATTRIBUTE, anchorValue(batch))
    const done = { status: 'anchored' as const, did, txHash, blockNumber, anchoredAt: new Date().toISOString() }
    await deps.db.transaction((m) =>
      m.getRepository(AuditAnchorEntity).update(
        { fromSeq: batch.fromSeq },
        { ...done, lastError: null, leaseOwner: null, leaseUntil: null },
      ),
    )
    return { kind: 'anchored', batch: { ...batch, ...done, lastError: null, leaseOwner: null, leaseUntil: null } }
  } catch (error) {
    const message = String((error as Error)?.message ?? error).slice(0, 500)
    await deps.db
      .transaction((m) =>
        m.getRepository(AuditAnchorEntity).update({ fromSeq: batch.fromSeq }, { lastError: message, leaseOwner: null, leaseUntil: null }),
      )
      .catch(() => undefined) // the lease then simply runs out
    return { kind: 'failed', fromSeq: batch.fromSeq, error }
  }
}

/** Takes the batch's lease when it is free, expired or already ours; counts the attempt. */
async function claim(deps: AnchorBatchDeps, fromSeq: number, now: Date): Promise<boolean> {
  const nowIso = now.toISOString()
  const result = await deps.db.transaction((m) =>
    m
      .createQueryBuilder()
      .update(AuditAnchorEntity)
      .set({
        leaseOwner: deps.replicaId,
        leaseUntil: new Date(now.getTime() + deps.leaseMs).toISOString(),
        attempts: () => '"attempts" + 1',
      })
      .where('"fromSeq" = :fromSeq AND "status" = :pending', { fromSeq, pending: 'pending' })
      .andWhere('("leaseUntil" IS NULL OR "leaseUntil" < :now OR "leaseOwner" = :me)', { now: nowIso, me: deps.replicaId })
      .execute(),
  )
  return result.affected === 1
}
