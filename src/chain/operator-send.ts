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
 * Why a nonce was sent again: no receipt within the resend interval (`stuck`), the node no longer knows the
 * last transaction (`dropped`), or the node holds another transaction at this nonce that pays more
 * (`underpriced`, e.g. one a crashed process left behind).
 */
export type ResendReason = 'stuck' | 'dropped' | 'underpriced'

export interface Resend {
  nonce: number
  reason: ResendReason
  /** How many transactions this send has offered for the nonce, this one included. */
  attempt: number
  fees: Fees
  previous: Fees
}

export interface SendPolicy {
  /** No receipt this long after the last send: the nonce is sent again with higher fees. */
  resendAfterMs: number
  /** Fees never offered above this (wei per gas); unset = no cap. */
  maxFeePerGas?: bigint
}

/** geth's pool takes a replacement only at +10% on both fees; a quarter more clears it with rounding to spare. */
const BUMP_NUMERATOR = 125n
const BUMP_DENOMINATOR = 100n
const REPLACEMENT_MIN_PERCENT = 110n

type Due = 'first' | ResendReason

/** One nonce being offered: the fees of its last transaction, and the last one the node accepted. */
interface Round {
  nonce: number
  attempts: number
  fees?: Fees
  latest?: string
  sentAt: number
}

/**
 * Sends the operator's transactions itself (explicit nonce and fees) and sees each one mined: a transaction
 * that stays pending or that the node drops is sent again, same nonce, higher fees, and every transaction
 * sent for the nonce is watched, since any of them may be the one mined. Callers hold the operator's lock
 * (RegistryWriter), so one send runs at a time per operator key.
 */
export class OperatorSender {
  /** The fees last offered for a nonce not yet seen mined: the next send of that nonce starts above them. */
  private offered?: { nonce: number; fees: Fees }

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
    const round: Round = { nonce: await this.nextNonce(), attempts: 0, sentAt: 0 }
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
          // Another sender on this key used the nonce, and none of ours is mined: start again on the next one.
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
   * Sends the round's nonce: first at the market's fees, each time after that higher. Answers what is due
   * next: `underpriced` when the pool keeps a better-paying transaction at the nonce, else nothing.
   */
  private async offer(tx: OperatorTx, round: Round, due: Due, hashes: string[]): Promise<Due | undefined> {
    const { policy, onResend } = this.deps
    if (due === 'first' || !round.fees) {
      round.fees = await this.startingFees(round.nonce)
    } else {
      // A dropped transaction is worth sending again even when the cap leaves no room for a higher fee.
      const next = raise(round.fees, policy.maxFeePerGas) ?? (due === 'dropped' ? round.fees : undefined)
      if (!next) {
        round.sentAt = Date.now() // at the fee cap: nothing more to offer; watch what is out there another interval
        return undefined
      }
      onResend({ nonce: round.nonce, reason: due, attempt: round.attempts + 1, fees: next, previous: round.fees })
      round.fees = next
    }
    round.attempts++
    const answer = await this.broadcast(tx, round.nonce, round.fees)
    round.sentAt = Date.now()
    if (answer === 'underpriced') return 'underpriced'
    if (answer !== 'used') hashes.push((round.latest = answer))
    return undefined // 'used' too: the next check finds out by whom
  }

  /** What the chain says now: mined (its receipt), the nonce taken by another sender, or a reason to send again. */
  private async check(round: Round, hashes: string[]): Promise<TransactionReceipt | 'taken' | ResendReason | undefined> {
    const { provider, wallet, policy } = this.deps
    if ((await provider.getTransactionCount(wallet.address, 'latest')) > round.nonce) {
      return (await minedReceipt(provider, hashes)) ?? 'taken'
    }
    // A node answers for a transaction it holds; null means it dropped it (evicted, restarted, told to).
    if (round.latest && !(await provider.getTransaction(round.latest))) return 'dropped'
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

  /** The market's fees now, but above what this process last offered for the same nonce (it may still be pending). */
  private async startingFees(nonce: number): Promise<Fees> {
    const data = await this.deps.provider.getFeeData()
    let fees: Fees
    if (data.maxFeePerGas !== null && data.maxPriorityFeePerGas !== null) {
      fees = { maxFeePerGas: data.maxFeePerGas, maxPriorityFeePerGas: data.maxPriorityFeePerGas }
    } else if (data.gasPrice !== null) {
      fees = { gasPrice: data.gasPrice } // a chain without EIP-1559 base fees
    } else {
      throw new Error('the chain reports no gas price')
    }
    const above = this.offered?.nonce === nonce ? raise(this.offered.fees, undefined) : undefined
    return capped(above ? higher(fees, above) : fees, this.deps.policy.maxFeePerGas)
  }

  /**
   * Signs and sends one transaction. "Nonce too low" is no error here: the nonce is used, and the watch
   * loop finds out by whom. The node's replies are told apart by ethers' codes where it has them; "already
   * known"/"already imported" (the node holds this very transaction) has none, so its text is matched.
   */
  private async broadcast(tx: OperatorTx, nonce: number, fees: Fees): Promise<string | 'underpriced' | 'used'> {
    const { wallet, provider, chainId } = this.deps
    const raw = await wallet.signTransaction({ ...tx, chainId, nonce, ...('gasPrice' in fees ? { type: 0 } : { type: 2 }), ...fees })
    const hash = Transaction.from(raw).hash!
    this.offered = { nonce, fees }
    try {
      await provider.send('eth_sendRawTransaction', [raw])
      return hash
    } catch (e) {
      if (isError(e, 'NONCE_EXPIRED')) return 'used'
      if (isError(e, 'REPLACEMENT_UNDERPRICED')) return 'underpriced'
      if (/already (known|imported)/i.test(rpcMessage(e))) return hash
      throw e
    }
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
