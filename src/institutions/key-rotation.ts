import { randomUUID } from 'node:crypto'
import { computeAddress } from 'ethers'
import type { MedcredAgent } from '../agent/agent.js'
import type { Chain } from '../chain/chain.js'
import { lastOwnerChange } from '../chain/owner-change.js'
import { classifyChainError, type Anchored, type RegistryWriter } from '../chain/registry-writer.js'
import type { Database } from '../db/database.js'
import type { DidResolver } from '../did/resolver.js'
import { AppError } from '../errors.js'
import type { StatusService } from '../status/service.js'
import { InstitutionEntity } from './institution.entity.js'
import { appendChange, type Acting } from '../audit/acting.js'
import type { AuditLog } from '../audit/audit-log.js'
import { KeyRotationEntity, type KeyRotationRow, type RotationReason } from './key-rotation.entity.js'
import { remember, replayed, type IdempotencyKey } from '../idempotency/idempotency.js'


/** What a rotation request starts with: its own new rotation, or first a pending one left unfinished. */
type Step = { kind: 'new' | 'resume'; rotation: KeyRotationRow }

/**
 * Rotates an institution's signing key on chain: a new key is created in the KMS, the DID's ownership
 * moves to it through the registry (a signed meta-transaction), so the old key leaves the DID document;
 * new credentials and every status list are signed with the new key.
 *
 * Policy for what the old key signed (see SupersededKeys): after `superseded` it stays valid for
 * credentials medcred recorded before the rotation; after `compromised` nothing it signed verifies.
 *
 * One rotation per institution at a time: the `pending` row is created under a lock on the institution's
 * row (PostgreSQL; SQLite's write queue serialises), so a second request, on any replica, answers 409
 * instead of racing the first. While a rotation is pending nothing is signed for the institution (see
 * currentSigner). The row is recorded before the transaction is sent, so a crash or a dead RPC in between
 * leaves it to be finished: at the next start (`resumePending`), or by the next request once it is stale.
 * Finishing is idempotent: an ownership change already on chain is found (with its own block) rather than
 * sent again, and the switch to the new key is made once.
 */
export class KeyRotationService {
  /** Institutions whose rotation this process is running now. */
  private readonly running = new Set<string>()
  /** Pending rotations this process tried to finish and could not: a retry may take them up at once. */
  private readonly failedHere = new Set<string>()

  constructor(
    private readonly deps: {
      db: Database
      agent: MedcredAgent
      chain: Chain
      registry: RegistryWriter
      resolver: DidResolver
      status: StatusService
      audit: AuditLog
    },
  ) {}

  /**
   * How long a pending rotation started elsewhere may still be in progress: its transaction waits for the
   * operator's lock and then at most `txTimeoutMs` to be mined. Older, it is taken over.
   */
  private get staleAfterMs(): number {
    return 2 * this.deps.chain.txTimeoutMs + 10_000
  }

  /**
   * Rotates once per request. With an `Idempotency-Key`, a retry of a request whose rotation was recorded
   * (and then cut short: a crash, a dead RPC) finishes that rotation, or answers it when it is done,
   * instead of rotating again. Without one, a rotation left pending is finished first and then this
   * request's own is made.
   */
  async rotate(institution: { id: string }, reason: RotationReason, by: Acting, idem?: IdempotencyKey): Promise<KeyRotationRow> {
    return this.exclusively(institution.id, async () => {
      const earlier = await this.earlier(idem)
      if (earlier && earlier.status !== 'pending') return settled(earlier)
      const first = await this.begin(institution.id, reason, idem)
      if (first.kind === 'new' || first.rotation.id === earlier?.id) return this.finish(first.rotation, by)
      await this.finish(first.rotation, by)
      const next = await this.begin(institution.id, reason, idem)
      if (next.kind !== 'new') throw inProgress(next.rotation)
      return this.finish(next.rotation, by)
    })
  }

  /**
   * Finishes every rotation left pending (a crash between recording and switching): run at start, best
   * effort. A rotation another replica is finishing right now is finished once all the same.
   */
  async resumePending(by: Acting): Promise<{ finished: KeyRotationRow[]; failed: { rotation: KeyRotationRow; error: unknown }[] }> {
    const pending = await this.deps.db.manager
      .getRepository(KeyRotationEntity)
      .find({ where: { status: 'pending' }, order: { requestedAt: 'ASC' } })
    const finished: KeyRotationRow[] = []
    const failed: { rotation: KeyRotationRow; error: unknown }[] = []
    for (const rotation of pending) {
      try {
        finished.push(await this.exclusively(rotation.institutionId, () => this.finish(rotation, by)))
      } catch (error) {
        failed.push({ rotation, error })
      }
    }
    return { finished, failed }
  }

