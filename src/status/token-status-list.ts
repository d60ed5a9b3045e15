import { randomBytes, randomUUID } from 'node:crypto'
import type { EntityManager } from 'typeorm'
import { StatusList, createHeaderAndPayload } from '@sd-jwt/jwt-status-list'
import type { MedcredAgent } from '../agent/agent.js'
import type { Database } from '../db/database.js'
import type { DidResolver } from '../did/resolver.js'
import type { InstitutionRow } from '../institutions/institution.entity.js'
import { institutionJwsSigner, signCompactJws } from '../institutions/jws-signer.js'
import { permutedIndex } from './index-permutation.js'
import { StatusChangeEntity } from './status.entities.js'
import { TokenStatusEntryEntity, TokenStatusListEntity, type TokenStatusListRow } from './token-status.entities.js'

/** The `credentialStatus` type `POST /credentials/status` takes for an SD-JWT VC's entry. */
export const TOKEN_STATUS_TYPE = 'TokenStatusList'
export const STATUS_LIST_JWT_TYPE = 'statuslist+jwt'
/** Same herd size as the W3C lists (2^17), one bit per token: 0 valid, 1 invalid. */
const LIST_BITS = 17
/** How long a relying party may cache a Status List Token (its `ttl`), in seconds. */
const TOKEN_TTL_SECONDS = 60

/** An SD-JWT VC's `status` claim (draft-ietf-oauth-status-list). */
export interface TokenStatusReference {
  status_list: { idx: number; uri: string }
}

/**
 * IETF Token Status Lists for the SD-JWT VCs an institution issues: entries allocated in the issuing
 * transaction (permuted indexes, as for the W3C lists), revocation, and the signed `statuslist+jwt`
 * served at `/token-status/{listId}`. Signing goes through the institution's key in the KMS.
 */
export class TokenStatusLists {
  constructor(private readonly deps: { db: Database; agent: MedcredAgent; resolver: DidResolver; publicUrl: string }) {}

  listUrl(listId: string): string {
    return `${this.deps.publicUrl}/token-status/${listId}`
  }

  /** The list id when `url` is one of ours, else undefined. */
  localListId(url: string): string | undefined {
    const prefix = `${this.deps.publicUrl}/token-status/`
    return url.startsWith(prefix) ? url.slice(prefix.length) : undefined
  }

  /** One entry for a new SD-JWT VC, inside its issuing transaction; the list row is locked while its counter moves. */
  async allocate(m: EntityManager, issuer: InstitutionRow, credentialId: string): Promise<TokenStatusReference> {
    const qb = m
      .getRepository(TokenStatusListEntity)
      .createQueryBuilder('l')
      .where('l.issuerInstitutionId = :id AND l.allocated < l.size', { id: issuer.id })
      .orderBy('l.updatedAt', 'ASC')
    if (this.deps.db.isPostgres) qb.setLock('pessimistic_write')
    const list = (await qb.getOne()) ?? (await this.createList(m, issuer))
    const idx = permutedIndex(list.allocated, LIST_BITS, Buffer.from(list.permutationKey, 'hex'))
    await m.getRepository(TokenStatusListEntity).update({ id: list.id }, { allocated: list.allocated + 1 })
    await m.getRepository(TokenStatusEntryEntity).insert({ listId: list.id, idx, issuerInstitutionId: issuer.id, credentialId, state: 'active' })
    return { status_list: { idx, uri: this.listUrl(list.id) } }
  }

  private async createList(m: EntityManager, issuer: InstitutionRow): Promise<TokenStatusListRow> {
    const id = randomUUID()
    const list = new StatusList(new Array<number>(2 ** LIST_BITS).fill(0), 1)
    const row: TokenStatusListRow = {
      id,
      issuerInstitutionId: issuer.id,
      size: 2 ** LIST_BITS,
      allocated: 0,
      permutationKey: randomBytes(32).toString('hex'),
      lst: list.compressStatusList(),
      version: 1,
      jwt: await this.sign(issuer, id, list),
      updatedAt: new Date().toISOString(),
    }
    await m.getRepository(TokenStatusListEntity).insert(row)
    return row
  }

