import { randomUUID } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Signature, Wallet, computeAddress } from 'ethers'
import { EthrDidController } from 'ethr-did-resolver'
import { decodeJWT } from 'did-jwt'
import type { DataSource } from 'typeorm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RegistryWriter } from '../src/chain/registry-writer.js'
import { SerialQueue } from '../src/chain/serial-queue.js'
import { createDataSource } from '../src/db/data-source.js'
import { Database } from '../src/db/database.js'
import { AppError } from '../src/errors.js'
import { HolderWallet } from '../src/holder/wallet.js'
import { InstitutionEntity } from '../src/institutions/institution.entity.js'
import { KeyRotationEntity, type KeyRotationRow } from '../src/institutions/key-rotation.entity.js'
import { KeyRotationService } from '../src/institutions/key-rotation.js'
import { Bitstring } from '../src/status/bitstring.js'
import { StatusService } from '../src/status/service.js'
import { StatusListEntity } from '../src/status/status.entities.js'
import { TEST_DB, createTestDatabase } from './helpers/database.js'
import { licenseCredential } from './helpers/fixtures.js'
import { AuditLog } from '../src/audit/audit-log.js'
import { systemActing } from '../src/audit/acting.js'

const BY = systemActing('key-rotation-test')
import { startTestService, type TestService } from './helpers/service.js'

/**
 * Key rotation under concurrency: one rotation per institution at a time (409 for the others, in one
 * process and across two "replicas"), nothing signed with a key on its way out, and a rotation a crash
 * left pending finished later with the block of its own ownership change.
 */
