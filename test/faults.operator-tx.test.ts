import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { raise } from '../src/chain/operator-send.js'
import { loadConfig } from '../src/config.js'
import { HolderWallet } from '../src/holder/wallet.js'
import { InstitutionEntity } from '../src/institutions/institution.entity.js'
import { checkTrail, waitFor } from './helpers/audit.js'
import { licenseCredential } from './helpers/fixtures.js'
import { startTestService, type Reply, type TestService } from './helpers/service.js'

/** What anvil's `txpool_content` shows of one pending transaction. */
interface PoolTx {
  hash: string
  nonce: string
  maxFeePerGas: string
}

/**
 * The operator's transaction is left pending (automine off) or dropped from the node's pool: the writer
 * sends the same nonce again (pending: with higher fees; dropped: the same signed transaction) and watches
 * every transaction it sent, so the request
 * succeeds once one is mined; never mined within TX_TIMEOUT_MS, it is a 503 that changed nothing, and the
 * retry succeeds. Against the real local anvil node.
 */
describe('faults: a stuck operator transaction is sent again with a higher fee, a dropped one as it was', () => {
  let svc: TestService
  let operator: string
  let clinician: HolderWallet

  beforeAll(async () => {
    svc = await startTestService({
      env: {
        TX_TIMEOUT_MS: '6000',
        // Well past the one-second re-broadcast of a dropped transaction, so the drop test sees the same
        // transaction go out again before any fee bump.
        CHAIN_TX_RESEND_AFTER_MS: '2500',
        // No anchoring in the background: the only operator transactions are the ones each test starts.
        AUDIT_ANCHOR_EVERY: '10000',
        AUDIT_ANCHOR_SECONDS: '86400',
      },
    })
    operator = svc.chain.operator.address.toLowerCase()
    clinician = await HolderWallet.create()
  })
  afterAll(async () => {
    await svc?.dispose()
  })

  const rpc = (method: string, params: unknown[] = []) => svc.chain.provider.send(method, params)
  /** The operator's transactions in the node's pool, one per nonce. */
  const pending = async (): Promise<PoolTx[]> => {
    const pool = (await rpc('txpool_content')) as { pending: Record<string, Record<string, PoolTx>> }
    const mine = Object.entries(pool.pending).find(([from]) => from.toLowerCase() === operator)?.[1] ?? {}
    return Object.values(mine)
  }
  const latestNonce = () => svc.chain.provider.getTransactionCount(operator, 'latest')
  /** The writer's resend log lines since `from` (an index into svc.logs). */
  const resends = (from: number): { nonce: number; reason: string; feeGwei: string; previousFeeGwei: string }[] =>
    svc.logs
      .slice(from)
      .flatMap((l) => l.split('\n').filter(Boolean))
      .map((l) => JSON.parse(l))
      .filter((l) => l.message === 'operator transaction sent again')
  const rotate = (board: { id: string; apiKey: string }) =>
    svc.api.post(`/institutions/${board.id}/keys/rotate`, { reason: 'superseded' }, board.apiKey)
  const controllerOf = async (did: string): Promise<string> => {
    const res = await svc.api.get(`/1.0/identifiers/${encodeURIComponent(did)}`)
    expect(res.status).toBe(200)
    return res.body.didDocument.verificationMethod.find((m: any) => m.id.endsWith('#controller')).blockchainAccountId
  }
  const count = async (table: string, where = ''): Promise<number> =>
    Number((await svc.db.query(`SELECT count(*) AS n FROM "${table}" ${where}`))[0].n)

  /** Runs `fn` with automine off; automine is back on afterwards, whatever happened. */
  async function withoutAutomine<T>(fn: () => Promise<T>): Promise<T> {
    await rpc('evm_setAutomine', [false])
    try {
      return await fn()
    } finally {
      await rpc('evm_setAutomine', [true])
    }
  }

  it('a key rotation whose transaction stays pending: the same nonce goes out again at a higher fee, replacing it; once mined the rotation is done', async () => {
    const board = await svc.api.createTrustedBoard('Stuck Board')
    const controllerBefore = await controllerOf(board.did)
    const nonce = await latestNonce()
    const mark = svc.logs.length
    const { res, first } = await withoutAutomine(async () => {
      const inFlight = rotate(board)
      const first = await waitFor('the rotation transaction in the pool', async () => (await pending())[0])
      await waitFor('a higher-fee transaction replacing it', async () => {
        const [tx] = await pending()
        return tx && BigInt(tx.maxFeePerGas) > BigInt(first.maxFeePerGas)
      })
      // Replaced, not queued behind: one transaction, at the nonce the chain expects next.
      const pool = await pending()
      expect(pool).toHaveLength(1)
      expect(Number(pool[0].nonce)).toBe(nonce)
      expect(await latestNonce()).toBe(nonce)
      await rpc('evm_mine')
      return { res: await inFlight, first }
    })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    const mined = (await svc.chain.provider.getTransaction(res.body.txHash))!
    expect(mined.nonce).toBe(nonce)
    expect(mined.maxFeePerGas! > BigInt(first.maxFeePerGas)).toBe(true)
    expect(resends(mark).filter((r) => r.reason === 'stuck').length).toBeGreaterThan(0)
    expect(resends(mark).every((r) => r.nonce === nonce && Number(r.feeGwei) > Number(r.previousFeeGwei))).toBe(true)
    // The DID resolves to the new owner, and the service signs with the new key.
    expect(await controllerOf(board.did)).not.toBe(controllerBefore)
    expect(await count('medcred_key_rotation', `WHERE "status" = 'pending'`)).toBe(0)
  })

  it('an institution creation whose transaction the node drops: the same signed transaction is sent again, mined, and the DID is anchored', async () => {
    const nonce = await latestNonce()
    const mark = svc.logs.length
    const dropped = new Set<string>()
    const { res, resent } = await withoutAutomine(async () => {
      const inFlight = svc.api.post('/institutions', { name: 'Dropped Hospital', kind: 'hospital' }, svc.api.adminToken)
      await waitFor('the dropped transaction sent again', async () => {
        const [tx] = await pending()
        if (tx && !dropped.has(tx.hash)) {
          dropped.add(tx.hash)
          await rpc('anvil_dropTransaction', [tx.hash])
        }
        return resends(mark).some((r) => r.reason === 'dropped')
      })
      const resent = await waitFor('the new transaction in the pool', async () => (await pending())[0])
      await rpc('evm_mine')
      return { res: await inFlight, resent }
    })
    expect(res.status, JSON.stringify(res.body)).toBe(201)
    // Not a new transaction: the dropped one again, its bytes (so its hash) and fees unchanged.
    expect([...dropped]).toEqual([resent.hash])
    const mined = (await svc.chain.provider.getTransaction(res.body.anchorTx))!
    expect(mined.nonce).toBe(nonce)
    expect(mined.hash).toBe(resent.hash)
    const drops = resends(mark).filter((r) => r.reason === 'dropped')
    expect(drops.length).toBeGreaterThan(0)
    expect(drops.every((r) => r.feeGwei === r.previousFeeGwei)).toBe(true)
    expect(resends(mark).filter((r) => r.reason !== 'dropped')).toEqual([])
    const doc = await svc.api.get(`/1.0/identifiers/${encodeURIComponent(res.body.did)}`)
    expect(doc.status).toBe(200)
    expect(doc.body.didDocument.service).toEqual([
      expect.objectContaining({ type: 'MedcredInstitution', serviceEndpoint: expect.stringContaining(`/institutions/${res.body.id}`) }),
    ])
  })

  /** A self-transfer from the operator key at `nonce`, paying `times` the market's fees: another sender, or a crashed process. */
  async function foreignTx(nonce: number, times: bigint): Promise<string> {
    const fees = await svc.chain.provider.getFeeData()
    const raw = await svc.chain.operator.signTransaction({
      type: 2, chainId: svc.chain.chainId, nonce, to: operator, value: 0n, gasLimit: 21_000n,
      maxFeePerGas: fees.maxFeePerGas! * times, maxPriorityFeePerGas: fees.maxPriorityFeePerGas! * times,
    })
    return (await rpc('eth_sendRawTransaction', [raw])) as string
  }

  it('a transaction a crashed process left pending at the next nonce is superseded, not queued behind', async () => {
    const nonce = await latestNonce()
    const mark = svc.logs.length
    const { res, stale } = await withoutAutomine(async () => {
      const stale = await foreignTx(nonce, 3n)
      const inFlight = svc.api.post('/institutions', { name: 'After A Crash', kind: 'hospital' }, svc.api.adminToken)
      await waitFor('the stale transaction replaced', async () => {
        const pool = await pending()
        return pool.length === 1 && pool[0].hash !== stale
      })
      await rpc('evm_mine')
      return { res: await inFlight, stale }
    })
    expect(res.status, JSON.stringify(res.body)).toBe(201)
    expect((await svc.chain.provider.getTransaction(res.body.anchorTx))!.nonce).toBe(nonce)
    expect(await svc.chain.provider.getTransactionReceipt(stale)).toBeNull()
    expect(resends(mark).some((r) => r.reason === 'underpriced')).toBe(true)
    expect(await pending()).toEqual([])
  })

  it('another sender takes the nonce: the writer reads the next one and sends there', async () => {
    const nonce = await latestNonce()
    const { res, foreign } = await withoutAutomine(async () => {
      const inFlight = svc.api.post('/institutions', { name: 'Nonce Taken Clinic', kind: 'hospital' }, svc.api.adminToken)
      const ours = await waitFor('the writer transaction in the pool', async () => (await pending())[0])
      await rpc('anvil_dropTransaction', [ours.hash])
      const foreign = await foreignTx(nonce, 10n)
      await rpc('evm_mine')
      expect((await svc.chain.provider.getTransactionReceipt(foreign))?.status).toBe(1)
      await waitFor('the writer on the next nonce', async () => (await pending()).some((tx) => Number(tx.nonce) === nonce + 1))
      await rpc('evm_mine')
      return { res: await inFlight, foreign }
    })
    expect(res.status, JSON.stringify(res.body)).toBe(201)
    expect(res.body.anchorTx).not.toBe(foreign)
    expect((await svc.chain.provider.getTransaction(res.body.anchorTx))!.nonce).toBe(nonce + 1)
    expect((await svc.api.get(`/1.0/identifiers/${encodeURIComponent(res.body.did)}`)).body.didDocument.service).toHaveLength(1)
  })

  it('a rotation never mined within TX_TIMEOUT_MS: 503 with Retry-After, nothing switched; the retry rotates', async () => {
    const board = await svc.api.createTrustedBoard('Unmined Board')
    const controllerBefore = await controllerOf(board.did)
    const signingKid = async () => (await svc.db.getRepository(InstitutionEntity).findOneByOrFail({ id: board.id })).signingKid
    const kidBefore = await signingKid()
    const rotatedEvents = () => count('medcred_audit_event', `WHERE "action" = 'institution.key-rotated'`)
    const eventsBefore = await rotatedEvents()
    await withoutAutomine(async () => {
      const res: Reply = await rotate(board)
      expect(res.status).toBe(503)
      expect(res.type).toMatch(/^application\/problem\+json/)
      expect(res.body).toMatchObject({ type: 'https://medcred.dev/problems/chain-unavailable', status: 503 })
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0)
      // Nothing half-written: the old key still signs, the DID still names it, no rotation event. (Once
      // blocks are made again, the transaction left in the pool may still be mined; the retry finishes
      // the pending rotation either way.)
      expect(await signingKid()).toBe(kidBefore)
      expect(await rotatedEvents()).toBe(eventsBefore)
      expect(await count('medcred_key_rotation', `WHERE "status" = 'pending'`)).toBe(1)
      expect(await controllerOf(board.did)).toBe(controllerBefore)
    })

    const retry = await rotate(board)
    expect(retry.status, JSON.stringify(retry.body)).toBe(200)
    expect(await count('medcred_key_rotation', `WHERE "status" = 'pending'`)).toBe(0)
    expect(await signingKid()).not.toBe(kidBefore)
    expect(await controllerOf(board.did)).not.toBe(controllerBefore)
    expect(await pending()).toEqual([])
    const issued = await svc.api.post('/credentials/issue', { credential: licenseCredential(clinician.did) }, board.apiKey)
    expect(issued.status).toBe(201)
    expect((await svc.api.post('/credentials/verify', { verifiableCredential: issued.body.verifiableCredential })).status).toBe(200)
  })

  it('counts the resends in the metrics', async () => {
    const text = await svc.metrics.text()
    expect(text).toMatch(/medcred_chain_tx_resends_total\{reason="stuck"\} [1-9]/)
    expect(text).toMatch(/medcred_chain_tx_resends_total\{reason="dropped"\} [1-9]/)
  })

  it('leaves an audit trail that verifies, its batch anchored through the same sender', async () => {
    await svc.auditAnchorer.runOnce()
    const report = await checkTrail(svc)
    expect(report.problems).toEqual([])
    expect(report.ok).toBe(true)
  })
})

