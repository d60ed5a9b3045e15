import type { MedcredAgent } from '../agent/agent.js'
import type { Chain } from '../chain/chain.js'
import type { RegistryWriter } from '../chain/registry-writer.js'
import type { Database } from '../db/database.js'
import { AuditAnchorer, type AnchorLogger } from './anchor-worker.js'
import { AuditLog } from './audit-log.js'

export { appendAuditEvent } from './append.js'
export { AuditLog } from './audit-log.js'
export { AuditAnchorer } from './anchor-worker.js'
export { verifyInclusion, type ProofStep } from './merkle.js'
export type { EventProof } from './read.js'
export type * from './types.js'
export { verifyEventProof, type ProofVerdict } from './proof-check.js'
export { verifyAuditTrail, type TrailReport, type TrailProblem } from './verify-trail.js'

/** The audit trail: the log every capability appends to, and the worker that anchors it on chain. */
export interface Audit {
  log: AuditLog
  anchorer: AuditAnchorer
}

export function createAudit(deps: {
  db: Database
  agent: MedcredAgent
  chain: Chain
  registry: RegistryWriter
  config: { anchorEvery: number; anchorSeconds: number }
  log: AnchorLogger
}): Audit {
  const { db, agent, chain, registry, config, log } = deps
  return {
    log: new AuditLog(db, { chainId: chain.chainId, registry: chain.registry }),
    anchorer: new AuditAnchorer({
      db,
      agent,
      chain,
      registry,
      rule: { every: config.anchorEvery, seconds: config.anchorSeconds },
      log,
    }),
  }
}
