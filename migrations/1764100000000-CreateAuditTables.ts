import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm'

/**
 * The audit trail: the hash-chained events, the single head row that hands out sequence numbers (seeded
 * here, so appends only ever lock and update it), and the batches anchored on chain.
 */
export class CreateAuditTables1764100000000 implements MigrationInterface {
  name = 'CreateAuditTables1764100000000'

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'medcred_audit_event',
        columns: [
          { name: 'seq', type: 'bigint', isPrimary: true },
          { name: 'time', type: 'varchar', length: '30' },
          { name: 'actorType', type: 'varchar', length: '16' },
          { name: 'actorId', type: 'varchar', length: '200', isNullable: true },
          { name: 'actorDid', type: 'varchar', length: '300', isNullable: true },
          { name: 'action', type: 'varchar', length: '64' },
          { name: 'subjectType', type: 'varchar', length: '32', isNullable: true },
          { name: 'subjectId', type: 'varchar', length: '300', isNullable: true },
          { name: 'subjectIssuerInstitutionId', type: 'varchar', length: '36', isNullable: true },
          { name: 'outcome', type: 'varchar', length: '8' },
          { name: 'requestId', type: 'varchar', length: '100', isNullable: true },
          { name: 'detail', type: 'text', isNullable: true },
          { name: 'prevHash', type: 'varchar', length: '64' },
          { name: 'hash', type: 'varchar', length: '64' },
        ],
      }),
    )
    await q.createIndex('medcred_audit_event', new TableIndex({ name: 'IDX_audit_event_actor', columnNames: ['actorId'] }))
    await q.createIndex(
      'medcred_audit_event',
      new TableIndex({ name: 'IDX_audit_event_subject_issuer', columnNames: ['subjectIssuerInstitutionId'] }),
    )

    await q.createTable(
      new Table({
        name: 'medcred_audit_head',
        columns: [
          { name: 'id', type: 'varchar', length: '16', isPrimary: true },
          { name: 'lastSeq', type: 'bigint' },
          { name: 'lastHash', type: 'varchar', length: '64' },
        ],
      }),
    )
    await q.query(`INSERT INTO "medcred_audit_head" ("id", "lastSeq", "lastHash") VALUES ('main', 0, '${'0'.repeat(64)}')`)

    await q.createTable(
      new Table({
        name: 'medcred_audit_anchor',
        columns: [
          { name: 'fromSeq', type: 'bigint', isPrimary: true },
          { name: 'toSeq', type: 'bigint', isUnique: true },
          { name: 'root', type: 'varchar', length: '64' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'did', type: 'varchar', length: '200', isNullable: true },
          { name: 'txHash', type: 'varchar', length: '66', isNullable: true },
          { name: 'blockNumber', type: 'bigint', isNullable: true },
          { name: 'createdAt', type: 'varchar', length: '30' },
          { name: 'anchoredAt', type: 'varchar', length: '30', isNullable: true },
          { name: 'attempts', type: 'integer', default: 0 },
          { name: 'lastError', type: 'varchar', length: '500', isNullable: true },
          { name: 'leaseOwner', type: 'varchar', length: '64', isNullable: true },
          { name: 'leaseUntil', type: 'varchar', length: '30', isNullable: true },
        ],
      }),
    )
    await q.createIndex('medcred_audit_anchor', new TableIndex({ name: 'IDX_audit_anchor_status', columnNames: ['status'] }))
  }

  /** Reverting destroys the audit trail; it is here for development databases, never run it on a real one. */
  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('medcred_audit_anchor')
    await q.dropTable('medcred_audit_head')
    await q.dropTable('medcred_audit_event')
  }
}
