import { Transaction, Wallet, makeError, type JsonRpcProvider } from 'ethers'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { DEFAULT_CEILING_MARKET_MULTIPLE, OperatorSender, type Resend } from '../src/chain/operator-send.js'
import { AppError } from '../src/errors.js'

const gwei = 1_000_000_000n
const EIP1559_MARKET = { gasPrice: null, maxFeePerGas: 3n * gwei, maxPriorityFeePerGas: gwei }
const LEGACY_MARKET = { gasPrice: 2n * gwei, maxFeePerGas: null, maxPriorityFeePerGas: null }

/**
 * FAKE node, for the fee policy only: a stand-in for the JSON-RPC provider that never mines, holds one
 * transaction per nonce and takes a replacement only at +10% on its fees (as geth's pool does). `hidden`
 * makes it answer null for what it holds (a load-balanced RPC whose read backend has not seen the
 * transaction yet); `forget()` empties its pool (a restart). What a real node does is pinned against anvil
 * in faults.operator-tx.test.ts.
 */
class FakeNode {
  pollingInterval = 100
  hidden = false
  readonly pool = new Map<number, Transaction>()
  /** Every eth_sendRawTransaction, accepted or not. */
  readonly broadcasts: { at: number; raw: string; tx: Transaction }[] = []

  constructor(private readonly market: typeof EIP1559_MARKET | typeof LEGACY_MARKET = EIP1559_MARKET) {}

  async getTransactionCount(): Promise<number> {
    return 0 // nothing is ever mined
  }
  async getTransaction(hash: string): Promise<Transaction | null> {
    return this.hidden ? null : ([...this.pool.values()].find((t) => t.hash === hash) ?? null)
  }
  async getTransactionReceipt(): Promise<null> {
    return null
  }
  async getFeeData() {
    return this.market
  }
  async send(method: string, [raw]: [string]): Promise<string> {
    if (method !== 'eth_sendRawTransaction') throw new Error(`the fake node does not answer ${method}`)
    const tx = Transaction.from(raw)
    this.broadcasts.push({ at: Date.now(), raw, tx })
    const held = this.pool.get(tx.nonce)
    if (held?.hash === tx.hash) throw new Error('already known')
    if (held && !(atLeast110(tx.maxFeePerGas ?? tx.gasPrice!, held.maxFeePerGas ?? held.gasPrice!) && atLeast110(tx.maxPriorityFeePerGas ?? tx.gasPrice!, held.maxPriorityFeePerGas ?? held.gasPrice!))) {
      throw makeError('replacement transaction underpriced', 'REPLACEMENT_UNDERPRICED')
    }
    this.pool.set(tx.nonce, tx)
    return tx.hash!
  }
  forget(): void {
    this.pool.clear()
  }
  /** The fee cap of each broadcast, in order (maxFeePerGas, or gasPrice). */
  feeCaps(): bigint[] {
    return this.broadcasts.map((b) => b.tx.maxFeePerGas ?? b.tx.gasPrice!)
  }
}

const atLeast110 = (a: bigint, b: bigint) => a * 100n >= b * 110n

const registryCall = { to: '0x' + '11'.repeat(20), data: '0x1234', gasLimit: 100_000n }

function sender(node: FakeNode, policy: { resendAfterMs: number; maxFeePerGas?: bigint }) {
  const resends: (Resend & { at: number })[] = []
  const s = new OperatorSender({
    wallet: new Wallet(Wallet.createRandom().privateKey),
    provider: node as unknown as JsonRpcProvider,
    chainId: 31337,
    policy,
    onResend: (r) => resends.push({ ...r, at: Date.now() }),
  })
  return { resends, send: (ms: number) => runFor(s.send(registryCall, Date.now() + ms), ms) }
}

/** Runs a send to its deadline on the fake clock; answers what it threw. */
async function runFor(send: Promise<unknown>, ms: number): Promise<unknown> {
  const outcome = send.then(() => new Error('the fake node never mines, yet the send returned'), (e: unknown) => e)
  await vi.advanceTimersByTimeAsync(ms + 200)
  return outcome
}

function expectChainUnavailable(e: unknown): void {
  expect(e).toBeInstanceOf(AppError)
  expect((e as AppError).code).toBe('chain-unavailable')
}

