import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm'

/**
 * Relying-party notices: webhook subscriptions, one notification per recipient institution, and the delivery
 * outbox the worker drains (its state is here, so a restart loses no retry).
 */
export class CreateNotificationTables1764200000000 implements MigrationInterface {
  name = 'CreateNotificationTables1764200000000'

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'medcred_webhook',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'institutionId', type: 'varchar', length: '36' },
          { name: 'url', type: 'varchar', length: '2048' },
          { name: 'events', type: 'text' },
          { name: 'secretCiphertext', type: 'varchar', length: '200' },
          { name: 'createdAt', type: 'varchar', length: '30' },
          { name: 'deletedAt', type: 'varchar', length: '30', isNullable: true },
        ],
        foreignKeys: [{ columnNames: ['institutionId'], referencedTableName: 'medcred_institution', referencedColumnNames: ['id'] }],
      }),
    )
    await q.createIndex('medcred_webhook', new TableIndex({ name: 'IDX_webhook_institution', columnNames: ['institutionId'] }))

    await q.createTable(
      new Table({
        name: 'medcred_notification',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'institutionId', type: 'varchar', length: '36' },
          { name: 'event', type: 'varchar', length: '64' },
          { name: 'data', type: 'text' },
          { name: 'createdAt', type: 'varchar', length: '30' },
        ],
        foreignKeys: [{ columnNames: ['institutionId'], referencedTableName: 'medcred_institution', referencedColumnNames: ['id'] }],
      }),
    )
    await q.createIndex(
      'medcred_notification',
      new TableIndex({ name: 'IDX_notification_institution_created', columnNames: ['institutionId', 'createdAt'] }),
    )

    await q.createTable(
      new Table({
        name: 'medcred_webhook_delivery',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'notificationId', type: 'varchar', length: '36' },
          { name: 'webhookId', type: 'varchar', length: '36' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'attempts', type: 'integer' },
          { name: 'nextAttemptAt', type: 'varchar', length: '30' },
          { name: 'lockedUntil', type: 'varchar', length: '30', isNullable: true },
          { name: 'lockToken', type: 'varchar', length: '36', isNullable: true },
          { name: 'lastError', type: 'varchar', length: '500', isNullable: true },
          { name: 'lastAttemptAt', type: 'varchar', length: '30', isNullable: true },
          { name: 'deliveredAt', type: 'varchar', length: '30', isNullable: true },
          { name: 'createdAt', type: 'varchar', length: '30' },
        ],
        foreignKeys: [
          { columnNames: ['notificationId'], referencedTableName: 'medcred_notification', referencedColumnNames: ['id'] },
          { columnNames: ['webhookId'], referencedTableName: 'medcred_webhook', referencedColumnNames: ['id'] },
        ],
      }),
    )
    // The worker's poll: pending rows in due order.
    await q.createIndex('medcred_webhook_delivery', new TableIndex({ name: 'IDX_webhook_delivery_due', columnNames: ['status', 'nextAttemptAt'] }))
    await q.createIndex('medcred_webhook_delivery', new TableIndex({ name: 'IDX_webhook_delivery_notification', columnNames: ['notificationId'] }))
    await q.createIndex('medcred_webhook_delivery', new TableIndex({ name: 'IDX_webhook_delivery_webhook', columnNames: ['webhookId'] }))
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('medcred_webhook_delivery')
    await q.dropTable('medcred_notification')
    await q.dropTable('medcred_webhook')
  }
}
