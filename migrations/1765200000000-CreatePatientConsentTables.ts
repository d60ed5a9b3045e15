import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm'

/** Patients' consents, the single-use record of patient-signed tokens, and IETF Token Status Lists for SD-JWT VCs. */
export class CreatePatientConsentTables1765200000000 implements MigrationInterface {
  name = 'CreatePatientConsentTables1765200000000'

  async up(q: QueryRunner): Promise<void> {
    const time = (name: string, nullable = false) => ({ name, type: 'varchar', length: '30', isNullable: nullable })
    await q.createTable(
      new Table({
        name: 'medcred_consent',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'patientDid', type: 'varchar', length: '300' },
          { name: 'granteeDid', type: 'varchar', length: '300' },
          { name: 'purposes', type: 'text' },
          { name: 'credentialTypes', type: 'text' },
          { name: 'digest', type: 'varchar', length: '64', isUnique: true },
          { name: 'jwt', type: 'text' },
          time('issuedAt'),
          time('expiresAt'),
          time('createdAt'),
          time('revokedAt', true),
        ],
      }),
    )
    await q.createIndex('medcred_consent', new TableIndex({ name: 'IDX_consent_patient', columnNames: ['patientDid'] }))
    await q.createIndex('medcred_consent', new TableIndex({ name: 'IDX_consent_grantee', columnNames: ['granteeDid'] }))
    await q.createTable(
      new Table({
        name: 'medcred_patient_token_use',
        columns: [
          { name: 'did', type: 'varchar', length: '300', isPrimary: true },
          { name: 'nonce', type: 'varchar', length: '200', isPrimary: true },
          { name: 'purpose', type: 'varchar', length: '32' },
          time('usedAt'),
          time('expiresAt'),
        ],
      }),
    )
    await q.createTable(
      new Table({
        name: 'medcred_token_status_list',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'issuerInstitutionId', type: 'varchar', length: '36' },
          { name: 'size', type: 'integer' },
          { name: 'allocated', type: 'integer' },
          { name: 'permutationKey', type: 'varchar', length: '64' },
          { name: 'lst', type: 'text' },
          { name: 'version', type: 'integer' },
          { name: 'jwt', type: 'text' },
          time('updatedAt'),
        ],
      }),
    )
    await q.createTable(
      new Table({
        name: 'medcred_token_status_entry',
        columns: [
          { name: 'listId', type: 'varchar', length: '36', isPrimary: true },
          { name: 'idx', type: 'integer', isPrimary: true },
          { name: 'issuerInstitutionId', type: 'varchar', length: '36' },
          { name: 'credentialId', type: 'varchar', length: '300' },
          { name: 'state', type: 'varchar', length: '16' },
        ],
      }),
    )
    await q.createIndex('medcred_token_status_entry', new TableIndex({ name: 'IDX_token_status_entry_credential', columnNames: ['issuerInstitutionId', 'credentialId'], isUnique: true }))
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('medcred_token_status_entry')
    await q.dropTable('medcred_token_status_list')
    await q.dropTable('medcred_patient_token_use')
    await q.dropTable('medcred_consent')
  }
}
