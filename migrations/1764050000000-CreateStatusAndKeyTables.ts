import { Table, TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm'

/** Status lists and entries (revocation, suspension), status history, and signing-key rotations. */
export class CreateStatusAndKeyTables1764050000000 implements MigrationInterface {
  name = 'CreateStatusAndKeyTables1764050000000'

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'medcred_status_list',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'issuerInstitutionId', type: 'varchar', length: '36' },
          { name: 'purpose', type: 'varchar', length: '16' },
          { name: 'size', type: 'integer' },
          { name: 'allocated', type: 'integer' },
          { name: 'permutationKey', type: 'varchar', length: '64' },
          { name: 'bits', type: 'text' },
          { name: 'version', type: 'integer' },
          { name: 'jwt', type: 'text' },
          { name: 'updatedAt', type: 'varchar', length: '30' },
        ],
        foreignKeys: [{ columnNames: ['issuerInstitutionId'], referencedTableName: 'medcred_institution', referencedColumnNames: ['id'] }],
      }),
    )
    await q.createIndex('medcred_status_list', new TableIndex({ name: 'IDX_status_list_issuer', columnNames: ['issuerInstitutionId', 'purpose'] }))
    await q.createTable(
      new Table({
        name: 'medcred_status_entry',
        columns: [
          { name: 'listId', type: 'varchar', length: '36', isPrimary: true },
          { name: 'index', type: 'integer', isPrimary: true },
          { name: 'credentialId', type: 'varchar', length: '300' },
          { name: 'purpose', type: 'varchar', length: '16' },
          { name: 'state', type: 'varchar', length: '16' },
        ],
        foreignKeys: [{ columnNames: ['listId'], referencedTableName: 'medcred_status_list', referencedColumnNames: ['id'] }],
      }),
    )
    await q.createIndex('medcred_status_entry', new TableIndex({ name: 'IDX_status_entry_credential', columnNames: ['credentialId', 'purpose'], isUnique: true }))
    await q.createTable(
      new Table({
        name: 'medcred_status_change',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'credentialId', type: 'varchar', length: '300' },
          { name: 'purpose', type: 'varchar', length: '16' },
          { name: 'from', type: 'varchar', length: '16' },
          { name: 'to', type: 'varchar', length: '16' },
          { name: 'actorInstitutionId', type: 'varchar', length: '36' },
          { name: 'reason', type: 'varchar', length: '40' },
          { name: 'at', type: 'varchar', length: '30' },
        ],
      }),
    )
    await q.createIndex('medcred_status_change', new TableIndex({ name: 'IDX_status_change_credential', columnNames: ['credentialId'] }))
    await q.createTable(
      new Table({
        name: 'medcred_key_rotation',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'institutionId', type: 'varchar', length: '36' },
          { name: 'did', type: 'varchar', length: '200' },
          { name: 'oldKid', type: 'varchar', length: '200' },
          { name: 'newKid', type: 'varchar', length: '200' },
          { name: 'reason', type: 'varchar', length: '16' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'txHash', type: 'varchar', length: '66', isNullable: true },
          { name: 'blockNumber', type: 'integer', isNullable: true },
          { name: 'requestedAt', type: 'varchar', length: '30' },
          { name: 'rotatedAt', type: 'varchar', length: '30', isNullable: true },
        ],
        foreignKeys: [{ columnNames: ['institutionId'], referencedTableName: 'medcred_institution', referencedColumnNames: ['id'] }],
      }),
    )
    await q.createIndex('medcred_key_rotation', new TableIndex({ name: 'IDX_key_rotation_did', columnNames: ['did'] }))
    await q.addColumn('medcred_institution', new TableColumn({ name: 'signingKid', type: 'varchar', length: '200', isNullable: true }))
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('medcred_institution', 'signingKid')
    await q.dropTable('medcred_key_rotation')
    await q.dropTable('medcred_status_change')
    await q.dropTable('medcred_status_entry')
    await q.dropTable('medcred_status_list')
  }
}