  /** The rotation an earlier request under this Idempotency-Key recorded, if any (another request under it: 409). */
  private async earlier(idem: IdempotencyKey | undefined): Promise<KeyRotationRow | undefined> {
    const recorded = await replayed<{ rotationId: string }>(this.deps.db.manager, idem)
    if (!recorded) return undefined
    return (await this.deps.db.manager.getRepository(KeyRotationEntity).findOneBy({ id: recorded.rotationId })) ?? undefined
  }

  /** The per-process half of the guard; `begin` is the half that holds across replicas. */
  private async exclusively<T>(institutionId: string, fn: () => Promise<T>): Promise<T> {
    if (this.running.has(institutionId)) {
      throw new AppError('conflict', 'a key rotation is already in progress for this institution; retry once it has finished')
    }
    this.running.add(institutionId)
    try {
      return await fn()
    } finally {
      this.running.delete(institutionId)
    }
  }

  /**
   * Under the institution's row lock: a pending rotation that may still be in progress is a 409; a stale one
   * (or one that failed here) is handed back to be finished first; with none, the new key is created and
   * the rotation recorded as pending, naming the key that signs now.
   */
  private begin(institutionId: string, reason: RotationReason, idem?: IdempotencyKey): Promise<Step> {
    const { db, agent } = this.deps
    return db.transaction(async (m) => {
      const qb = m.getRepository(InstitutionEntity).createQueryBuilder('i').where('i.id = :id', { id: institutionId })
      if (db.isPostgres) qb.setLock('pessimistic_write')
      const current = await qb.getOne()
      if (!current) throw new AppError('not-found', `no institution ${institutionId}`)
      const pending = await m.getRepository(KeyRotationEntity).findOneBy({ institutionId, status: 'pending' })
      if (pending) {
        const stale = Date.now() - Date.parse(pending.requestedAt) > this.staleAfterMs
        if (stale || this.failedHere.has(pending.id)) return { kind: 'resume', rotation: pending }
        throw inProgress(pending)
      }
      const oldKid = current.signingKid ?? (await agent.didManagerGet({ did: current.did })).controllerKeyId!
      // Veramo writes the key on its own connection (PostgreSQL), or inside this transaction (SQLite's one
      // connection); either way a key whose rotation is not recorded is merely unused.
      const key = await agent.keyManagerCreate({ kms: 'local', type: 'Secp256k1' })
      await agent.didManagerAddKey({ did: current.did, key, options: { localOnly: true } })
      const rotation: KeyRotationRow = {
        id: randomUUID(),
        institutionId: current.id,
        did: current.did,
        oldKid,
        newKid: key.kid,
        reason,
        status: 'pending',
        txHash: null,
        blockNumber: null,
        requestedAt: new Date().toISOString(),
        rotatedAt: null,
      }
      await m.getRepository(KeyRotationEntity).insert(rotation)
      // The request's key names its rotation from the moment it is recorded: a retry finds it (see rotate).
      await remember(m, idem, 200, { rotationId: rotation.id })
      return { kind: 'new', rotation }
    })
  }

  /** Sends (or finds on chain) the ownership change, then switches signing to the new key, once. */
  private async finish(rotation: KeyRotationRow, by: Acting): Promise<KeyRotationRow> {
    try {
      const latest = await this.deps.db.manager.getRepository(KeyRotationEntity).findOneBy({ id: rotation.id })
      if (latest && latest.status !== 'pending') return settled(latest)
      const anchored = await this.anchor(rotation)
      this.deps.resolver.invalidate(rotation.did)
      const done = await this.switchKeys(rotation, anchored, by)
      this.failedHere.delete(rotation.id)
      return done
    } catch (e) {
      this.failedHere.add(rotation.id)
      throw e
    }
  }

  private async anchor(rotation: KeyRotationRow): Promise<Anchored> {
    const { registry } = this.deps
    const identity = identityAddress(rotation.did)
    const newOwner = await this.addressOf(rotation.newKid)
    const ownerNow = await this.ownerOf(rotation.did, identity)
    if (same(ownerNow, newOwner)) return this.landed(rotation, identity, newOwner)
    if (!same(ownerNow, await this.addressOf(rotation.oldKid))) return this.abandon(rotation, ownerNow)
    try {
      return await registry.changeOwner(rotation.did, rotation.oldKid, newOwner)
    } catch (e) {
      // Reverted: someone finishing the same rotation may have landed it first.
      if (e instanceof AppError && e.code === 'conflict' && same(await this.ownerOf(rotation.did, identity), newOwner)) {
        return this.landed(rotation, identity, newOwner)
      }
      throw e
    }
  }

