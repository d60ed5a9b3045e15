import { Table, type MigrationInterface, type QueryRunner } from 'typeorm'

/**
 * Rate-limit counts shared by replicas (src/api/rate-limit.ts): one row per client key holding the count
 * of its current one-minute window. Used on PostgreSQL; on SQLite one process counts in memory.
 */
export class CreateRateLimitTable1765050000000 implements MigrationInterface {
  name = 'CreateRateLimitTable1765050000000'

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'medcred_rate_limit',
        columns: [
          { name: 'key', type: 'varchar', length: '200', isPrimary: true },
          { name: 'windowStart', type: 'bigint' },
          { name: 'count', type: 'integer' },
        ],
      }),
    )
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('medcred_rate_limit')
  }
}
