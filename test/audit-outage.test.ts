import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { anchorValue } from '../src/audit/anchor-record.js'
import { anchorsOnChain } from '../src/audit/chain-history.js'
import { batches, checkTrail, recordEvents, waitFor } from './helpers/audit.js'
import { ExternalChain } from './helpers/external-chain.js'
import { startTestService, type TestService } from './helpers/service.js'

/**
 * The chain RPC goes away while events keep coming: batches are still cut (pending), anchoring fails and
 * retries; once the node is back every batch is anchored, in order, none skipped.
 */
describe('audit anchoring across an RPC outage', () => {
  let node: ExternalChain
  let svc: TestService

  beforeAll(async () => {
    node = await ExternalChain.start()
    svc = await startTestService({
      env: {
        ...node.env(),
        TX_TIMEOUT_MS: '2000',
        AUDIT_ANCHOR_EVERY: '3',
        AUDIT_ANCHOR_SECONDS: '1',
      },
    })
  })
  afterAll(async () => {
    await svc?.dispose()
    await node?.dispose()
  })

  it('anchors a full batch on its own while the chain is up', async () => {
    await recordEvents(svc, 3)
    const [first] = await waitFor('batch 1-3 anchored', async () => {
      const b = await batches(svc)
      return b[0]?.status === 'anchored' && b
    })
    expect([first.fromSeq, first.toSeq]).toEqual([1, 3])
  })

  it('keeps cutting batches while the chain is down, anchors none of them, and retries the oldest', async () => {
    await node.stop()
    await recordEvents(svc, 4)
    await new Promise((r) => setTimeout(r, 1200)) // the 1 s rule cuts what waits, even a part batch
    await recordEvents(svc, 4)
    await recordEvents(svc, 2)
    const cut = await waitFor(
      'batches up to event 13 cut and the oldest pending retried',
      async () => {
        const b = await batches(svc)
        const pending = b.filter((x) => x.status === 'pending')
        return b.at(-1)?.toSeq === 13 && pending[0]?.attempts >= 2 && b
      },
      20_000,
    )
    expect(cut[0].status).toBe('anchored')
    expect(cut.slice(1).every((b) => b.status === 'pending' && b.txHash === null)).toBe(true)
    expect(cut[1].lastError).toBeTruthy()
    expectTiled(cut, 13)
  })

  it('once the chain is back, anchors every batch, in order, none skipped, and the checker agrees', async () => {
    await node.restart()
    const done = await waitFor(
      'every batch anchored',
      async () => {
        const b = await batches(svc)
        return b.length > 1 && b.every((x) => x.status === 'anchored') && b
      },
      30_000,
    )
    expectTiled(done, 13)
    for (let i = 1; i < done.length; i++) {
      expect(done[i].blockNumber!).toBeGreaterThan(done[i - 1].blockNumber!)
      expect(done[i].anchoredAt! >= done[i - 1].anchoredAt!).toBe(true)
    }
    // the chain's own record of the audit DID's anchors: the same batches, in the same order
    const history = await anchorsOnChain(svc.chain.provider, svc.chain.registry, done[0].did!)
    expect(history.complete).toBe(true)
    expect(history.anchors.map(anchorValue)).toEqual(done.map(anchorValue))

    const report = await checkTrail(svc)
    expect(report.problems).toEqual([])
    expect(report).toMatchObject({ ok: true, lastSeq: 13, unbatched: 0, batches: { anchored: done.length, pending: 0 } })
  }, 40_000)
})

/** Batches cover 1..lastSeq exactly: each starts right after the one before. */
function expectTiled(b: Array<{ fromSeq: number; toSeq: number }>, lastSeq: number): void {
  expect(b[0].fromSeq).toBe(1)
  for (let i = 1; i < b.length; i++) expect(b[i].fromSeq).toBe(b[i - 1].toSeq + 1)
  expect(b.at(-1)!.toSeq).toBe(lastSeq)
}