describe('key rotation: exclusive, resumable', () => {
  let svc: TestService
  let clinician: HolderWallet
  /** A second replica's database handle: its own connection pool on PostgreSQL; SQLite serves one process. */
  let ds2: DataSource | undefined
  let db2: Database
  let status2: StatusService
  let audit2: AuditLog

  beforeAll(async () => {
    svc = await startTestService()
    clinician = await HolderWallet.create()
    if (TEST_DB === 'postgres') {
      ds2 = createDataSource({ databaseUrl: svc.database.url, dataDir: svc.dataDir })
      await ds2.initialize()
      db2 = new Database(ds2)
    } else {
      db2 = svc.store
    }
    audit2 = db2 === svc.store ? svc.audit : new AuditLog(db2, { chainId: svc.chain.chainId, registry: svc.chain.registry })
    status2 = new StatusService({ db: db2, agent: svc.agent, resolver: svc.verifyContext.resolver, publicUrl: svc.config.publicUrl, notifier: svc.notifier, bitstringTtlMs: svc.config.statusLists.bitstringTtlMs, audit: audit2 })
  })
  afterAll(async () => {
    await ds2?.destroy()
    await svc?.dispose()
  })

  const newBoard = (name: string) => svc.api.createTrustedBoard(name)
  const issueRaw = (apiKey: string) => svc.api.post('/credentials/issue', { credential: licenseCredential(clinician.did) }, apiKey)
  const issue = async (apiKey: string) => {
    const res = await issueRaw(apiKey)
    expect(res.status).toBe(201)
    return res.body.verifiableCredential
  }
  const verify = (vc: unknown) => svc.api.post('/credentials/verify', { verifiableCredential: vc })
  const proofDetail = async (vc: unknown) => (await verify(vc)).body.checks.find((c: any) => c.check === 'proof').detail as string
  const rotate = (id: string, reason: string, token: string) => svc.api.post(`/institutions/${id}/keys/rotate`, { reason }, token)
  const rotations = (institutionId: string) => svc.db.getRepository(KeyRotationEntity).find({ where: { institutionId }, order: { requestedAt: 'ASC' } })
  const expectConflict = (res: { status: number; type: string; body: any }) => {
    expect(res.status).toBe(409)
    expect(res.type).toBe('application/problem+json')
    expect(res.body.type).toBe('https://medcred.dev/problems/conflict')
  }
  /** Another process sending with the same operator key: its own queue, its own database handle. */
  const replicaWriter = () => new RegistryWriter({ agent: svc.agent, chain: { ...svc.chain, operatorQueue: new SerialQueue() }, db: db2 })

  /** What a rotation records before sending its transaction: a new key on the DID, and a pending row. */
  async function pendingRotation(board: { id: string; did: string }, requestedAt = new Date(), s: TestService = svc): Promise<KeyRotationRow> {
    const { signingKid } = await s.db.getRepository(InstitutionEntity).findOneByOrFail({ id: board.id })
    const key = await s.store.write(async () => {
      const created = await s.agent.keyManagerCreate({ kms: 'local', type: 'Secp256k1' })
      await s.agent.didManagerAddKey({ did: board.did, key: created, options: { localOnly: true } })
      return created
    })
    const row: KeyRotationRow = {
      id: randomUUID(),
      institutionId: board.id,
      did: board.did,
      oldKid: signingKid!,
      newKid: key.kid,
      reason: 'superseded',
      status: 'pending',
      txHash: null,
      blockNumber: null,
      requestedAt: requestedAt.toISOString(),
      rotatedAt: null,
    }
    await s.store.transaction((m) => m.getRepository(KeyRotationEntity).insert(row))
    return row
  }

  it('answers six parallel rotations with one 200 and five 409 problems, never a 500; the institution then issues and rotates again', async () => {
    const board = await newBoard('Parallel Board')
    const before = await issue(board.apiKey)
    const replies = await Promise.all(Array.from({ length: 6 }, () => rotate(board.id, 'superseded', board.apiKey)))
    expect(replies.map((r) => r.status).sort()).toEqual([200, 409, 409, 409, 409, 409])
    for (const res of replies.filter((r) => r.status !== 200)) {
      expectConflict(res)
      expect(res.body.detail).toMatch(/key rotation is already in progress/)
    }
    expect((await rotations(board.id)).map((r) => r.status)).toEqual(['done'])

    expect(await proofDetail(before)).toMatch(/superseded at block/)
    const after = await issue(board.apiKey)
    expect((await verify(after)).status).toBe(200)
    expect((await rotate(board.id, 'superseded', board.apiKey)).status).toBe(200)
    expect((await verify(await issue(board.apiKey))).status).toBe(200)
    expect((await verify(before)).status).toBe(200)
  })

  it('lets one of two replicas rotate at a time: the other answers 409 (conflict), and the rotation lands once', async () => {
    const board = await newBoard('Two Replica Board')
    const { resolver } = svc.verifyContext
    const replica2 = new KeyRotationService({ db: db2, agent: svc.agent, chain: svc.chain, registry: replicaWriter(), resolver, status: status2, audit: audit2 })
    const results = await Promise.allSettled(
      [svc.services.keyRotation, replica2, svc.services.keyRotation, replica2].map((s) => s.rotate({ id: board.id }, 'superseded', BY)),
    )
    const ok = results.filter((r) => r.status === 'fulfilled')
    expect(ok).toHaveLength(1)
    for (const r of results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')) {
      expect(r.reason).toBeInstanceOf(AppError)
      expect((r.reason as AppError).code).toBe('conflict')
    }
    const rows = await rotations(board.id)
    expect(rows.map((r) => r.status)).toEqual(['done'])
    const { signingKid } = await svc.db.getRepository(InstitutionEntity).findOneByOrFail({ id: board.id })
    expect(signingKid).toBe(rows[0].newKid)
    expect((await verify(await issue(board.apiKey))).status).toBe(200)
  })

  it('refuses to sign (409) while a rotation is pending: no credential, no status change with the outgoing key', async () => {
    const board = await newBoard('Pending Board')
    const vc = await issue(board.apiKey)
    const rotation = await pendingRotation(board)
    const issued = await issueRaw(board.apiKey)
    expectConflict(issued)
    expect(issued.body.detail).toMatch(/key rotation is in progress/)
    const revoked = await svc.api.post('/credentials/status', { credentialId: vc.id, credentialStatus: [{ type: 'StatusList2021Entry', status: 'revoked' }] }, board.apiKey)
    expectConflict(revoked)
    // A second rotation while this one may still be running elsewhere is refused too.
    const again = await rotate(board.id, 'compromised', board.apiKey)
    expectConflict(again)
    expect(again.body.detail).toMatch(/already in progress/)
    expect((await rotations(board.id)).map((r) => [r.id, r.status])).toEqual([[rotation.id, 'pending']])

    // Finished (its transaction sent now), signing resumes with the new key.
    const { finished } = await svc.services.keyRotation.resumePending(BY)
    expect(finished.map((r) => [r.id, r.status])).toEqual([[rotation.id, 'done']])
    expect((await verify(await issue(board.apiKey))).status).toBe(200)
    expect((await verify(vc)).status).toBe(200)
  })

  it('keeps issuance and revocations racing a rotation right: each is signed with a key that stays, or refused (409)', async () => {
    const board = await newBoard('Racing Board')
    const vcs = await Promise.all(Array.from({ length: 6 }, () => issue(board.apiKey)))
    const revoke = (id: string) => svc.api.post('/credentials/status', { credentialId: id, credentialStatus: [{ type: 'StatusList2021Entry', status: 'revoked' }] }, board.apiKey)
    const [rotated, ...raced] = await Promise.all([
      rotate(board.id, 'superseded', board.apiKey),
      ...vcs.map((vc) => revoke(vc.id)),
      ...Array.from({ length: 4 }, () => issueRaw(board.apiKey)),
    ])
    expect(rotated.status).toBe(200)
    const revocations = raced.slice(0, vcs.length)
    const issued = raced.slice(vcs.length)
    for (const res of raced) expect([200, 201, 409]).toContain(res.status)
    // Refused while the rotation was pending: the retry goes through with the new key.
    for (const [i, res] of revocations.entries()) if (res.status === 409) expect((await revoke(vcs[i].id)).status).toBe(200)
    for (const vc of vcs) expect((await verify(vc)).body.errors).toEqual([{ check: 'status', detail: 'revoked' }])
    for (const res of issued.filter((r) => r.status === 201)) expect((await verify(res.body.verifiableCredential)).status).toBe(200)
  })

  it('re-signs a status list from the bits a concurrent status change commits, never over them', async () => {
    const board = await newBoard('Resign Board')
    const vc = await issue(board.apiKey)
    const entry = vc.credentialStatus.find((e: any) => e.statusPurpose === 'revocation')
    const listId = svc.services.status.localListId(entry.statusListCredential)!
    const index = Number(entry.statusListIndex)
    const versionBefore = (await svc.services.status.published(listId))!.version
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    let holding!: () => void
    const held = new Promise<void>((resolve) => (holding = resolve))
    // A revocation mid-flight: the list locked, its bit set, not committed yet.
    const change = svc.store.transaction(async (m) => {
      const qb = m.getRepository(StatusListEntity).createQueryBuilder('l').where('l.id = :id', { id: listId })
      if (svc.store.isPostgres) qb.setLock('pessimistic_write')
      const list = await qb.getOneOrFail()
      const bits = Bitstring.fromBytes(Buffer.from(list.bits, 'base64'))
      bits.set(index, true)
      await m.getRepository(StatusListEntity).update({ id: listId }, { bits: Buffer.from(bits.bytes).toString('base64'), version: list.version + 1 })
      holding()
      await gate
    })
    await held
    const institution = await svc.db.getRepository(InstitutionEntity).findOneByOrFail({ id: board.id })
    const resign = db2.transaction((m) => status2.resignAll(m, institution))
    await new Promise((resolve) => setTimeout(resolve, 200)) // unlocked, the re-sign would read the old bits now
    release()
    await Promise.all([change, resign])
    const published = (await svc.services.status.published(listId))!
    const subject = (decodeJWT(published.jwt).payload as any).vc.credentialSubject
    expect(Bitstring.decode(subject.encodedList).get(index)).toBe(true)
    expect(published.version).toBe(versionBefore + 2)
  })

  it('resumes a rotation whose ownership change landed before a crash, recording the block of that change', async () => {
    const board = await newBoard('Crashed Board')
    const old = await issue(board.apiKey)
    const rotation = await pendingRotation(board)
    const writer = new RegistryWriter({ agent: svc.agent, chain: svc.chain, db: svc.store })
    const newOwner = computeAddress(`0x${(await svc.agent.keyManagerGet({ kid: rotation.newKid })).publicKeyHex}`)
    const landed = await writer.changeOwner(board.did, rotation.oldKid, newOwner)
    // The "crash": the switch never ran. A later write to the DID moves its `changed` block past the rotation's
    // (signed with the registry's nonce of the new owner: RegistryWriter's attribute hash uses the identity's).
    const controller = new EthrDidController(board.did, undefined, svc.chain.operator as never, svc.chain.network, svc.chain.provider as never, undefined, svc.chain.registry, false)
    const hash = await controller.createSetAttributeHash('did/svc/Later', 'https://later.example', 86400)
    const sig = Signature.from(await svc.agent.keyManagerSign({ keyRef: rotation.newKid, data: hash, algorithm: 'eth_rawSign', encoding: 'hex' }))
    await controller.setAttributeSigned('did/svc/Later', 'https://later.example', 86400, { sigV: sig.v, sigR: sig.r, sigS: sig.s }, { gasLimit: 200_000 })
    await svc.chain.provider.send('evm_mine', [])
    expect(await svc.chain.provider.getBlockNumber()).toBeGreaterThan(landed.blockNumber + 1)

    const { finished, failed } = await svc.services.keyRotation.resumePending(BY)
    expect(failed).toEqual([])
    expect(finished).toEqual([expect.objectContaining({ id: rotation.id, status: 'done', txHash: landed.txHash, blockNumber: landed.blockNumber })])
    const { signingKid } = await svc.db.getRepository(InstitutionEntity).findOneByOrFail({ id: board.id })
    expect(signingKid).toBe(rotation.newKid)

    expect(await proofDetail(old)).toMatch(new RegExp(`superseded at block ${landed.blockNumber};`))
    expect((await verify(old)).status).toBe(200)
    expect((await verify(await issue(board.apiKey))).status).toBe(200)
    // Nothing left to resume; a second pass changes nothing.
    expect(await svc.services.keyRotation.resumePending(BY)).toEqual({ finished: [], failed: [] })
  })

  it('finishes at start a rotation a crash left pending', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'medcred-rotation-crash-'))
    const database = await createTestDatabase()
    let first: TestService | undefined
    let second: TestService | undefined
    try {
      first = await startTestService({ dataDir, database })
      const board = await first.api.createTrustedBoard('Restarted Board')
      const old = (await first.api.post('/credentials/issue', { credential: licenseCredential(clinician.did) }, board.apiKey)).body.verifiableCredential
      const rotation = await pendingRotation(board, new Date(), first)
      await first.stop() // the "crash": recorded, never sent
      first = undefined

      second = await startTestService({ dataDir, database })
      const repo = second.db.getRepository(KeyRotationEntity)
      await expect.poll(async () => (await repo.findOneByOrFail({ id: rotation.id })).status, { timeout: 10_000 }).toBe('done')
      expect((await second.db.getRepository(InstitutionEntity).findOneByOrFail({ id: board.id })).signingKid).toBe(rotation.newKid)
      const verified = await second.api.post('/credentials/verify', { verifiableCredential: old })
      expect(verified.status).toBe(200)
      const fresh = await second.api.post('/credentials/issue', { credential: licenseCredential(clinician.did) }, board.apiKey)
      expect((await second.api.post('/credentials/verify', { verifiableCredential: fresh.body.verifiableCredential })).status).toBe(200)
    } finally {
      await first?.stop()
      await second?.stop()
      await database.drop()
      fs.rmSync(dataDir, { recursive: true, force: true })
    }
  })

  it('takes over a stale pending rotation (its process died) and then rotates as asked', async () => {
    const board = await newBoard('Stale Board')
    const old = await issue(board.apiKey)
    const stale = await pendingRotation(board, new Date(Date.now() - 3600_000))
    const res = await rotate(board.id, 'superseded', board.apiKey)
    expect(res.status).toBe(200)
    const rows = await rotations(board.id)
    expect(rows.map((r) => [r.id === stale.id, r.status])).toEqual([
      [true, 'done'],
      [false, 'done'],
    ])
    expect(rows[1].oldKid).toBe(stale.newKid)
    expect(rows[0].blockNumber).toBeLessThan(rows[1].blockNumber!)
    expect((await verify(old)).status).toBe(200)
    expect((await verify(await issue(board.apiKey))).status).toBe(200)
  })

  it('closes a pending rotation the chain can never complete (owner changed outside medcred) as abandoned: 409, no longer blocking', async () => {
    const board = await newBoard('Hijacked Board')
    const { signingKid } = await svc.db.getRepository(InstitutionEntity).findOneByOrFail({ id: board.id })
    const rotation = await pendingRotation(board, new Date(Date.now() - 3600_000))
    await new RegistryWriter({ agent: svc.agent, chain: svc.chain, db: svc.store }).changeOwner(board.did, signingKid!, Wallet.createRandom().address)
    const res = await rotate(board.id, 'compromised', board.apiKey)
    expectConflict(res)
    expect(res.body.detail).toMatch(/neither the old signing key nor the new one; the rotation was abandoned/)
    const rows = await rotations(board.id)
    expect(rows.find((r) => r.id === rotation.id)?.status).toBe('abandoned')
    expect(rows.filter((r) => r.status === 'pending')).toEqual([])
  })

  it('turns a registry transaction that reverts (a key no longer the owner) into a conflict, not an internal error', async () => {
    const board = await newBoard('Reverted Board')
    const { signingKid: oldKid } = await svc.db.getRepository(InstitutionEntity).findOneByOrFail({ id: board.id })
    expect((await rotate(board.id, 'superseded', board.apiKey)).status).toBe(200)
    const writer = new RegistryWriter({ agent: svc.agent, chain: svc.chain, db: svc.store })
    const attempt = writer.changeOwner(board.did, oldKid!, Wallet.createRandom().address)
    await expect(attempt).rejects.toBeInstanceOf(AppError)
    await expect(attempt).rejects.toMatchObject({ code: 'conflict', detail: expect.stringMatching(/reverted/) })
  })

  it('sends operator transactions from two replicas one nonce at a time (the operator lock is in the database)', async () => {
    const boards = await Promise.all([newBoard('Nonce Board A'), newBoard('Nonce Board B')])
    const kids = await Promise.all(boards.map(async (b) => (await svc.db.getRepository(InstitutionEntity).findOneByOrFail({ id: b.id })).signingKid!))
    const writers = [new RegistryWriter({ agent: svc.agent, chain: svc.chain, db: svc.store }), replicaWriter()]
    const sent = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => writers[i % 2].setAttribute(boards[i % 2].did, kids[i % 2], `did/svc/Nonce${i}`, `https://n${i}.example`)),
    )
    expect(sent.filter((r) => r.status === 'rejected')).toEqual([])
    const blocks = sent.map((r) => (r as PromiseFulfilledResult<{ blockNumber: number }>).value.blockNumber)
    expect(new Set(blocks).size).toBe(8)
  })
})
