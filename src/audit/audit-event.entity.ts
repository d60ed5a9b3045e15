import { EntitySchema } from 'typeorm'
import { bigintAsNumber } from './columns.js'
import type { AuditActorType, AuditOutcome } from './types.js'

/** One audit event as stored: the `AuditEvent` flattened into columns, plus its hash chain link. */
export interface AuditEventRow {
  seq: number
  time: string
  actorType: AuditActorType
  actorId: string | null
  actorDid: string | null
  action: string
  subjectType: string | null
  subjectId: string | null
  subjectIssuerInstitutionId: string | null
  outcome: AuditOutcome
  requestId: string | null
  /** RFC 8785 canonical JSON of the detail object, or null. */
  detail: string | null
  prevHash: string
  hash: string
}

export const AuditEventEntity = new EntitySchema<AuditEventRow>({
  name: 'AuditEvent',
  tableName: 'medcred_audit_event',
  columns: {
    seq: { type: 'bigint', primary: true, transformer: bigintAsNumber },
    time: { type: 'varchar', length: 30 },
    actorType: { type: 'varchar', length: 16 },
    actorId: { type: 'varchar', length: 200, nullable: true },
    actorDid: { type: 'varchar', length: 300, nullable: true },
    action: { type: 'varchar', length: 64 },
    subjectType: { type: 'varchar', length: 32, nullable: true },
    subjectId: { type: 'varchar', length: 300, nullable: true },
    subjectIssuerInstitutionId: { type: 'varchar', length: 36, nullable: true },
    outcome: { type: 'varchar', length: 8 },
    requestId: { type: 'varchar', length: 100, nullable: true },
    detail: { type: 'text', nullable: true },
    prevHash: { type: 'varchar', length: 64 },
    hash: { type: 'varchar', length: 64 },
  },
  indices: [
    { name: 'IDX_audit_event_actor', columns: ['actorId'] },
    { name: 'IDX_audit_event_subject_issuer', columns: ['subjectIssuerInstitutionId'] },
  ],
})