describe('fee bumps', () => {
  const gwei = 1_000_000_000n
  it('raises both EIP-1559 fees by a quarter, past the +10% a pool needs to take a replacement', () => {
    const next = raise({ maxFeePerGas: 3n * gwei, maxPriorityFeePerGas: gwei }, undefined)
    expect(next).toMatchObject({ maxFeePerGas: expect.any(BigInt), maxPriorityFeePerGas: expect.any(BigInt) })
    const n = next as { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }
    expect(n.maxFeePerGas * 100n >= 3n * gwei * 125n).toBe(true)
    expect(n.maxPriorityFeePerGas * 100n >= gwei * 125n).toBe(true)
    expect(raise({ gasPrice: 0n }, undefined)).toEqual({ gasPrice: 1n })
  })

  it('stops at the cap: no replacement when the cap leaves less than +10%', () => {
    expect(raise({ maxFeePerGas: 10n * gwei, maxPriorityFeePerGas: gwei }, 12n * gwei)).toEqual({ maxFeePerGas: 12n * gwei, maxPriorityFeePerGas: 1_250_000_001n })
    expect(raise({ maxFeePerGas: 10n * gwei, maxPriorityFeePerGas: gwei }, 10n * gwei + 1n)).toBeUndefined()
    expect(raise({ gasPrice: 10n * gwei }, 10n * gwei)).toBeUndefined()
  })

  it('reads CHAIN_TX_RESEND_AFTER_MS and CHAIN_MAX_FEE_GWEI, refusing what is not a fee', () => {
    expect(loadConfig({}).chain).toMatchObject({ txResendAfterMs: 15_000, maxFeePerGas: undefined })
    expect(loadConfig({ CHAIN_TX_RESEND_AFTER_MS: '200', CHAIN_MAX_FEE_GWEI: '0.5' }).chain).toMatchObject({ txResendAfterMs: 200, maxFeePerGas: gwei / 2n })
    expect(() => loadConfig({ CHAIN_MAX_FEE_GWEI: '0' })).toThrow(/CHAIN_MAX_FEE_GWEI/)
    expect(() => loadConfig({ CHAIN_MAX_FEE_GWEI: '1e9' })).toThrow(/CHAIN_MAX_FEE_GWEI/)
    expect(() => loadConfig({ CHAIN_TX_RESEND_AFTER_MS: '10' })).toThrow(/CHAIN_TX_RESEND_AFTER_MS/)
  })
})
