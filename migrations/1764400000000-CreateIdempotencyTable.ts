import { Table, type MigrationInterface, type QueryRunner } from 'typeorm'

/** Replies to writes made under an Idempotency-Key. */
export class CreateIdempotencyTable1764400000000 implements MigrationInterface {
  name = 'CreateIdempotencyTable1764400000000'

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'medcred_idempotency',
        columns: [
          { name: 'scope', type: 'varchar', length: '36', isPrimary: true },
          { name: 'key', type: 'varchar', length: '200', isPrimary: true },
          { name: 'requestDigest', type: 'varchar', length: '64' },
          { name: 'status', type: 'integer' },
          { name: 'response', type: 'text' },
          { name: 'createdAt', type: 'varchar', length: '30' },
        ],
      }),
    )
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('medcred_idempotency')
  }
}