  /** The change is on chain already: record its own transaction and block, not the current one. */
  private async landed(rotation: KeyRotationRow, identity: string, newOwner: string): Promise<Anchored> {
    const found = await lastOwnerChange(this.deps.chain, identity, newOwner).catch(async (e: unknown) => {
      throw await classifyChainError(this.deps.chain, e, rotation.did)
    })
    if (!found) throw new Error(`${rotation.did} is owned by ${newOwner}, but no DIDOwnerChanged event says so`)
    return found
  }

  /**
   * The DID is owned by neither the old key nor the new one (changed outside medcred): this rotation can
   * never land. It is closed as `abandoned` so that it no longer blocks signing or the next rotation.
   */
  private async abandon(rotation: KeyRotationRow, owner: string): Promise<never> {
    await this.deps.db.transaction((m) =>
      m.getRepository(KeyRotationEntity).update({ id: rotation.id, status: 'pending' }, { status: 'abandoned' }),
    )
    throw new AppError(
      'conflict',
      `the DID ${rotation.did} is now owned by ${owner}, neither the old signing key nor the new one; the rotation was abandoned, nothing was changed`,
    )
  }

  private switchKeys(rotation: KeyRotationRow, anchored: Anchored, by: Acting): Promise<KeyRotationRow> {
    const { db, status } = this.deps
    return db.transaction(async (m) => {
      // Institution first, then the rotation, then (resignAll) its lists: the order issuance and status
      // changes take them in, so none of them can deadlock with this.
      const institutions = m.getRepository(InstitutionEntity).createQueryBuilder('i').where('i.id = :id', { id: rotation.institutionId })
      const rotations = m.getRepository(KeyRotationEntity).createQueryBuilder('r').where('r.id = :id', { id: rotation.id })
      if (db.isPostgres) [institutions, rotations].forEach((qb) => qb.setLock('pessimistic_write'))
      await institutions.getOneOrFail()
      const latest = await rotations.getOneOrFail()
      if (latest.status !== 'pending') return settled(latest) // another process finished it meanwhile
      const done: KeyRotationRow = { ...latest, status: 'done', txHash: anchored.txHash, blockNumber: anchored.blockNumber, rotatedAt: new Date().toISOString() }
      await m.getRepository(InstitutionEntity).update({ id: rotation.institutionId }, { signingKid: rotation.newKid })
      await m.getRepository(KeyRotationEntity).update({ id: rotation.id }, done)
      const institution = await m.getRepository(InstitutionEntity).findOneByOrFail({ id: rotation.institutionId })
      await status.resignAll(m, institution)
      await appendChange(this.deps.audit, m, by, 'institution.key-rotated', { type: 'institution', id: done.institutionId }, { did: done.did, reason: done.reason, txHash: done.txHash, blockNumber: done.blockNumber })
      return done
    })
  }

  private async addressOf(kid: string): Promise<string> {
    const key = await this.deps.agent.keyManagerGet({ kid })
    return computeAddress(`0x${key.publicKeyHex}`)
  }

  private async ownerOf(did: string, identity: string): Promise<string> {
    const { chain } = this.deps
    try {
      const reply = await chain.provider.call({ to: chain.registry, data: ownerCall(identity) })
      return `0x${reply.slice(-40)}`
    } catch (e) {
      throw await classifyChainError(chain, e, did)
    }
  }
}

/** A rotation found finished: done is the answer; abandoned is a conflict for whoever asked. */
function settled(rotation: KeyRotationRow): KeyRotationRow {
  if (rotation.status === 'done') return rotation
  throw new AppError('conflict', `the key rotation ${rotation.id} was abandoned: the DID's owner changed outside medcred`)
}

function inProgress(rotation: KeyRotationRow): AppError {
  return new AppError(
    'conflict',
    `a key rotation is already in progress for this institution (requested ${rotation.requestedAt}); retry once it has finished`,
  )
}

function identityAddress(did: string): string {
  const id = did.split(':').at(-1)!
  return id.length === 42 ? id : computeAddress(id)
}

function same(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase()
}

/** ABI-encoded `identityOwner(address)` call. */
function ownerCall(address: string): string {
  return `0x8733d4e8${address.slice(2).toLowerCase().padStart(64, '0')}`
}
