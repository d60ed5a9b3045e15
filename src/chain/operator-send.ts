import { Transaction, isError, type JsonRpcProvider, type TransactionReceipt, type Wallet } from 'ethers'
import { AppError } from '../errors.js'

/** A transaction the operator pays for: the registry call, its calldata and a fixed gas limit. */
export interface OperatorTx {
  to: string
  data: string
  gasLimit: bigint
}

export type Fees = { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint } | { gasPrice: bigint }

/**
 * Why a nonce was sent again: no receipt within the resend interval (`stuck`: higher fees), the node no
 * longer knows the last transaction (`dropped`: the same signed transaction again, same fees), or the node
 * holds another transaction at this nonce that pays more (`underpriced`, e.g. one a crashed process left
 * behind: higher fees).
 */
export type ResendReason = 'stuck' | 'dropped' | 'underpriced'

export interface Resend {
  nonce: number
  reason: ResendReason
  /** How many transactions this send has offered for the nonce, this one included (a re-broadcast is not a new one). */
  attempt: number
  fees: Fees
  /** The fees before; equal to `fees` for a `dropped` re-broadcast. */
  previous: Fees
}

export interface SendPolicy {
  /** No receipt this long after the last fees offered: the nonce is sent again with higher fees. */
  resendAfterMs: number
  /**
   * Fees never offered above this (wei per gas). Unset: DEFAULT_CEILING_MARKET_MULTIPLE times the market's
   * fee cap when the send started.
   */
  maxFeePerGas?: bigint
}

/** geth's pool takes a replacement only at +10% on both fees; a quarter more clears it with rounding to spare. */
const BUMP_NUMERATOR = 125n
const BUMP_DENOMINATOR = 100n
const REPLACEMENT_MIN_PERCENT = 110n
/**
 * Without CHAIN_MAX_FEE_GWEI, no send offers more than ten times the fee cap the node quoted when it began
 * (getFeeData's maxFeePerGas, already twice the base fee plus the tip; or gasPrice). That leaves room for
 * the base fee to grow twentyfold (about 25 full blocks in a row at +12.5% each) and ten bumps of a quarter,
 * while one registry write can never cost more than ten times what the market asked for it.
 */
export const DEFAULT_CEILING_MARKET_MULTIPLE = 10n
/** A transaction the node does not show is sent again at most this often: a lagging load-balanced RPC is not spammed. */
export const REBROADCAST_MS = 1000

type Due = 'first' | ResendReason

/** One nonce being offered: the fees of its last transaction, and the last one the node accepted. */
interface Round {
  nonce: number
  attempts: number
  fees?: Fees
  /** The last transaction the node accepted: its hash, fees, and signed bytes to re-broadcast as they are. */
  latest?: { hash: string; raw: string; fees: Fees }
  /** When fees were last offered (the stuck clock), and when anything was last broadcast (the drop clock). */
  sentAt: number
  broadcastAt: number
  /** No fee above this, for the whole send: the absolute cap, or a multiple of the market at its start. */
  ceiling?: bigint
}

/**
 * Sends the operator's transactions itself (explicit nonce and fees) and sees each one mined: a transaction
 * that stays pending is sent again, same nonce, higher fees, at most once per resend interval; one the node
 * does not show is re-broadcast as it was signed, at most once per REBROADCAST_MS (a node that lags behind
 * is no reason to pay more). Every transaction sent for the nonce is watched, since any of them may be the
 * one mined. No fee exceeds the send's ceiling. Callers hold the operator's lock (RegistryWriter), so one
 * send runs at a time per operator key.
 */
export class OperatorSender {
  /** The last transaction the node accepted for a nonce not yet seen mined: while the node knows it, the next send of that nonce must outbid it. */
  private offered?: { nonce: number; fees: Fees; hash: string }

  constructor(
    private readonly deps: {
      wallet: Wallet
      provider: JsonRpcProvider
      chainId: number
      policy: SendPolicy
      onResend: (r: Resend) => void
    },
  ) {}

  /**
   * The receipt of the transaction mined for `tx` (reverted or not), or a `chain-unavailable` AppError
   * once `deadline` (epoch ms) passes with none. An error before the first transaction is offered is thrown
   * as it comes (the caller tells a dead chain from a refusal); once one is out there, RPC errors are
   * retried until the deadline, since what was sent may still be mined.
   */
  async send(tx: OperatorTx, deadline: number): Promise<TransactionReceipt> {
    const round: Round = { nonce: await this.nextNonce(), attempts: 0, sentAt: 0, broadcastAt: 0 }
    const hashes: string[] = [] // every transaction sent, for any nonce: any of them may be the one mined
    let due: Due | undefined = await this.offer(tx, round, 'first', hashes)
    let lastError: unknown
    for (;;) {
      const left = deadline - Date.now()
      if (left <= 0) {
        throw new AppError('chain-unavailable', 'the chain did not confirm the transaction in time; retry later', {}, { cause: lastError })
      }
      await new Promise((r) => setTimeout(r, Math.min(this.deps.provider.pollingInterval, left)))
      try {
        const seen = await this.check(round, hashes)
        if (typeof seen === 'object') return seen
        if (seen === 'taken') {
          // Another sender on this key used the nonce, and none of ours is mined: start again on the next one
          // (under the same ceiling).
          Object.assign(round, { nonce: await this.nextNonce(), attempts: 0, fees: undefined, latest: undefined })
          due = 'first'
        } else if (seen) {
          due = seen
        }
        if (due) due = await this.offer(tx, round, due, hashes)
      } catch (e) {
        lastError = e
      }
    }
  }

