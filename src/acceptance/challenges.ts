import { randomBytes } from 'node:crypto'
import type { Database } from '../db/database.js'
import type { PruneRule } from '../db/pruner.js'
import type { InstitutionRow } from '../institutions/institution.entity.js'
import { ChallengeEntity } from './acceptance.entities.js'

/**
 * Challenges past their expiry, used or not: a presentation answering one is refused either way (as
 * "expired" until pruned, as "not issued to this verifier" after). Verifications keep their own record.
 */
export const challengePruneRule: PruneRule = { name: 'verification-challenge', table: 'medcred_challenge', key: 'challenge', where: '"expiresAt" < $1', params: (c) => [c.toISOString()] }

/**
 * Challenges for presentations: issued by the service to a verifier, bound to its domain (its DID),
 * short-lived and single use, so a captured presentation cannot be replayed.
 */
export class ChallengeService {
  constructor(private readonly deps: { db: Database; ttlSeconds: number }) {}

  async issue(verifier: InstitutionRow): Promise<{ challenge: string; domain: string; expiresAt: string }> {
    const row = {
      challenge: randomBytes(24).toString('base64url'),
      institutionId: verifier.id,
      domain: verifier.did,
      expiresAt: new Date(Date.now() + this.deps.ttlSeconds * 1000).toISOString(),
      usedAt: null,
    }
    await this.deps.db.transaction((m) => m.getRepository(ChallengeEntity).insert(row))
    return { challenge: row.challenge, domain: row.domain, expiresAt: row.expiresAt }
  }

  /**
   * Uses up a challenge of this verifier. Any attempt consumes it, passed or failed, so it cannot serve as
   * an oracle. Returns why it cannot be used, or undefined when it was valid and is now spent.
   */
  async consume(verifier: InstitutionRow, challenge: string, domain: string): Promise<string | undefined> {
    return this.deps.db.transaction(async (m) => {
      const repo = m.getRepository(ChallengeEntity)
      const row = await repo.findOneBy({ challenge })
      if (!row || row.institutionId !== verifier.id) return 'the challenge was not issued to this verifier'
      if (row.usedAt) return 'the challenge was already used (a replayed presentation)'
      if (row.expiresAt <= new Date().toISOString()) return `the challenge expired at ${row.expiresAt}`
      if (row.domain !== domain) return 'the domain is not the one the challenge was issued for'
      // The conditional update is what makes it single use when two requests race.
      const spent = await repo
        .createQueryBuilder()
        .update()
        .set({ usedAt: new Date().toISOString() })
        .where('challenge = :challenge AND "usedAt" IS NULL', { challenge })
        .execute()
      return spent.affected === 1 ? undefined : 'the challenge was already used (a replayed presentation)'
    })
  }
}
