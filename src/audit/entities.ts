import { AuditAnchorEntity } from './audit-anchor.entity.js'
import { AuditEventEntity } from './audit-event.entity.js'
import { AuditHeadEntity } from './audit-head.entity.js'

/** The audit trail's TypeORM entities, for the DataSource's entity list. */
export const auditEntities = [AuditEventEntity, AuditHeadEntity, AuditAnchorEntity]
