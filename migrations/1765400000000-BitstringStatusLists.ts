import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm'

/**
 * Status lists get a format: the StatusList2021 lists of VC 1.1 credentials (every list so far), or the
 * Bitstring Status List v1.0 lists of VC 2.0 credentials, signed as vc+jwt. Indexes are allocated per list
 * as before, so the two never share a list.
 */
export class BitstringStatusLists1765400000000 implements MigrationInterface {
  name = 'BitstringStatusLists1765400000000'

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('medcred_status_list', new TableColumn({ name: 'format', type: 'varchar', length: '32', default: "'StatusList2021'" }))
  }

  async down(q: QueryRunner): Promise<void> {
    const bitstring = await q.query(`SELECT COUNT(*) AS "n" FROM "medcred_status_list" WHERE "format" <> 'StatusList2021'`)
    if (Number(bitstring[0]?.n ?? 0) > 0) {
      // Dropping the column would turn VC 2.0 credentials' lists into StatusList2021 ones, signed in the wrong format.
      throw new Error('BitstringStatusLists1765400000000 cannot be reverted while Bitstring Status Lists exist')
    }
    await q.dropColumn('medcred_status_list', 'format')
  }
}
