import { randomBytes, randomUUID } from 'node:crypto'
import type { EntityManager } from 'typeorm'
import type { MedcredAgent } from '../agent/agent.js'
import type { Database } from '../db/database.js'
import { AppError } from '../errors.js'
import type { InstitutionRow } from '../institutions/institution.entity.js'
import { currentSigner } from '../institutions/signing-key.js'
import { IssuedCredentialEntity } from '../issuance/issued-credential.entity.js'
import type { Notifier } from '../notifications/notifier.js'
import { TrustRegistry } from '../trust/service.js'
import { signAsInstitution } from '../issuance/sign.js'
import { Bitstring } from './bitstring.js'
import { permutedIndex } from './index-permutation.js'
import { ENTRY_TYPE_OF, bitstringStatusListCredential, statusListCredential, type StatusEntryType } from './list-credential.js'
import { signVcJose } from '../issuance/sign-vc-jose.js'
import type { DidResolver } from '../did/resolver.js'
import { TOKEN_STATUS_TYPE, type TokenStatusLists } from './token-status-list.js'
import { appendChange, type Acting } from '../audit/acting.js'
import type { AuditLog } from '../audit/audit-log.js'
import {
  StatusChangeEntity,
  StatusEntryEntity,
  StatusListEntity,
  type StatusChangeRow,
  type StatusEntryRow,
  type StatusListRow,
  type StatusListFormat,
  type StatusPurpose,
} from './status.entities.js'

/** 2^17 = 131,072 entries: the herd privacy the Status List specs recommend as a minimum. */
export const STATUS_LIST_BITS = 17

/** A `credentialStatus` entry as written into credentials (VC 1.1: StatusList2021Entry; VC 2.0: BitstringStatusListEntry). */
export interface CredentialStatusEntry {
  id: string
  type: StatusEntryType
  statusPurpose: StatusPurpose
  statusListIndex: string
  statusListCredential: string
}

export type CredentialState = 'active' | 'suspended' | 'revoked'
export type StatusRequest = { type: string; status: CredentialState }
export const STATUS_REASONS = [
  'disciplinary-action',
  'license-surrendered',
  'license-expired',
  'deceased',
  'issued-in-error',
  'key-compromise',
  'administrative',
  'reinstated',
  'unspecified',
] as const
export type StatusReason = (typeof STATUS_REASONS)[number]

export interface StatusChangeResult {
  credentialId: string
  status: CredentialState
  changed: boolean
  detail: string
}

/**
 * Status lists of each issuer: allocation of entries at issuance, status changes, and the signed list
 * credentials served at `/status/{listId}`.
 */
export class StatusService {
  constructor(
    private readonly deps: {
      db: Database
      agent: MedcredAgent
      publicUrl: string
      notifier: Notifier
      /** The IETF Token Status Lists of SD-JWT VCs (`credentialStatus` type `TokenStatusList`). */
      tokenLists?: TokenStatusLists
      audit: AuditLog
      /** Finds the DID URL of an institution's signing key (the `kid` of a vc+jwt list). */
      resolver: DidResolver
      /** The `ttl` (milliseconds) of Bitstring Status List credentials: how long others may cache one. */
      bitstringTtlMs: number
    },
  ) {}

  listUrl(listId: string): string {
    return `${this.deps.publicUrl}/status/${listId}`
  }

  /** The list id when `url` is one of ours, else undefined. */
  localListId(url: string): string | undefined {
    const prefix = `${this.deps.publicUrl}/status/`
    return url.startsWith(prefix) ? url.slice(prefix.length) : undefined
  }

  /**
   * Allocates one entry per purpose for a new credential, inside the issuing transaction. The n-th entry
   * of a list gets a permuted index, so indexes reveal neither order nor volume; the list row is locked
   * while its counter moves, so replicas never hand out the same index. A full list rolls over.
   */
  async allocate(
    m: EntityManager,
    issuer: InstitutionRow,
    credentialId: string,
    purposes: StatusPurpose[],
    format: StatusListFormat = 'StatusList2021',
  ): Promise<CredentialStatusEntry[]> {
    const entries: CredentialStatusEntry[] = []
    for (const purpose of purposes) {
      const list = (await this.openList(m, issuer.id, purpose, format)) ?? (await this.createList(m, issuer, purpose, format))
      const index = permutedIndex(list.allocated, STATUS_LIST_BITS, Buffer.from(list.permutationKey, 'hex'))
      await m.getRepository(StatusListEntity).update({ id: list.id }, { allocated: list.allocated + 1 })
      await m.getRepository(StatusEntryEntity).insert({ listId: list.id, index, issuerInstitutionId: issuer.id, credentialId, purpose, state: 'active' })
      const url = this.listUrl(list.id)
      entries.push({ id: `${url}#${index}`, type: ENTRY_TYPE_OF[format], statusPurpose: purpose, statusListIndex: String(index), statusListCredential: url })
    }
    return entries
  }

