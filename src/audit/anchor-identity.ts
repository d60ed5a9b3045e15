import type { MedcredAgent } from '../agent/agent.js'
import type { Database } from '../db/database.js'

/** Veramo alias of the service's own DID, the one whose registry attributes carry the audit roots. */
export const AUDIT_DID_ALIAS = 'medcred-audit'

export interface AuditIdentity {
  did: string
  controllerKeyId: string
}

/**
 * The "medcred audit" did:ethr, created on first use. Veramo keeps (alias, provider) unique, so when two
 * replicas create it at once one insert fails and that replica reads the winner's.
 */
export async function ensureAuditIdentity(agent: MedcredAgent, db: Database, network: string): Promise<AuditIdentity> {
  const existing = await findAuditIdentity(agent)
  if (existing) return existing
  try {
    const created = await db.write(() =>
      agent.didManagerCreate({ provider: 'did:ethr', kms: 'local', alias: AUDIT_DID_ALIAS, options: { network } }),
    )
    return { did: created.did, controllerKeyId: created.controllerKeyId! }
  } catch (e) {
    const raced = await findAuditIdentity(agent)
    if (raced) return raced
    throw e
  }
}

async function findAuditIdentity(agent: MedcredAgent): Promise<AuditIdentity | undefined> {
  // A list (empty when there is none yet), not a lookup that throws "not found": a database error stays
  // one, and never looks like a missing DID (that would create a second audit DID, with its own key).
  const [id] = await agent.didManagerFind({ alias: AUDIT_DID_ALIAS, provider: 'did:ethr' })
  return id ? { did: id.did, controllerKeyId: id.controllerKeyId! } : undefined
}