  /**
   * Sends the round's nonce: first at the market's fees; again unchanged when dropped; higher when stuck or
   * underpriced, up to the ceiling. Answers what is due next: `underpriced` when the pool keeps a
   * better-paying transaction at the nonce, else nothing. `underpriced` repeats on the next poll, since a
   * refused transaction costs nothing; the ceiling ends it (about ten bumps from the market's fees by default).
   */
  private async offer(tx: OperatorTx, round: Round, due: Due, hashes: string[]): Promise<Due | undefined> {
    const { onResend } = this.deps
    if (due === 'dropped') {
      const { raw, fees } = round.latest ?? {}
      if (!raw || !fees) return undefined // nothing accepted yet to send again
      onResend({ nonce: round.nonce, reason: due, attempt: round.attempts, fees, previous: fees })
      return this.broadcast(raw, round, fees, hashes)
    }
    if (due === 'first' || !round.fees) {
      round.fees = await this.startingFees(round)
    } else {
      const next = raise(round.fees, round.ceiling)
      if (!next) {
        round.sentAt = Date.now() // at the ceiling: nothing more to offer; watch what is out there another interval
        return undefined
      }
      onResend({ nonce: round.nonce, reason: due, attempt: round.attempts + 1, fees: next, previous: round.fees })
      round.fees = next
    }
    round.attempts++
    const { wallet, chainId } = this.deps
    const fees = round.fees
    const raw = await wallet.signTransaction({ ...tx, chainId, nonce: round.nonce, ...('gasPrice' in fees ? { type: 0 } : { type: 2 }), ...fees })
    round.sentAt = Date.now()
    return this.broadcast(raw, round, fees, hashes)
  }

  /** What the chain says now: mined (its receipt), the nonce taken by another sender, or a reason to send again. */
  private async check(round: Round, hashes: string[]): Promise<TransactionReceipt | 'taken' | ResendReason | undefined> {
    const { provider, wallet, policy } = this.deps
    if ((await provider.getTransactionCount(wallet.address, 'latest')) > round.nonce) {
      return (await minedReceipt(provider, hashes)) ?? 'taken'
    }
    // A node answers for a transaction it holds; null means it dropped it (evicted, restarted, told to), or,
    // behind a load balancer, that this backend has not seen it yet: either way the same bytes go out again.
    const rebroadcastDue = Date.now() - round.broadcastAt >= REBROADCAST_MS
    if (round.latest && rebroadcastDue && !(await provider.getTransaction(round.latest.hash))) return 'dropped'
    if (Date.now() - round.sentAt >= policy.resendAfterMs) return 'stuck'
    return undefined
  }

  /**
   * The 'latest' nonce (transactions mined), not 'pending' (mined + in the pool). Every send holds the
   * operator's lock until its transaction is mined or given up, so a transaction of ours still in the pool
   * at that nonce can only be one abandoned by a send that timed out or a process that crashed. Taking the
   * pending nonce would queue behind it: if its fee is too low to be mined, nothing after it ever is. The
   * latest nonce supersedes it instead (its writer redoes its work: a pending key rotation is resumed, an
   * audit batch stays pending, an institution creation answered 503).
   */
  private nextNonce(): Promise<number> {
    return this.deps.provider.getTransactionCount(this.deps.wallet.address, 'latest')
  }

  /**
   * The market's fees now; the first of the send sets its ceiling. Above the fees of this process's last
   * transaction at the same nonce only while the node still holds it (it may yet be mined, so it must be
   * outbid). One the node has forgotten is no reason to start higher: increases carry over from request to
   * request only while there is a transaction to outbid, and never past the ceiling.
   */
  private async startingFees(round: Round): Promise<Fees> {
    const { provider, policy } = this.deps
    const data = await provider.getFeeData()
    let fees: Fees
    if (data.maxFeePerGas !== null && data.maxPriorityFeePerGas !== null) {
      fees = { maxFeePerGas: data.maxFeePerGas, maxPriorityFeePerGas: data.maxPriorityFeePerGas }
    } else if (data.gasPrice !== null) {
      fees = { gasPrice: data.gasPrice } // a chain without EIP-1559 base fees
    } else {
      throw new Error('the chain reports no gas price')
    }
    round.ceiling ??= policy.maxFeePerGas ?? feeCap(fees) * DEFAULT_CEILING_MARKET_MULTIPLE
    const earlier = this.offered?.nonce === round.nonce ? this.offered : undefined
    const above = earlier && (await provider.getTransaction(earlier.hash)) ? raise(earlier.fees, undefined) : undefined
    return capped(above ? higher(fees, above) : fees, round.ceiling)
  }