  private async openList(m: EntityManager, issuerInstitutionId: string, purpose: StatusPurpose, format: StatusListFormat): Promise<StatusListRow | undefined> {
    const qb = m
      .getRepository(StatusListEntity)
      .createQueryBuilder('l')
      .where('l.issuerInstitutionId = :issuerInstitutionId AND l.purpose = :purpose AND l.format = :format AND l.allocated < l.size', {
        issuerInstitutionId,
        purpose,
        format,
      })
      .orderBy('l.updatedAt', 'ASC')
    if (this.deps.db.isPostgres) qb.setLock('pessimistic_write')
    return (await qb.getOne()) ?? undefined
  }

  private async createList(m: EntityManager, issuer: InstitutionRow, purpose: StatusPurpose, format: StatusListFormat): Promise<StatusListRow> {
    const id = randomUUID()
    const bits = Bitstring.empty(2 ** STATUS_LIST_BITS)
    const row: StatusListRow = {
      id,
      issuerInstitutionId: issuer.id,
      purpose,
      format,
      size: 2 ** STATUS_LIST_BITS,
      allocated: 0,
      permutationKey: randomBytes(32).toString('hex'),
      bits: Buffer.from(bits.bytes).toString('base64'),
      version: 1,
      jwt: await this.signList(issuer, { id, purpose, format }, bits),
      updatedAt: new Date().toISOString(),
    }
    await m.getRepository(StatusListEntity).insert(row)
    return row
  }

  /** Signs a list in its format: a StatusList2021 VC-JWT, or a Bitstring Status List vc+jwt. */
  private async signList(issuer: InstitutionRow, list: Pick<StatusListRow, 'id' | 'purpose' | 'format'>, bits: Bitstring): Promise<string> {
    const url = this.listUrl(list.id)
    if (list.format === 'BitstringStatusList') {
      return signVcJose(this.deps, issuer, bitstringStatusListCredential(url, list.purpose, bits, issuer.did, this.deps.bitstringTtlMs))
    }
    const vc = await signAsInstitution(this.deps.agent, issuer, statusListCredential(url, list.purpose, bits))
    return vc.proof.jwt as string
  }

  /**
   * Re-signs every list of the issuer with its current key (after a key rotation). The lists are locked
   * (PostgreSQL) before their bits are read: a status change racing the rotation either commits first, and
   * its bit is re-signed here, or waits and applies its bit to the re-signed list; never the same version
   * published twice with different bits.
   */
  async resignAll(m: EntityManager, issuer: InstitutionRow): Promise<void> {
    const qb = m
      .getRepository(StatusListEntity)
      .createQueryBuilder('l')
      .where('l.issuerInstitutionId = :issuerInstitutionId', { issuerInstitutionId: issuer.id })
      .orderBy('l.id', 'ASC')
    if (this.deps.db.isPostgres) qb.setLock('pessimistic_write')
    const lists = await qb.getMany()
    for (const list of lists) {
      const bits = Bitstring.fromBytes(Buffer.from(list.bits, 'base64'))
      const jwt = await this.signList(issuer, list, bits)
      await m.getRepository(StatusListEntity).update({ id: list.id }, { jwt, version: list.version + 1, updatedAt: new Date().toISOString() })
    }
    await this.deps.tokenLists?.resignAll(m, issuer)
  }

