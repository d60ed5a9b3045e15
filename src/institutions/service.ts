import { randomUUID } from 'node:crypto'
import type { EntityManager } from 'typeorm'
import type { MedcredAgent } from '../agent/agent.js'
import type { Chain } from '../chain/chain.js'
import type { RegistryWriter } from '../chain/registry-writer.js'
import type { Database } from '../db/database.js'
import { AppError } from '../errors.js'
import { generateApiKey, hashApiKey } from './api-keys.js'
import { appendChange, type Acting } from '../audit/acting.js'
import type { AuditLog } from '../audit/audit-log.js'
import { InstitutionEntity, type InstitutionKind, type InstitutionRow } from './institution.entity.js'

export interface NewInstitution {
  name: string
  kind: InstitutionKind
  jurisdiction?: string
}

/** What the API shows of an institution (never its key or key hash). */
export interface InstitutionView {
  id: string
  name: string
  kind: InstitutionKind
  jurisdiction: string | null
  did: string
  anchorTx: string
  createdAt: string
  policy: { receiptWindowDays: number }
}

/**
 * NCQA-accredited organisations need primary-source verifications at most 120 days old at decision time
 * (files decided from July 2025), so a receipt older than that is not relied on unless an institution
 * sets its own window.
 */
export const DEFAULT_RECEIPT_WINDOW_DAYS = 120

export const INSTITUTION_SERVICE_TYPE = 'MedcredInstitution'

export function toView(row: InstitutionRow): InstitutionView {
  const { apiKeyHash: _hash, signingKid: _kid, receiptWindowDays, ...view } = row
  return { ...view, policy: { receiptWindowDays: receiptWindowDays ?? DEFAULT_RECEIPT_WINDOW_DAYS } }
}

export class InstitutionService {
  constructor(
    private readonly deps: {
      db: Database
      agent: MedcredAgent
      chain: Chain
      registry: RegistryWriter
      publicUrl: string
      audit: AuditLog
      /** What an API key opened besides API calls (the pages' sessions and sign-in links), ended with it. */
      sessions: { endAllOf(institutionId: string, m: EntityManager): Promise<void> }
    },
  ) {}

  /**
   * Creates the institution's did:ethr, anchors it on chain (a service endpoint attribute in the registry),
   * then records it. The row is written only after the chain accepted the anchor, so a dead RPC or a crash
   * leaves no half-made institution: the caller retries the whole request. Returns the API key once.
   */
  async create(
    input: NewInstitution,
    by: Acting,
  ): Promise<{ institution: InstitutionView; apiKey: string }> {
    const { db, agent, chain, registry, publicUrl } = this.deps
    const id = randomUUID()
    const identifier = await db.write(() =>
      agent.didManagerCreate({
        provider: 'did:ethr',
        kms: 'local',
        alias: `institution:${id}`,
        options: { network: chain.network },
      }),
    )
    const service = {
      id: `${identifier.did}#medcred`,
      type: INSTITUTION_SERVICE_TYPE,
      serviceEndpoint: `${publicUrl}/institutions/${id}`,
    }
    let anchorTx: string
    try {
      ;({ txHash: anchorTx } = await registry.setAttribute(
        identifier.did,
        identifier.controllerKeyId!,
        `did/svc/${service.type}`,
        service.serviceEndpoint,
      ))
    } catch (e) {
      await db.write(() => agent.didManagerDelete({ did: identifier.did })).catch(() => undefined)
      throw e
    }
    const apiKey = generateApiKey()
    const row: InstitutionRow = {
      id,
      name: input.name,
      kind: input.kind,
      jurisdiction: input.jurisdiction ?? null,
      did: identifier.did,
      apiKeyHash: hashApiKey(apiKey),
      anchorTx,
      createdAt: new Date().toISOString(),
      signingKid: identifier.controllerKeyId ?? null,
      receiptWindowDays: null,
    }
    await db.write(() => agent.didManagerAddService({ did: identifier.did, service, options: { localOnly: true } }))
    await db.transaction(async (m) => {
      await m.getRepository(InstitutionEntity).insert(row)
      await appendChange(this.deps.audit, m, by, 'institution.created', { type: 'institution', id: row.id }, { did: row.did, kind: row.kind })
    })
    return { institution: toView(row), apiKey }
  }

  async get(id: string): Promise<InstitutionRow> {
    const row = await this.deps.db.manager.getRepository(InstitutionEntity).findOneBy({ id })
    if (!row) throw new AppError('not-found', `no institution ${id}`)
    return row
  }

  /** Sets how old another institution's receipt may be for this one to rely on it. */
  async setPolicy(id: string, policy: { receiptWindowDays: number }, by: Acting): Promise<InstitutionView> {
    await this.deps.db.transaction(async (m) => {
      if (!(await m.getRepository(InstitutionEntity).existsBy({ id }))) throw new AppError('not-found', `no institution ${id}`)
      await m.getRepository(InstitutionEntity).update({ id }, { receiptWindowDays: policy.receiptWindowDays })
      await appendChange(this.deps.audit, m, by, 'institution.policy-changed', { type: 'institution', id }, { receiptWindowDays: policy.receiptWindowDays })
    })
    return toView(await this.get(id))
  }

  /**
   * Replaces the institution's API key (a leaked key is dead the moment this commits) and returns the new
   * one, shown once; what the old key opened (page sessions, sign-in links) ends in the same transaction.
   * Audited as `institution.api-key-replaced`; neither key is recorded.
   */
  async replaceApiKey(id: string, by: Acting): Promise<{ institution: InstitutionView; apiKey: string }> {
    const apiKey = generateApiKey()
    await this.deps.db.transaction(async (m) => {
      const { affected } = await m.getRepository(InstitutionEntity).update({ id }, { apiKeyHash: hashApiKey(apiKey) })
      if (!affected) throw new AppError('not-found', `no institution ${id}`)
      await this.deps.sessions.endAllOf(id, m)
      await appendChange(this.deps.audit, m, by, 'institution.api-key-replaced', { type: 'institution', id }, {})
    })
    return { institution: toView(await this.get(id)), apiKey }
  }

  /** Every institution, newest first (what the consortium admin's page lists). */
  async list(limit = 500): Promise<InstitutionView[]> {
    const rows = await this.deps.db.manager.getRepository(InstitutionEntity).find({ order: { createdAt: 'DESC' }, take: limit })
    return rows.map(toView)
  }

  /** The institution whose DID this is, if it is one of ours. */
  async byDid(did: string): Promise<InstitutionView | undefined> {
    const row = await this.deps.db.manager.getRepository(InstitutionEntity).findOneBy({ did })
    return row ? toView(row) : undefined
  }

  /** The institution an API key belongs to, or undefined. */
  async authenticate(apiKey: string): Promise<InstitutionRow | undefined> {
    const row = await this.deps.db.manager.getRepository(InstitutionEntity).findOneBy({ apiKeyHash: hashApiKey(apiKey) })
    return row ?? undefined
  }
}
