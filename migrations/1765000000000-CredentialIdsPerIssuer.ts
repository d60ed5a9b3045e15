import { TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm'

/**
 * Credential ids are unique per issuer, not across the service: one issuer's choice of id must neither
 * collide with nor reveal another issuer's credentials. The issued-credential key becomes
 * (issuer, id), and status entries carry their issuer so that they are found by (issuer, id) too.
 */
export class CredentialIdsPerIssuer1765000000000 implements MigrationInterface {
  name = 'CredentialIdsPerIssuer1765000000000'

  async up(q: QueryRunner): Promise<void> {
    await q.dropPrimaryKey('medcred_issued_credential')
    await q.createPrimaryKey('medcred_issued_credential', ['issuerInstitutionId', 'id'])
    // Verifiers know a credential by its issuer's DID (the JWT's iss) and id.
    await q.createIndex('medcred_issued_credential', new TableIndex({ name: 'IDX_issued_credential_issuer_did_id', columnNames: ['issuerDid', 'id'] }))

    await q.addColumn('medcred_status_entry', new TableColumn({ name: 'issuerInstitutionId', type: 'varchar', length: '36', default: "''" }))
    await q.query(
      `UPDATE "medcred_status_entry" SET "issuerInstitutionId" = ` +
        `(SELECT l."issuerInstitutionId" FROM "medcred_status_list" l WHERE l."id" = "medcred_status_entry"."listId")`,
    )
    await q.dropIndex('medcred_status_entry', 'IDX_status_entry_credential')
    await q.createIndex(
      'medcred_status_entry',
      new TableIndex({ name: 'IDX_status_entry_credential', columnNames: ['issuerInstitutionId', 'credentialId', 'purpose'], isUnique: true }),
    )
  }

  /** Fails, on purpose, when two issuers have since used the same credential id: the old key cannot hold both. */
  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('medcred_status_entry', 'IDX_status_entry_credential')
    await q.createIndex('medcred_status_entry', new TableIndex({ name: 'IDX_status_entry_credential', columnNames: ['credentialId', 'purpose'], isUnique: true }))
    await q.dropColumn('medcred_status_entry', 'issuerInstitutionId')
    await q.dropIndex('medcred_issued_credential', 'IDX_issued_credential_issuer_did_id')
    await q.dropPrimaryKey('medcred_issued_credential')
    await q.createPrimaryKey('medcred_issued_credential', ['id'])
  }
}
