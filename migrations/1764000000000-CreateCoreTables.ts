import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm'

/** Institutions and the credentials they issued. Times are ISO-8601 UTC strings (portable and sortable). */
export class CreateCoreTables1764000000000 implements MigrationInterface {
  name = 'CreateCoreTables1764000000000'

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'medcred_institution',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'name', type: 'varchar', length: '200' },
          { name: 'kind', type: 'varchar', length: '32' },
          { name: 'jurisdiction', type: 'varchar', length: '16', isNullable: true },
          { name: 'did', type: 'varchar', length: '200', isUnique: true },
          { name: 'apiKeyHash', type: 'varchar', length: '64', isUnique: true },
          { name: 'anchorTx', type: 'varchar', length: '66' },
          { name: 'createdAt', type: 'varchar', length: '30' },
        ],
      }),
    )
    await q.createTable(
      new Table({
        name: 'medcred_issued_credential',
        columns: [
          { name: 'id', type: 'varchar', length: '300', isPrimary: true },
          { name: 'issuerInstitutionId', type: 'varchar', length: '36' },
          { name: 'issuerDid', type: 'varchar', length: '200' },
          { name: 'subjectDid', type: 'varchar', length: '300', isNullable: true },
          { name: 'type', type: 'varchar', length: '100' },
          { name: 'jwt', type: 'text' },
          { name: 'digest', type: 'varchar', length: '64' },
          { name: 'issuedAt', type: 'varchar', length: '30' },
          { name: 'expiresAt', type: 'varchar', length: '30', isNullable: true },
        ],
        foreignKeys: [
          { columnNames: ['issuerInstitutionId'], referencedTableName: 'medcred_institution', referencedColumnNames: ['id'] },
        ],
      }),
    )
    await q.createIndex('medcred_issued_credential', new TableIndex({ name: 'IDX_issued_credential_issuer', columnNames: ['issuerInstitutionId'] }))
    await q.createIndex('medcred_issued_credential', new TableIndex({ name: 'IDX_issued_credential_subject', columnNames: ['subjectDid'] }))
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('medcred_issued_credential')
    await q.dropTable('medcred_institution')
  }
}
