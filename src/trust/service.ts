import type { EntityManager } from 'typeorm'
import { RelianceEntity } from '../acceptance/acceptance.entities.js'
import type { Database } from '../db/database.js'
import { appendChange, type Acting } from '../audit/acting.js'
import type { AuditLog } from '../audit/audit-log.js'
import { AppError } from '../errors.js'
import type { Notifier } from '../notifications/notifier.js'
import { TrustedIssuerEntity, TrustedVerifierEntity, type TrustedIssuerRow, type TrustedVerifierRow } from './trust.entities.js'

export interface NewTrustedIssuer {
  did: string
  credentialTypes: string[]
  jurisdictions?: string[]
  validFrom?: string
  validUntil?: string
}

export type TrustVerdict = { trusted: true; detail: string } | { trusted: false; detail: string }

/**
 * The consortium's trust registry: which issuers are trusted for which credential types and jurisdictions,
 * and which institutions' acceptance receipts others may rely on. Read from the database on every check,
 * so removing trust takes effect at once on every replica.
 */
export class TrustRegistry {
  constructor(private readonly deps: { db: Database; notifier: Notifier; audit: AuditLog }) {}

  listIssuers(): Promise<TrustedIssuerRow[]> {
    return this.deps.db.manager.getRepository(TrustedIssuerEntity).find({ order: { createdAt: 'ASC' } })
  }

  async addIssuer(input: NewTrustedIssuer, by: Acting): Promise<TrustedIssuerRow> {
    if (input.validFrom && input.validUntil && input.validUntil <= input.validFrom) {
      throw new AppError('invalid-request', 'validUntil must be after validFrom')
    }
    const row: TrustedIssuerRow = {
      did: input.did,
      credentialTypes: [...new Set(input.credentialTypes)],
      jurisdictions: [...new Set(input.jurisdictions ?? [])],
      validFrom: input.validFrom ?? null,
      validUntil: input.validUntil ?? null,
      createdAt: new Date().toISOString(),
    }
    return this.deps.db.transaction(async (m) => {
      if (await m.getRepository(TrustedIssuerEntity).existsBy({ did: input.did })) {
        throw new AppError('conflict', `${input.did} is already in the trust registry; remove it first to change its entry`)
      }
      await m.getRepository(TrustedIssuerEntity).insert(row)
      await appendChange(this.deps.audit, m, by, 'trust.issuer.added', { type: 'did', id: input.did })
      return row
    })
  }

  /**
   * Removes an issuer's trust. Every institution that relied on one of its credentials is told
   * (`issuer.untrusted`) in the same transaction.
   */
  async removeIssuer(did: string, by: Acting): Promise<{ notified: number }> {
    return this.deps.db.transaction(async (m) => {
      const removed = await m.getRepository(TrustedIssuerEntity).delete({ did })
      if (!removed.affected) throw new AppError('not-found', `${did} is not in the trust registry`)
      const relied = await m.getRepository(RelianceEntity).find({ where: { issuerDid: did }, select: { institutionId: true } })
      const recipients = [...new Set(relied.map((r) => r.institutionId))]
      await this.deps.notifier.notify(m, { event: 'issuer.untrusted', recipients, data: { issuer: did } })
      await appendChange(this.deps.audit, m, by, 'trust.issuer.removed', { type: 'did', id: did })
      return { notified: recipients.length }
    })
  }

  listVerifiers(): Promise<TrustedVerifierRow[]> {
    return this.deps.db.manager.getRepository(TrustedVerifierEntity).find({ order: { createdAt: 'ASC' } })
  }

  async addVerifier(did: string, by: Acting): Promise<TrustedVerifierRow> {
    return this.deps.db.transaction(async (m) => {
      if (await m.getRepository(TrustedVerifierEntity).existsBy({ did })) throw new AppError('conflict', `${did} is already a trusted verifier`)
      const row = { did, createdAt: new Date().toISOString() }
      await m.getRepository(TrustedVerifierEntity).insert(row)
      await appendChange(this.deps.audit, m, by, 'trust.verifier.added', { type: 'did', id: did })
      return row
    })
  }

  async removeVerifier(did: string, by: Acting): Promise<void> {
    await this.deps.db.transaction(async (m) => {
      const removed = await m.getRepository(TrustedVerifierEntity).delete({ did })
      if (!removed.affected) throw new AppError('not-found', `${did} is not a trusted verifier`)
      await appendChange(this.deps.audit, m, by, 'trust.verifier.removed', { type: 'did', id: did })
    })
  }

  async isTrustedVerifier(did: unknown): Promise<boolean> {
    // Never let a missing DID reach findBy: TypeORM drops undefined conditions and would match any row.
    if (typeof did !== 'string' || !did.startsWith('did:')) return false
    return (await this.deps.db.rows('SELECT 1 AS "one" FROM "medcred_trusted_verifier" WHERE "did" = $1', [did])).length > 0
  }

  /** Is `issuer` trusted to issue `type` for `jurisdiction` (when the credential names one) at `at`? */
  async issuerVerdict(issuer: string, types: string[], jurisdiction: string | undefined, at = new Date()): Promise<TrustVerdict> {
    if (typeof issuer !== 'string' || !issuer.startsWith('did:')) return { trusted: false, detail: 'untrusted issuer: no issuer DID' }
    const entry = await this.trustedIssuer(issuer)
    if (!entry) return { trusted: false, detail: `untrusted issuer: ${issuer} is not in the trust registry` }
    const now = at.toISOString()
    if (entry.validFrom && now < entry.validFrom) return { trusted: false, detail: `untrusted issuer: trusted only from ${entry.validFrom}` }
    if (entry.validUntil && now >= entry.validUntil) return { trusted: false, detail: `untrusted issuer: its trust ended at ${entry.validUntil}` }
    const type = types.find((t) => entry.credentialTypes.includes(t))
    if (!type) return { trusted: false, detail: `untrusted issuer: not trusted for ${types.filter((t) => t !== 'VerifiableCredential').join(', ') || 'this type'}` }
    if (jurisdiction && entry.jurisdictions.length && !entry.jurisdictions.includes(jurisdiction)) {
      return { trusted: false, detail: `untrusted issuer: trusted for ${entry.jurisdictions.join(', ')}, not ${jurisdiction}` }
    }
    return { trusted: true, detail: `trusted for ${type}${jurisdiction ? ` in ${jurisdiction}` : ''}` }
  }

  /** The registry's entry for `did`, read as plainly as it is stored (this is on every verification). */
  private async trustedIssuer(did: string): Promise<Pick<TrustedIssuerRow, 'credentialTypes' | 'jurisdictions' | 'validFrom' | 'validUntil'> | undefined> {
    const [row] = await this.deps.db.rows<{ credentialTypes: string; jurisdictions: string; validFrom: string | null; validUntil: string | null }>(
      'SELECT "credentialTypes", "jurisdictions", "validFrom", "validUntil" FROM "medcred_trusted_issuer" WHERE "did" = $1',
      [did],
    )
    return row && { ...row, credentialTypes: JSON.parse(row.credentialTypes), jurisdictions: JSON.parse(row.jurisdictions) }
  }

  /**
   * Institutions that relied on this issuer's credential (for notices). Keyed by issuer and id together:
   * a credential id is chosen by its issuer, so another issuer's credential may carry the same one.
   */
  static async reliersOf(m: EntityManager, issuerDid: string, credentialId: string): Promise<string[]> {
    const rows = await m.getRepository(RelianceEntity).find({ where: { issuerDid, credentialId }, select: { institutionId: true } })
    return [...new Set(rows.map((r) => r.institutionId))]
  }
}
