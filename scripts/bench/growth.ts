import { createHash, randomUUID } from 'node:crypto'
import { eventProof } from '../../src/audit/read.js'
import { HolderWallet } from '../../src/holder/wallet.js'
import { InstitutionEntity } from '../../src/institutions/institution.entity.js'
import { verifyCredential } from '../../src/verification/verify-credential.js'
import { issueBenchLicense, msPerOp, opsPerSecond, trustedBenchBoard, type BenchContext, type Figure } from './harness.js'

interface RawSqlite {
  prepare(sql: string): { run(...p: unknown[]): unknown; get(...p: unknown[]): any }
  transaction<T extends (...a: any[]) => void>(fn: T): T
}

/**
 * How costs grow with the data: verification with 1 and with 100,000 issued credentials; an audit append
 * and an inclusion proof with a short trail and with 1,000,000 events; a status change in an empty list and
 * in a full one (131,072 entries). The bulk rows are written straight into SQLite: what is measured is
 * the operation on a database of that size, not how it got there.
 */
export async function benchGrowth(ctx: BenchContext): Promise<Figure[]> {
  const { medcred } = ctx
  await medcred.auditAnchorer.stop() // the synthetic batches below are the only ones
  const sqlite = (medcred.db.driver as unknown as { databaseConnection: RawSqlite }).databaseConnection
  const board = await trustedBenchBoard(ctx, 'Growth Bench Board')
  const holder = await HolderWallet.create()
  const license = await issueBenchLicense(ctx, board, holder.did)
  const verify = async () => {
    const r = await verifyCredential(license, medcred.verifyContext)
    if (!r.verified) throw new Error('growth bench license did not verify')
  }

  const verifyFew = await opsPerSecond(verify)
  const insertCredential = sqlite.prepare(
    'INSERT INTO medcred_issued_credential (id, "issuerInstitutionId", "issuerDid", "subjectDid", type, jwt, digest, "issuedAt") VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  )
  sqlite.transaction(() => {
    for (let i = 0; i < 100_000; i++) {
      insertCredential.run(`urn:uuid:${randomUUID()}`, board.id, board.did, holder.did, 'ClinicianLicenseCredential', license.proof.jwt, hex(`c${i}`), new Date().toISOString())
    }
  })()
  checkpoint(sqlite)
  const verifyMany = await opsPerSecond(verify)

  // Audit: an append and a proof on the trail as it is (a few events), then at 1,000,000 events.
  const actor = { type: 'institution' as const, id: board.id, did: board.did }
  const append = () => medcred.store.transaction((m) => medcred.audit.append(m, { actor, action: 'credential.verified', outcome: 'success' }))
  const appendFew = await opsPerSecond(append)
  const addEvents = (count: number): number => {
    const head = sqlite.prepare('SELECT "lastSeq", "lastHash" FROM medcred_audit_head').get()
    const insertEvent = sqlite.prepare(
      'INSERT INTO medcred_audit_event (seq, time, "actorType", "actorId", "actorDid", action, "subjectType", "subjectId", "subjectIssuerInstitutionId", outcome, "requestId", detail, "prevHash", hash) VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, NULL, ?, NULL, NULL, ?, ?)',
    )
    const insertBatch = sqlite.prepare('INSERT INTO medcred_audit_anchor ("fromSeq", "toSeq", root, status, "createdAt", attempts) VALUES (?, ?, ?, ?, ?, 0)')
    let seq = Number(head.lastSeq)
    let prev = head.lastHash as string
    let lastBatchFrom = 0
    const time = new Date().toISOString()
    sqlite.transaction(() => {
      const first = seq + 1
      for (let i = 0; i < count; i++) {
        seq++
        const h = hex(`e${seq}`)
        insertEvent.run(seq, time, 'institution', board.id, board.did, 'credential.verified', 'success', prev, h)
        prev = h
        if ((seq - first + 1) % 100 === 0) insertBatch.run((lastBatchFrom = seq - 99), seq, hex(`b${seq}`), 'pending', time)
      }
      sqlite.prepare('UPDATE medcred_audit_head SET "lastSeq" = ?, "lastHash" = ?').run(seq, prev)
    })()
    return lastBatchFrom + 50 // an event in the last batch
  }
  const proofOf = (seq: number) => () => eventProof(medcred.db.manager, { kind: 'admin' }, seq, { chainId: medcred.chain.chainId, registry: medcred.chain.registry })
  const early = addEvents(100)
  const proofFew = await msPerOp(proofOf(early), 200)
  const late = addEvents(1_000_000 - 100)
  checkpoint(sqlite)
  const appendMany = await opsPerSecond(append)
  const proofMany = await msPerOp(proofOf(late), 200)

  // Status: a change in a list with one entry, then with all 131,072 entries allocated.
  const row = await medcred.db.getRepository(InstitutionEntity).findOneByOrFail({ id: board.id })
  const target = await issueBenchLicense(ctx, board, holder.did, 'G-2')
  let suspended = false
  const toggle = () => {
    suspended = !suspended
    return medcred.services.status.change(row, target.id, [{ type: 'StatusList2021Entry', status: suspended ? 'suspended' : 'active' }], 'administrative', { actor: { type: 'institution', id: row.id, did: row.did } })
  }
  const changeFew = await msPerOp(toggle, 20)
  const list = sqlite.prepare('SELECT "listId", "index" FROM medcred_status_entry WHERE "credentialId" = ? AND purpose = ?').get(target.id, 'suspension')
  const taken = new Set<number>(
    (sqlite.prepare('SELECT "index" FROM medcred_status_entry WHERE "listId" = ?') as unknown as { all(p: unknown): { index: number }[] }).all(list.listId).map((r) => r.index),
  )
  const insertEntry = sqlite.prepare('INSERT INTO medcred_status_entry ("listId", "index", "issuerInstitutionId", "credentialId", purpose, state) VALUES (?, ?, ?, ?, ?, ?)')
  sqlite.transaction(() => {
    for (let i = 0; i < 131_072; i++) if (!taken.has(i)) insertEntry.run(list.listId, i, board.id, `urn:uuid:${randomUUID()}`, 'suspension', 'active')
    sqlite.prepare('UPDATE medcred_status_list SET allocated = size WHERE id = ?').run(list.listId)
  })()
  const changeFull = await msPerOp(toggle, 20)

  return [
    { name: 'verification with 100,000 issued credentials', value: verifyMany, unit: 'ops/s', baseline: { name: 'with 1', value: verifyFew }, target: 'within 10 %' },
    { name: 'audit append at 1,000,000 events', value: appendMany, unit: 'ops/s', baseline: { name: 'at a few events', value: appendFew }, target: 'flat' },
    { name: 'audit inclusion proof at 1,000,000 events', value: proofMany, unit: 'ms', baseline: { name: 'at 100 events', value: proofFew }, target: 'logarithmic' },
    { name: 'status change in a full list (131,072 entries)', value: changeFull, unit: 'ms', baseline: { name: 'in a list with one entry', value: changeFew } },
  ]
}

/** What SQLite does by itself as writes go on: fold the write-ahead log into the file (a bulk insert leaves it huge). */
const checkpoint = (sqlite: RawSqlite) => sqlite.prepare('PRAGMA wal_checkpoint(TRUNCATE)').get()

const hex = (s: string) => createHash('sha256').update(s).digest('hex')
