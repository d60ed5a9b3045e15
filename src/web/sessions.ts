import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto'
import { IsNull, LessThan, MoreThan, type EntityManager } from 'typeorm'
import type { Database } from '../db/database.js'
import type { PruneRule } from '../db/pruner.js'
import { secretsEqual } from '../institutions/api-keys.js'
import type { InstitutionRow } from '../institutions/institution.entity.js'
import type { InstitutionService } from '../institutions/service.js'
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
      institutions: InstitutionService
      adminToken: string
      /** Server key for CSRF tokens (derived from the KMS secret). */
      csrfKey: Buffer
      config: WebConfig
    },
  ) {}

  /** Exchanges a secret for a session; undefined when it is neither the admin token nor an API key. */
  async signIn(secret: string): Promise<{ token: string; session: Session } | undefined> {
    if (secretsEqual(secret, this.deps.adminToken)) return this.open('admin', null)
    const institution = await this.deps.institutions.authenticate(secret)
    return institution ? this.open('institution', institution.id) : undefined
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

  /** A single-use sign-in link token for `role` (and institution); only its hash is stored. */
  /** Ends every page session of the institution and spends its unused sign-in links (its API key was replaced). */
  async endAllOf(institutionId: string, m: EntityManager): Promise<void> {
    await m.getRepository(WebSessionEntity).delete({ institutionId })
    await m.getRepository(WebSignInLinkEntity).delete({ institutionId, usedAt: IsNull() })
  }

  async createSignInLink(role: WebRole, institutionId: string | null): Promise<{ token: string; expiresAt: string }> {
    const token = newToken()
    const now = new Date()
    const expiresAt = new Date(now.getTime() + this.deps.config.signInLinkTtlSeconds * 1000).toISOString()
    await this.deps.db.transaction((m) =>
      m.getRepository(WebSignInLinkEntity).insert({ tokenHash: sha256(token), role, institutionId, createdAt: now.toISOString(), expiresAt, usedAt: null }),
    )
    return { token, expiresAt }
  }

  /** Redeems a sign-in link once (a conditional update: two replicas racing, one wins); undefined if used, expired or unknown. */
  async redeemSignInLink(token: string): Promise<{ token: string; session: Session } | undefined> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined
    const now = new Date().toISOString()
    const tokenHash = sha256(token)
    const link = await this.deps.db.transaction(async (m) => {
      const result = await m.getRepository(WebSignInLinkEntity).update({ tokenHash, usedAt: IsNull(), expiresAt: MoreThan(now) }, { usedAt: now })
      return result.affected === 1 ? m.getRepository(WebSignInLinkEntity).findOneBy({ tokenHash }) : null
    })
    return link ? this.open(link.role, link.institutionId) : undefined
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

  private async open(role: WebRole, institutionId: string | null): Promise<{ token: string; session: Session }> {
    const token = newToken()
    const now = new Date()
    const row: WebSessionRow = {
      id: randomUUID(),
      tokenHash: sha256(token),
      role,
      institutionId,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + this.deps.config.sessionTtlSeconds * 1000).toISOString(),
    }
    await this.deps.db.transaction((m) => m.getRepository(WebSessionEntity).insert(row))
    return { token, session: (await this.toSession(row))! }
  }

  private async toSession(row: WebSessionRow): Promise<Session | undefined> {
    if (row.role === 'admin') return { id: row.id, caller: { kind: 'admin' }, expiresAt: row.expiresAt }
    const institution = await this.deps.institutions.get(row.institutionId!).catch(() => undefined)
    return institution ? { id: row.id, caller: { kind: 'institution', institution }, expiresAt: row.expiresAt } : undefined
  }
}