  private async sign(issuer: InstitutionRow, listId: string, list: StatusList): Promise<string> {
    const signer = await institutionJwsSigner(this.deps.agent, this.deps.resolver, issuer)
    const { header, payload } = createHeaderAndPayload(
      list,
      { iss: issuer.did, sub: this.listUrl(listId), iat: Math.floor(Date.now() / 1000), ttl: TOKEN_TTL_SECONDS },
      { alg: signer.alg, typ: STATUS_LIST_JWT_TYPE },
    )
    return signCompactJws(signer, header, payload)
  }

  /**
   * Revokes (final) the credential's entry and re-signs its list, inside the caller's transaction.
   * Undefined when the credential has no Token Status List entry.
   */
  async revoke(m: EntityManager, issuer: InstitutionRow, credentialId: string, reason: string): Promise<{ changed: boolean; detail: string } | undefined> {
    const entry = await m.getRepository(TokenStatusEntryEntity).findOneBy({ issuerInstitutionId: issuer.id, credentialId })
    if (!entry) return undefined
    if (entry.state === 'revoked') return { changed: false, detail: 'already revoked; nothing changed' }
    const qb = m.getRepository(TokenStatusListEntity).createQueryBuilder('l').where('l.id = :id', { id: entry.listId })
    if (this.deps.db.isPostgres) qb.setLock('pessimistic_write')
    const row = await qb.getOneOrFail()
    const list = StatusList.decompressStatusList(row.lst, 1)
    list.setStatus(entry.idx, 1)
    const jwt = await this.sign(issuer, row.id, list)
    await m
      .getRepository(TokenStatusListEntity)
      .update({ id: row.id }, { lst: list.compressStatusList(), jwt, version: row.version + 1, updatedAt: new Date().toISOString() })
    await m.getRepository(TokenStatusEntryEntity).update({ listId: entry.listId, idx: entry.idx }, { state: 'revoked' })
    await m.getRepository(StatusChangeEntity).insert({
      id: randomUUID(),
      credentialId,
      purpose: 'revocation',
      from: 'active',
      to: 'revoked',
      actorInstitutionId: issuer.id,
      reason,
      at: new Date().toISOString(),
    })
    return { changed: true, detail: 'revoked' }
  }

  /** Re-signs every list of the issuer with its current key (after a key rotation), locked as in {@link revoke}. */
  async resignAll(m: EntityManager, issuer: InstitutionRow): Promise<void> {
    const qb = m.getRepository(TokenStatusListEntity).createQueryBuilder('l').where('l.issuerInstitutionId = :id', { id: issuer.id }).orderBy('l.id', 'ASC')
    if (this.deps.db.isPostgres) qb.setLock('pessimistic_write')
    for (const row of await qb.getMany()) {
      const jwt = await this.sign(issuer, row.id, StatusList.decompressStatusList(row.lst, 1))
      await m.getRepository(TokenStatusListEntity).update({ id: row.id }, { jwt, version: row.version + 1, updatedAt: new Date().toISOString() })
    }
  }

  /** Whether the issuer's credential has an entry here (an SD-JWT VC), and its state. */
  async stateOf(m: EntityManager, issuerInstitutionId: string, credentialId: string): Promise<'active' | 'revoked' | undefined> {
    return (await m.getRepository(TokenStatusEntryEntity).findOneBy({ issuerInstitutionId, credentialId }))?.state
  }

  /** The current Status List Token and its version (for ETag). */
  async published(listId: string): Promise<{ jwt: string; version: number } | undefined> {
    const row = await this.deps.db.manager
      .getRepository(TokenStatusListEntity)
      .findOne({ where: { id: listId }, select: { id: true, jwt: true, version: true } })
    return row ? { jwt: row.jwt, version: row.version } : undefined
  }
}
