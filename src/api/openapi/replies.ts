import { z } from 'zod'

/** Reply schemas shared by several routes' docs; the reply-schema test holds real replies against them. */
export const CheckSchema = z.object({ check: z.string(), ok: z.boolean(), detail: z.string().optional() })

/** 200 of a verification: every check passed. A failure is a `verification-failed` problem with the same `checks`. */
export const VerdictReply = z.looseObject({ verified: z.literal(true), checks: z.array(CheckSchema), warnings: z.array(z.unknown()) })

export const SecuredCredential = z.union([z.string(), z.looseObject({ id: z.string().optional(), type: z.array(z.string()), issuer: z.unknown(), proof: z.looseObject({ jwt: z.string() }) })])

export const IssueReply = z.object({ verifiableCredential: SecuredCredential })

export const InstitutionView = z.looseObject({
  id: z.string(),
  name: z.string(),
  kind: z.enum(['board', 'hospital', 'identity-provider']),
  did: z.string(),
  jurisdiction: z.string().nullable().optional(),
  policy: z.object({ receiptWindowDays: z.number().int() }),
})

export const NewInstitutionReply = InstitutionView.extend({ apiKey: z.string().startsWith('mck_') })

export const HealthReply = z.object({
  status: z.enum(['ok', 'degraded']),
  db: z.enum(['ok', 'unreachable']),
  migrations: z.enum(['ok', 'pending', 'unknown']),
  chain: z.object({ chainId: z.number(), registry: z.string(), blockNumber: z.number().nullable(), status: z.enum(['ok', 'unreachable']) }),
  worker: z.number().optional(),
})

export const LiveReply = z.object({ status: z.literal('ok'), worker: z.number().optional() })

export const TrustedIssuer = z.looseObject({ did: z.string(), credentialTypes: z.array(z.string()), jurisdictions: z.array(z.string()) })

export const AuditEventSchema = z.looseObject({ seq: z.number().int(), time: z.string(), action: z.string(), outcome: z.enum(['success', 'failure']), hash: z.string(), prevHash: z.string() })

export const AuditPage = z.object({ events: z.array(AuditEventSchema), next: z.number().int().nullable() })

/** A reply documented only as a JSON object (its fields are described in the README). */
export const JsonObject = z.looseObject({})
