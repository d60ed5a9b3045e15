import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto'
import { IsNull, LessThan, MoreThan, type EntityManager } from 'typeorm'
import type { Database } from '../db/database.js'
import type { PruneRule } from '../db/pruner.js'
import { AppError } from '../errors.js'
import { hashApiKey, secretsEqual } from '../institutions/api-keys.js'
import { InstitutionEntity, type InstitutionRow } from '../institutions/institution.entity.js'

import type { WebConfig } from '../config.js'
import { WebSessionEntity, WebSignInLinkEntity, type WebRole, type WebSessionRow } from './session.entities.js'

/** Who a live session is: the admin, or an institution (read fresh on every request, so a removed key's session ends). */
export type SessionCaller = { kind: 'admin' } | { kind: 'institution'; institution: InstitutionRow }

export interface Session {
  id: string
  caller: SessionCaller
  expiresAt: string
}

/** Page sessions and sign-in links past their expiry: neither signs anyone in any more (used links included). */
export const webSessionPruneRules: PruneRule[] = [
  { name: 'web-session', table: 'medcred_web_session', key: 'id', where: '"expiresAt" < $1', params: (c) => [c.toISOString()] },
  { name: 'web-sign-in-link', table: 'medcred_web_sign_in_link', key: 'tokenHash', where: '"expiresAt" < $1', params: (c) => [c.toISOString()] },
]

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex')
const newToken = () => randomBytes(32).toString('base64url')

/**
 * Page sessions in the database (never in process memory: any replica serves any request). Signing in
 * exchanges the admin token or an institution's API key for a random session token, which the browser keeps
 * in an HttpOnly cookie; the key itself is never stored in the browser. The CSRF token of a session is an
 * HMAC of its id under a server key, so it needs no storage and is the same on every replica.
 */
export class WebSessionService {
  constructor(
    private readonly deps: {
      db: Database
      adminToken: string
      /** Server key for CSRF tokens (derived from the KMS secret). */
      csrfKey: Buffer
      config: WebConfig
    },
  ) {}

  /**
   * Exchanges a secret for a session; undefined when it is neither the admin token nor an API key. The key
   * is checked and the session stored in one transaction that holds the institution's row (see `hold`), so
   * a key replaced meanwhile either refuses this sign-in or ends the session it made.
   */
  async signIn(secret: string): Promise<{ token: string; session: Session } | undefined> {
    if (secretsEqual(secret, this.deps.adminToken)) return this.open('admin', null)
    return this.open('institution', { apiKeyHash: hashApiKey(secret) })
  }