  /**
   * Sends one signed transaction. "Nonce too low" is no error here: the nonce is used, and the watch loop
   * finds out by whom. The node's replies are told apart by ethers' codes where it has them; "already
   * known"/"already imported" (the node holds this very transaction) has none, so its text is matched.
   */
  private async broadcast(raw: string, round: Round, fees: Fees, hashes: string[]): Promise<Due | undefined> {
    const hash = Transaction.from(raw).hash!
    // Watched even if the reply is lost: the node may have taken it, and then it may be the one mined.
    if (!hashes.includes(hash)) hashes.push(hash)
    round.broadcastAt = Date.now()
    try {
      await this.deps.provider.send('eth_sendRawTransaction', [raw])
    } catch (e) {
      if (isError(e, 'NONCE_EXPIRED')) return undefined // the next check finds out by whom
      if (isError(e, 'REPLACEMENT_UNDERPRICED')) return 'underpriced'
      if (!/already (known|imported)/i.test(rpcMessage(e))) throw e
    }
    round.latest = { hash, raw, fees }
    this.offered = { nonce: round.nonce, fees, hash }
    return undefined
  }
}

/** The receipt of whichever of `hashes` was mined; a successful one over a reverted duplicate. */
async function minedReceipt(provider: JsonRpcProvider, hashes: string[]): Promise<TransactionReceipt | undefined> {
  const receipts = (await Promise.all(hashes.map((h) => provider.getTransactionReceipt(h)))).filter((r) => r !== null)
  return receipts.find((r) => r.status === 1) ?? receipts[0]
}

/** Fees a quarter higher, capped; undefined when the cap leaves no room for a replacement the pool would take. */
export function raise(fees: Fees, cap: bigint | undefined): Fees | undefined {
  const up = (x: bigint) => (x * BUMP_NUMERATOR + BUMP_DENOMINATOR - 1n) / BUMP_DENOMINATOR + 1n
  const next = capped('gasPrice' in fees ? { gasPrice: up(fees.gasPrice) } : { maxFeePerGas: up(fees.maxFeePerGas), maxPriorityFeePerGas: up(fees.maxPriorityFeePerGas) }, cap)
  const enough = (a: bigint, b: bigint) => a * 100n >= b * REPLACEMENT_MIN_PERCENT
  const ok = 'gasPrice' in next && 'gasPrice' in fees
    ? enough(next.gasPrice, fees.gasPrice)
    : 'maxFeePerGas' in next && 'maxFeePerGas' in fees && enough(next.maxFeePerGas, fees.maxFeePerGas) && enough(next.maxPriorityFeePerGas, fees.maxPriorityFeePerGas)
  return ok ? next : undefined
}

/** What a transaction pays at most per gas: maxFeePerGas, or a legacy gasPrice. */
export function feeCap(fees: Fees): bigint {
  return 'gasPrice' in fees ? fees.gasPrice : fees.maxFeePerGas
}

function capped(fees: Fees, cap: bigint | undefined): Fees {
  if (cap === undefined) return fees
  const min = (a: bigint, b: bigint) => (a < b ? a : b)
  if ('gasPrice' in fees) return { gasPrice: min(fees.gasPrice, cap) }
  const maxFeePerGas = min(fees.maxFeePerGas, cap)
  return { maxFeePerGas, maxPriorityFeePerGas: min(fees.maxPriorityFeePerGas, maxFeePerGas) }
}

function higher(a: Fees, b: Fees): Fees {
  const max = (x: bigint, y: bigint) => (x > y ? x : y)
  if ('gasPrice' in a && 'gasPrice' in b) return { gasPrice: max(a.gasPrice, b.gasPrice) }
  if ('maxFeePerGas' in a && 'maxFeePerGas' in b) {
    return { maxFeePerGas: max(a.maxFeePerGas, b.maxFeePerGas), maxPriorityFeePerGas: max(a.maxPriorityFeePerGas, b.maxPriorityFeePerGas) }
  }
  return a
}

/** The JSON-RPC error's own message, wherever ethers put it. */
function rpcMessage(e: unknown): string {
  const err = e as { info?: { error?: { message?: unknown } }; error?: { message?: unknown }; message?: unknown }
  return String(err?.info?.error?.message ?? err?.error?.message ?? err?.message ?? '')
}
