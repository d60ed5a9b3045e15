import { randomUUID } from 'node:crypto'
import type { DataSource } from 'typeorm'
import type { MedcredAgent } from '../agent/agent.js'
import { anchorService } from '../chain/anchor.js'
import type { Chain } from '../chain/chain.js'
import { AppError } from '../errors.js'
import { generateApiKey, hashApiKey } from './api-keys.js'
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
}

export const INSTITUTION_SERVICE_TYPE = 'MedcredInstitution'

export function toView(row: InstitutionRow): InstitutionView {
  const { apiKeyHash: _hidden, ...view } = row
  return view
}

export class InstitutionService {
  constructor(
    private readonly deps: { db: DataSource; agent: MedcredAgent; chain: Chain; operatorKid: string; publicUrl: string },
  ) {}

  /**
   * Creates the institution's did:ethr, anchors it on chain (a service endpoint attribute in the registry),
   * then records it. The row is written only after the chain accepted the anchor, so a dead RPC or a crash
   * leaves no half-made institution: the caller retries the whole request. Returns the API key once.
   */
  async create(input: NewInstitution): Promise<{ institution: InstitutionView; apiKey: string }> {
    const { db, agent, chain, publicUrl } = this.deps
    const id = randomUUID()
    const identifier = await agent.didManagerCreate({
      provider: 'did:ethr',
      kms: 'local',
      alias: `institution:${id}`,
      options: { network: chain.network },
    })
    let anchorTx: string
    try {
      ;({ txHash: anchorTx } = await anchorService(this.deps, identifier.did, {
        id: `${identifier.did}#medcred`,
        type: INSTITUTION_SERVICE_TYPE,
        serviceEndpoint: `${publicUrl}/institutions/${id}`,
      }))
    } catch (e) {
      await agent.didManagerDelete({ did: identifier.did }).catch(() => undefined)
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
    }
    await db.getRepository(InstitutionEntity).insert(row)
    return { institution: toView(row), apiKey }
  }

  async get(id: string): Promise<InstitutionRow> {
    const row = await this.deps.db.getRepository(InstitutionEntity).findOneBy({ id })
    if (!row) throw new AppError('not-found', `no institution ${id}`)
    return row
  }

  /** The institution an API key belongs to, or undefined. */
  async authenticate(apiKey: string): Promise<InstitutionRow | undefined> {
    const row = await this.deps.db.getRepository(InstitutionEntity).findOneBy({ apiKeyHash: hashApiKey(apiKey) })
    return row ?? undefined
  }
}