describe('operator fee policy (fake node): fees rise only when stuck or outbid, once per interval, never past the ceiling', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('a node that never shows the pending transaction: no fee ever rises; the same bytes go out again, at most once a second', async () => {
    const node = new FakeNode()
    node.hidden = true
    const { send, resends } = sender(node, { resendAfterMs: 15_000 })
    expectChainUnavailable(await send(3_000))
    expect(node.broadcasts.length).toBeGreaterThan(1)
    expect(node.broadcasts.length).toBeLessThanOrEqual(4)
    expect(new Set(node.broadcasts.map((b) => b.raw)).size).toBe(1)
    expect(node.feeCaps()[0]).toBe(EIP1559_MARKET.maxFeePerGas)
    expect(resends.map((r) => r.reason)).toEqual(resends.map(() => 'dropped'))
    expect(resends.every((r) => r.fees === r.previous)).toBe(true)
  })

  it.each([
    ['EIP-1559', EIP1559_MARKET, EIP1559_MARKET.maxFeePerGas],
    ['legacy gasPrice', LEGACY_MARKET, LEGACY_MARKET.gasPrice],
  ])('a chain that never mines (%s): fees rise at most once per resend interval and stop below ten times the market', async (_, market, marketCap) => {
    const node = new FakeNode(market)
    const { send, resends } = sender(node, { resendAfterMs: 1_000 })
    expectChainUnavailable(await send(30_000)) // thirty intervals: unbounded, a quarter each, would be ×800
    const ceiling = marketCap * DEFAULT_CEILING_MARKET_MULTIPLE
    const caps = node.feeCaps()
    expect(caps[0]).toBe(marketCap)
    expect(caps.every((c) => c <= ceiling)).toBe(true)
    expect(caps.at(-1)! * 125n >= ceiling * 100n).toBe(true) // it climbed to within one bump of the ceiling
    expect(caps.length).toBeLessThanOrEqual(12) // market, then at most 11 bumps of a quarter up to ×10
    const gaps = node.broadcasts.slice(1).map((b, i) => b.at - node.broadcasts[i].at)
    expect(gaps.every((g) => g >= 1_000)).toBe(true)
    expect(resends.every((r) => r.reason === 'stuck')).toBe(true)
  })

  it('a pool holding a far better-paying transaction at the nonce: outbid quickly, but never past the ceiling', async () => {
    const node = new FakeNode()
    const orphan = await new Wallet(Wallet.createRandom().privateKey).signTransaction({
      type: 2, chainId: 31337, nonce: 0, to: registryCall.to, gasLimit: 21_000n,
      maxFeePerGas: 20n * EIP1559_MARKET.maxFeePerGas, maxPriorityFeePerGas: 20n * EIP1559_MARKET.maxPriorityFeePerGas,
    })
    await node.send('eth_sendRawTransaction', [orphan])
    node.broadcasts.length = 0
    const { send, resends } = sender(node, { resendAfterMs: 1_000 })
    expectChainUnavailable(await send(5_000))
    const ceiling = EIP1559_MARKET.maxFeePerGas * DEFAULT_CEILING_MARKET_MULTIPLE
    expect(node.feeCaps().every((c) => c <= ceiling)).toBe(true)
    expect(node.broadcasts.length).toBeLessThanOrEqual(12)
    expect(node.pool.get(0)!.serialized).toBe(orphan)
    expect(resends.every((r) => r.reason === 'underpriced')).toBe(true)
  })

  it('CHAIN_MAX_FEE_GWEI, when set, is the ceiling instead of ten times the market', async () => {
    const node = new FakeNode()
    const { send } = sender(node, { resendAfterMs: 1_000, maxFeePerGas: 50n * gwei })
    expectChainUnavailable(await send(30_000))
    const caps = node.feeCaps()
    expect(caps.every((c) => c <= 50n * gwei)).toBe(true)
    expect(caps.at(-1)! > EIP1559_MARKET.maxFeePerGas * DEFAULT_CEILING_MARKET_MULTIPLE).toBe(true)
  })

  it('a send after a timed-out one whose transaction the node no longer knows starts at the market, not above it', async () => {
    const node = new FakeNode()
    const { send } = sender(node, { resendAfterMs: 1_000 })
    expectChainUnavailable(await send(2_500))
    expect(node.feeCaps().at(-1)! > EIP1559_MARKET.maxFeePerGas).toBe(true) // it had been raised
    node.forget()
    const before = node.broadcasts.length
    expectChainUnavailable(await send(500))
    expect(node.broadcasts[before].tx.maxFeePerGas).toBe(EIP1559_MARKET.maxFeePerGas)
    expect(node.broadcasts[before].tx.maxPriorityFeePerGas).toBe(EIP1559_MARKET.maxPriorityFeePerGas)
  })

  it('a send after a timed-out one whose transaction the node still holds starts above it, so it replaces it', async () => {
    const node = new FakeNode()
    const { send } = sender(node, { resendAfterMs: 1_000 })
    expectChainUnavailable(await send(2_500))
    const left = node.pool.get(0)!
    const before = node.broadcasts.length
    expectChainUnavailable(await send(500))
    const next = node.broadcasts[before].tx
    expect(atLeast110(next.maxFeePerGas!, left.maxFeePerGas!)).toBe(true)
    expect(node.pool.get(0)!.hash).toBe(next.hash)
  })
})
