import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm'

/** Wallet protocols: OID4VCI credential offers and key-proof nonces, OID4VP authorization requests. */
export class CreateOid4vcTables1765100000000 implements MigrationInterface {
  name = 'CreateOid4vcTables1765100000000'

  async up(q: QueryRunner): Promise<void> {
    const time = (name: string, nullable = false) => ({ name, type: 'varchar', length: '30', isNullable: nullable })
    const hash = (name: string, nullable = false) => ({ name, type: 'varchar', length: '64', isNullable: nullable })
    await q.createTable(
      new Table({
        name: 'medcred_oid4vci_offer',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'issuerInstitutionId', type: 'varchar', length: '36' },
          hash('codeHash'),
          hash('txCodeHash', true),
          { name: 'txCodeFailures', type: 'integer', default: 0 },
          { name: 'state', type: 'varchar', length: '24' },
          { name: 'format', type: 'varchar', length: '32' },
          { name: 'configurationId', type: 'varchar', length: '100' },
          { name: 'credential', type: 'text', isNullable: true },
          { name: 'receiptId', type: 'varchar', length: '36', isNullable: true },
          { name: 'boundDid', type: 'varchar', length: '300', isNullable: true },
          hash('accessTokenHash', true),
          time('tokenExpiresAt', true),
          { name: 'credentialId', type: 'varchar', length: '300', isNullable: true },
          { name: 'subjectDid', type: 'varchar', length: '300', isNullable: true },
          time('expiresAt'),
          time('createdAt'),
          time('tokenIssuedAt', true),
          time('credentialIssuedAt', true),
        ],
      }),
    )
    await q.createIndex('medcred_oid4vci_offer', new TableIndex({ name: 'IDX_oid4vci_offer_code', columnNames: ['codeHash'], isUnique: true }))
    await q.createIndex('medcred_oid4vci_offer', new TableIndex({ name: 'IDX_oid4vci_offer_token', columnNames: ['accessTokenHash'], isUnique: true }))
    await q.createTable(
      new Table({
        name: 'medcred_oid4vci_nonce',
        columns: [
          { ...hash('nonceHash'), isPrimary: true },
          { name: 'issuerInstitutionId', type: 'varchar', length: '36' },
          time('expiresAt'),
          time('usedAt', true),
        ],
      }),
    )
    await q.createTable(
      new Table({
        name: 'medcred_oid4vp_request',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'institutionId', type: 'varchar', length: '36' },
          { name: 'clientId', type: 'varchar', length: '300' },
          { name: 'nonce', type: 'varchar', length: '64' },
          hash('stateHash'),
          { name: 'purpose', type: 'varchar', length: '32' },
          { name: 'credentialTypes', type: 'text' },
          { name: 'acceptReceipts', type: 'boolean' },
          { name: 'requestJwt', type: 'text' },
          { name: 'status', type: 'varchar', length: '24' },
          { name: 'holderDid', type: 'varchar', length: '300', isNullable: true },
          { name: 'verificationId', type: 'varchar', length: '36', isNullable: true },
          { name: 'outcome', type: 'text', isNullable: true },
          { name: 'receiptOfferIds', type: 'text', isNullable: true },
          time('expiresAt'),
          time('createdAt'),
          time('respondedAt', true),
        ],
      }),
    )
    await q.createIndex('medcred_oid4vp_request', new TableIndex({ name: 'IDX_oid4vp_request_institution', columnNames: ['institutionId'] }))
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('medcred_oid4vp_request')
    await q.dropTable('medcred_oid4vci_nonce')
    await q.dropTable('medcred_oid4vci_offer')
  }
}