  /**
   * Applies a VC API status change. Revocation is final; suspension can be lifted with `active`.
   * Asking for the state a credential already has changes nothing and says so.
   */
  async change(
    issuer: InstitutionRow,
    credentialId: string,
    requests: StatusRequest[],
    reason: StatusReason,
    by: Acting,
  ): Promise<StatusChangeResult> {
    return this.deps.db.transaction(async (m) => {
      const credential = await this.ownCredential(m, issuer, credentialId)
      // Read (and on PostgreSQL share-locked) only when a list must be re-signed, before any list is locked.
      let current: Promise<InstitutionRow> | undefined
      const signer: Signer = () => (current ??= currentSigner(m, this.deps.db, issuer.id))
      const entries = await m.getRepository(StatusEntryEntity).findBy({ issuerInstitutionId: issuer.id, credentialId })
      const byPurpose = new Map(entries.map((e) => [e.purpose, e]))
      let changed = false
      const details: string[] = []
      for (const request of requests) {
        if (request.type === TOKEN_STATUS_TYPE) {
          const outcome = await this.applyToken(m, signer, issuer, credentialId, request.status, reason)
          byPurpose.set('revocation', { ...tokenEntry(issuer.id, credentialId), state: outcome.state })
          changed ||= outcome.changed
          details.push(outcome.detail)
          continue
        }
        const own = await this.entryTypeOf(m, entries)
        if (request.type !== own) {
          throw new AppError('invalid-request', `credentialStatus type ${request.type} is not this credential's (${own ?? 'it has no such entry'})`, {
            errors: [{ field: 'credentialStatus.type', message: `this credential's entries are ${own ?? 'none'}` }],
          })
        }
        const outcome = await this.apply(m, signer, byPurpose, request.status, reason)
        changed ||= outcome.changed
        details.push(outcome.detail)
      }
      const result = { credentialId, status: stateOf([...byPurpose.values()]), changed, detail: details.join('; ') }
      if (changed) await this.tellRelyingParties(m, credential.id, credential.issuerDid, result.status, reason)
      if (changed) await appendChange(this.deps.audit, m, by, 'credential.status-changed', { type: 'credential', id: credentialId, issuerInstitutionId: issuer.id }, { status: result.status, reason })
      return result
    })
  }

  /** The credentialStatus entry type of a credential's W3C entries, by the format of their list. */
  private async entryTypeOf(m: EntityManager, entries: StatusEntryRow[]): Promise<StatusEntryType | undefined> {
    if (!entries.length) return undefined
    const list = await m.getRepository(StatusListEntity).findOne({ where: { id: entries[0].listId }, select: { id: true, format: true } })
    return list ? ENTRY_TYPE_OF[list.format] : undefined
  }

  /** A Token Status List entry (SD-JWT VC): revocation only, and final. */
  private async applyToken(m: EntityManager, signer: Signer, issuer: InstitutionRow, credentialId: string, status: CredentialState, reason: StatusReason) {
    const lists = this.deps.tokenLists
    const state = lists ? await lists.stateOf(m, issuer.id, credentialId) : undefined
    if (!lists || !state) throw new AppError('invalid-request', `credentialStatus type ${TOKEN_STATUS_TYPE} is not this credential's (it has no Token Status List entry)`)
    if (state === 'revoked' && status !== 'revoked') throw new AppError('conflict', 'the credential is revoked, and revocation is final; issue a new credential instead')
    if (status === 'suspended') throw new AppError('conflict', 'this credential type cannot be suspended (its Token Status List entry is for revocation)')
    if (status === 'active') return { changed: false, detail: 'already active; nothing changed', state }
    const outcome = (await lists.revoke(m, await signer(), credentialId, reason))!
    return { ...outcome, state: 'revoked' as const }
  }

  private async apply(
    m: EntityManager,
    signer: Signer,
    byPurpose: Map<StatusPurpose, StatusEntryRow>,
    status: CredentialState,
    reason: StatusReason,
  ): Promise<{ changed: boolean; detail: string }> {
    const revocation = byPurpose.get('revocation')
    const suspension = byPurpose.get('suspension')
    if (revocation?.state === 'revoked') {
      if (status === 'revoked') return { changed: false, detail: 'already revoked; nothing changed' }
      throw new AppError('conflict', 'the credential is revoked, and revocation is final; issue a new credential instead')
    }
    if (status === 'revoked') {
      if (!revocation) throw new AppError('conflict', 'this credential has no revocation entry')
      await this.setState(m, signer, revocation, 'revoked', reason)
      return { changed: true, detail: 'revoked' }
    }
    if (!suspension) throw new AppError('conflict', 'this credential type cannot be suspended (it has no suspension entry)')
    const target = status === 'suspended' ? 'suspended' : 'active'
    if (suspension.state === target) return { changed: false, detail: `already ${target}; nothing changed` }
    await this.setState(m, signer, suspension, target, reason)
    return { changed: true, detail: target === 'active' ? 'reinstated' : 'suspended' }
  }