  /** The session a cookie token names, if it is live. */
  async resume(token: string): Promise<Session | undefined> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined
    const now = new Date().toISOString()
    const row = await this.deps.db.manager.getRepository(WebSessionEntity).findOneBy({ tokenHash: sha256(token), expiresAt: MoreThan(now) })
    return row ? this.toSession(row) : undefined
  }

  /** Ends the session (and, while at it, sweeps expired ones). */
  async signOut(token: string): Promise<void> {
    await this.deps.db.transaction(async (m) => {
      await m.getRepository(WebSessionEntity).delete({ tokenHash: sha256(token) })
      await m.getRepository(WebSessionEntity).delete({ expiresAt: LessThan(new Date().toISOString()) })
    })
  }

  /** Ends every page session of the institution and spends its unused sign-in links (its API key was replaced). */
  async endAllOf(institutionId: string, m: EntityManager): Promise<void> {
    await m.getRepository(WebSessionEntity).delete({ institutionId })
    await m.getRepository(WebSignInLinkEntity).delete({ institutionId, usedAt: IsNull() })
  }

  /**
   * A single-use sign-in link token for `role` (and institution); only its hash is stored. `institution`
   * names the key that asked for it, when an institution did: a key replaced meanwhile makes no link.
   */
  async createSignInLink(role: WebRole, institution: { id: string; apiKeyHash?: string } | null): Promise<{ token: string; expiresAt: string }> {
    const token = newToken()
    const now = new Date()
    const expiresAt = new Date(now.getTime() + this.deps.config.signInLinkTtlSeconds * 1000).toISOString()
    await this.deps.db.transaction(async (m) => {
      if (institution && !(await this.hold(m, institution))) throw new AppError('unauthorized', 'the API key was replaced meanwhile: use the new key')
      await m.getRepository(WebSignInLinkEntity).insert({ tokenHash: sha256(token), role, institutionId: institution?.id ?? null, createdAt: now.toISOString(), expiresAt, usedAt: null })
    })
    return { token, expiresAt }
  }

  /** Redeems a sign-in link once (a conditional update: two replicas racing, one wins); undefined if used, expired or unknown. */
  async redeemSignInLink(token: string): Promise<{ token: string; session: Session } | undefined> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined
    const now = new Date().toISOString()
    const tokenHash = sha256(token)
    const link = await this.deps.db.manager.getRepository(WebSignInLinkEntity).findOneBy({ tokenHash, usedAt: IsNull(), expiresAt: MoreThan(now) })
    if (!link) return undefined
    // Spent and exchanged in one transaction holding the institution's row: a key replacement deletes the
    // unused link first (this finds it gone) or ends the session made from it.
    return this.open(link.role, link.institutionId ? { id: link.institutionId } : null, async (m) => {
      const spent = await m.getRepository(WebSignInLinkEntity).update({ tokenHash, usedAt: IsNull(), expiresAt: MoreThan(now) }, { usedAt: now })
      return spent.affected === 1
    })
  }

  csrfToken(session: Session): string {
    return createHmac('sha256', this.deps.csrfKey).update(`medcred/web/csrf:${session.id}`).digest('base64url')
  }

  csrfValid(session: Session, given: unknown): boolean {
    if (typeof given !== 'string') return false
    const a = Buffer.from(given)
    const b = Buffer.from(this.csrfToken(session))
    return a.length === b.length && timingSafeEqual(a, b)
  }

  get ttlSeconds(): number {
    return this.deps.config.sessionTtlSeconds
  }

  /**
   * The institution's row, read and held until the transaction ends (FOR SHARE on PostgreSQL; SQLite's one
   * writer serialises), when it exists (and `apiKeyHash`, if given, is still its key). A key replacement
   * updates that row, so it waits for this transaction, or this one sees the replaced key.
   */
  private async hold(m: EntityManager, which: { id?: string; apiKeyHash?: string }): Promise<InstitutionRow | undefined> {
    const qb = m.getRepository(InstitutionEntity).createQueryBuilder('i')
    if (which.id) qb.andWhere('i.id = :id', { id: which.id })
    if (which.apiKeyHash) qb.andWhere('i.apiKeyHash = :hash', { hash: which.apiKeyHash })
    if (this.deps.db.isPostgres) qb.setLock('pessimistic_read')
    return (await qb.getOne()) ?? undefined
  }

  /**
   * Stores a new session: the admin's, or an institution's, held (see `hold`) while `also` (when given)
   * does its part in the same transaction. Undefined when the institution (or its key) is not there or
   * `also` refuses.
   */
  private async open(
    role: WebRole,
    institution: { id?: string; apiKeyHash?: string } | null,
    also?: (m: EntityManager) => Promise<boolean>,
  ): Promise<{ token: string; session: Session } | undefined> {
    const token = newToken()
    const now = new Date()
    const row = await this.deps.db.transaction(async (m) => {
      const held = institution ? await this.hold(m, institution) : undefined
      if (institution && !held) return undefined
      if (also && !(await also(m))) return undefined
      const session: WebSessionRow = {
        id: randomUUID(),
        tokenHash: sha256(token),
        role,
        institutionId: held?.id ?? null,
        createdAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + this.deps.config.sessionTtlSeconds * 1000).toISOString(),
      }
      await m.getRepository(WebSessionEntity).insert(session)
      return session
    })
    if (!row) return undefined
    const session = await this.toSession(row)
    return session ? { token, session } : undefined
  }

  private async toSession(row: WebSessionRow): Promise<Session | undefined> {
    if (row.role === 'admin') return { id: row.id, caller: { kind: 'admin' }, expiresAt: row.expiresAt }
    // A removed institution ends its sessions; a database that does not answer is a 503, not a sign-out.
    const institution = (await this.deps.db.manager.getRepository(InstitutionEntity).findOneBy({ id: row.institutionId! })) ?? undefined
    return institution ? { id: row.id, caller: { kind: 'institution', institution }, expiresAt: row.expiresAt } : undefined
  }
}
