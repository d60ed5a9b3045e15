import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm'

/** The web page's sessions and one-time sign-in links: both stored by the SHA-256 of their token only. */
export class CreateWebSessionTables1765300000000 implements MigrationInterface {
  name = 'CreateWebSessionTables1765300000000'

  async up(q: QueryRunner): Promise<void> {
    const time = (name: string, nullable = false) => ({ name, type: 'varchar', length: '30', isNullable: nullable })
    await q.createTable(
      new Table({
        name: 'medcred_web_session',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'tokenHash', type: 'varchar', length: '64' },
          { name: 'role', type: 'varchar', length: '16' },
          { name: 'institutionId', type: 'varchar', length: '36', isNullable: true },
          time('createdAt'),
          time('expiresAt'),
        ],
      }),
    )
    await q.createIndex('medcred_web_session', new TableIndex({ name: 'IDX_web_session_token', columnNames: ['tokenHash'], isUnique: true }))
    await q.createIndex('medcred_web_session', new TableIndex({ name: 'IDX_web_session_expires', columnNames: ['expiresAt'] }))
    await q.createTable(
      new Table({
        name: 'medcred_web_sign_in_link',
        columns: [
          { name: 'tokenHash', type: 'varchar', length: '64', isPrimary: true },
          { name: 'role', type: 'varchar', length: '16' },
          { name: 'institutionId', type: 'varchar', length: '36', isNullable: true },
          time('createdAt'),
          time('expiresAt'),
          time('usedAt', true),
        ],
      }),
    )
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('medcred_web_sign_in_link')
    await q.dropTable('medcred_web_session')
  }
}