  private async setState(
    m: EntityManager,
    signer: Signer,
    entry: StatusEntryRow,
    state: StatusEntryRow['state'],
    reason: StatusReason,
  ): Promise<void> {
    const issuer = await signer()
    const qb = m.getRepository(StatusListEntity).createQueryBuilder('l').where('l.id = :id', { id: entry.listId })
    if (this.deps.db.isPostgres) qb.setLock('pessimistic_write')
    const list = await qb.getOneOrFail()
    const bits = Bitstring.fromBytes(Buffer.from(list.bits, 'base64'))
    bits.set(entry.index, state !== 'active')
    const jwt = await this.signList(issuer, list, bits)
    await m.getRepository(StatusListEntity).update(
      { id: list.id },
      { bits: Buffer.from(bits.bytes).toString('base64'), jwt, version: list.version + 1, updatedAt: new Date().toISOString() },
    )
    await m.getRepository(StatusEntryEntity).update({ listId: entry.listId, index: entry.index }, { state })
    const change: StatusChangeRow = {
      id: randomUUID(),
      credentialId: entry.credentialId,
      purpose: entry.purpose,
      from: entry.state,
      to: state,
      actorInstitutionId: issuer.id,
      reason,
      at: new Date().toISOString(),
    }
    await m.getRepository(StatusChangeEntity).insert(change)
    entry.state = state
  }

  /** Every institution that relied on the credential learns of the change, in the same transaction. */
  private async tellRelyingParties(m: EntityManager, credentialId: string, issuer: string, status: CredentialState, reason: StatusReason) {
    const recipients = await TrustRegistry.reliersOf(m, issuer, credentialId)
    const event = status === 'revoked' ? 'credential.revoked' : status === 'suspended' ? 'credential.suspended' : 'credential.reinstated'
    await this.deps.notifier.notify(m, { event, recipients, data: { credentialId, issuer, status, reason } })
  }

  /** A credential's current status and its history; only its issuer may read it. */
  async statusOf(issuer: InstitutionRow, credentialId: string) {
    const m = this.deps.db.manager
    await this.ownCredential(m, issuer, credentialId)
    const entries = await m.getRepository(StatusEntryEntity).findBy({ issuerInstitutionId: issuer.id, credentialId })
    const history = await m.getRepository(StatusChangeEntity).find({ where: { credentialId, actorInstitutionId: issuer.id }, order: { at: 'ASC' } })
    const token = await this.deps.tokenLists?.stateOf(m, issuer.id, credentialId)
    return {
      credentialId,
      status: stateOf(token ? [...entries, { state: token }] : entries),
      entries: entries.map((e) => ({ purpose: e.purpose, state: e.state, statusListCredential: this.listUrl(e.listId), statusListIndex: String(e.index) })),
      history: history.map(({ purpose, from, to, actorInstitutionId, reason, at }) => ({ purpose, from, to, by: actorInstitutionId, reason, at })),
    }
  }

  /**
   * The credential `issuer` issued under this id. Another issuer's credential is "not found" exactly as an
   * id nobody used: which ids exist elsewhere is none of the caller's business.
   */
  private async ownCredential(m: EntityManager, issuer: InstitutionRow, credentialId: string) {
    const credential = await m.getRepository(IssuedCredentialEntity).findOneBy({ issuerInstitutionId: issuer.id, id: credentialId })
    if (!credential) throw new AppError('not-found', `this institution issued no credential ${credentialId}`)
    return credential
  }

  /** The current version of a list (a cheap read: verifiers keep each verified version). */
  async publishedVersion(listId: string): Promise<number | undefined> {
    const [row] = await this.deps.db.rows<{ version: number }>('SELECT "version" FROM "medcred_status_list" WHERE "id" = $1', [listId])
    return row?.version
  }

  /** The current signed list credential, its version (for ETag) and format. */
  async published(listId: string): Promise<{ jwt: string; version: number; format: StatusListFormat } | undefined> {
    const row = await this.deps.db.manager
      .getRepository(StatusListEntity)
      .findOne({ where: { id: listId }, select: { id: true, jwt: true, version: true, format: true } })
    return row ? { jwt: row.jwt, version: row.version, format: row.format } : undefined
  }
}

/** Stands for a Token Status List entry in the state summary of a change. */
const tokenEntry = (issuerInstitutionId: string, credentialId: string): StatusEntryRow => ({ listId: '', index: -1, issuerInstitutionId, credentialId, purpose: 'revocation', state: 'active' })

/** The issuing institution with its current signing key, read inside the transaction (see currentSigner). */
type Signer = () => Promise<InstitutionRow>

function stateOf(entries: Pick<StatusEntryRow, 'state'>[]): CredentialState {
  if (entries.some((e) => e.state === 'revoked')) return 'revoked'
  if (entries.some((e) => e.state === 'suspended')) return 'suspended'
  return 'active'
}
