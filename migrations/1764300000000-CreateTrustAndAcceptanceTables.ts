import { Table, TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm'

/** Trust registry, verification challenges, verifications, acceptance receipts, reliance, credentialing files. */
export class CreateTrustAndAcceptanceTables1764300000000 implements MigrationInterface {
  name = 'CreateTrustAndAcceptanceTables1764300000000'

  async up(q: QueryRunner): Promise<void> {
    const time = (name: string, nullable = false) => ({ name, type: 'varchar', length: '30', isNullable: nullable })
    await q.createTable(
      new Table({
        name: 'medcred_trusted_issuer',
        columns: [
          { name: 'did', type: 'varchar', length: '200', isPrimary: true },
          { name: 'credentialTypes', type: 'text' },
          { name: 'jurisdictions', type: 'text' },
          time('validFrom', true),
          time('validUntil', true),
          time('createdAt'),
        ],
      }),
    )
    await q.createTable(
      new Table({ name: 'medcred_trusted_verifier', columns: [{ name: 'did', type: 'varchar', length: '200', isPrimary: true }, time('createdAt')] }),
    )
    await q.createTable(
      new Table({
        name: 'medcred_challenge',
        columns: [
          { name: 'challenge', type: 'varchar', length: '64', isPrimary: true },
          { name: 'institutionId', type: 'varchar', length: '36' },
          { name: 'domain', type: 'varchar', length: '200' },
          time('expiresAt'),
          time('usedAt', true),
        ],
      }),
    )
    await q.createTable(
      new Table({
        name: 'medcred_verification',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'institutionId', type: 'varchar', length: '36' },
          { name: 'holderDid', type: 'varchar', length: '300', isNullable: true },
          { name: 'purpose', type: 'varchar', length: '32' },
          { name: 'verified', type: 'boolean' },
          { name: 'checks', type: 'text' },
          { name: 'credentialIds', type: 'text' },
          time('createdAt'),
        ],
      }),
    )
    await q.createIndex('medcred_verification', new TableIndex({ name: 'IDX_verification_institution', columnNames: ['institutionId'] }))
    await q.createTable(
      new Table({
        name: 'medcred_receipt',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'verificationId', type: 'varchar', length: '36' },
          { name: 'verifierInstitutionId', type: 'varchar', length: '36' },
          { name: 'credentialId', type: 'varchar', length: '300' },
          { name: 'credentialDigest', type: 'varchar', length: '64' },
          { name: 'issuerDid', type: 'varchar', length: '200' },
          { name: 'subjectDid', type: 'varchar', length: '300', isNullable: true },
          { name: 'jwt', type: 'text' },
          time('createdAt'),
        ],
      }),
    )
    await q.createTable(
      new Table({
        name: 'medcred_reliance',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'institutionId', type: 'varchar', length: '36' },
          { name: 'credentialId', type: 'varchar', length: '300' },
          { name: 'credentialDigest', type: 'varchar', length: '64' },
          { name: 'issuerDid', type: 'varchar', length: '200' },
          { name: 'via', type: 'varchar', length: '16' },
          { name: 'receiptId', type: 'varchar', length: '36', isNullable: true },
          time('createdAt'),
        ],
      }),
    )
    await q.createIndex('medcred_reliance', new TableIndex({ name: 'IDX_reliance_credential', columnNames: ['credentialId'] }))
    await q.createIndex('medcred_reliance', new TableIndex({ name: 'IDX_reliance_issuer', columnNames: ['issuerDid'] }))
    await q.createTable(
      new Table({
        name: 'medcred_credentialing_file',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'institutionId', type: 'varchar', length: '36' },
          { name: 'holderDid', type: 'varchar', length: '300', isNullable: true },
          { name: 'report', type: 'text' },
          time('createdAt'),
        ],
      }),
    )
    await q.addColumn('medcred_institution', new TableColumn({ name: 'receiptWindowDays', type: 'integer', isNullable: true }))
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('medcred_institution', 'receiptWindowDays')
    for (const t of ['medcred_credentialing_file', 'medcred_reliance', 'medcred_receipt', 'medcred_verification', 'medcred_challenge', 'medcred_trusted_verifier', 'medcred_trusted_issuer']) {
      await q.dropTable(t)
    }
  }
}
