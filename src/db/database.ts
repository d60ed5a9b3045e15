import type { DataSource, EntityManager } from 'typeorm'
import { SerialQueue } from '../chain/serial-queue.js'

/** Connections in the PostgreSQL pool (see data-source.ts). */
export const PG_POOL_SIZE = 20
/**
 * Transactions one process runs at once on PostgreSQL. Fewer than the pool: a transaction that signs
 * (issuance, status changes) makes Veramo read the key on another pooled connection, so with every
 * connection held by a transaction they would all wait for each other.
 */
const PG_MAX_TRANSACTIONS = PG_POOL_SIZE / 2

/**
 * The DataSource plus the one rule SQLite needs: TypeORM's SQLite drivers share one connection, so two
 * transactions at once fail ("cannot start a transaction within a transaction") and a write issued while
 * another transaction is open silently joins it. On SQLite every write therefore runs through one queue;
 * on PostgreSQL transactions run concurrently (bounded, see PG_MAX_TRANSACTIONS) and rows are locked
 * where it matters.
 *
 * Capabilities write only through `transaction` or `write`.
 */
export class Database {
  private readonly queue: SerialQueue | undefined
  private readonly slots = new Semaphore(PG_MAX_TRANSACTIONS)

  constructor(readonly ds: DataSource) {
    this.queue = ds.options.type === 'postgres' ? undefined : new SerialQueue()
  }

  get isPostgres(): boolean {
    return this.queue === undefined
  }

  /** Runs `fn` in one database transaction: everything it writes commits together or not at all. */
  transaction<T>(fn: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.queue ? this.queue.run(() => this.ds.transaction(fn)) : this.slots.run(() => this.ds.transaction(fn))
  }

  /** Runs writes that are not ours to wrap in a transaction (e.g. Veramo's stores) without interleaving. */
  write<T>(fn: () => Promise<T>): Promise<T> {
    return this.queue ? this.queue.run(fn) : fn()
  }

  get manager(): EntityManager {
    return this.ds.manager
  }

  /** `SELECT … FOR UPDATE` where the database has row locks (PostgreSQL); SQLite's queue already serialises. */
  get forUpdate(): '' | ' FOR UPDATE' {
    return this.isPostgres ? ' FOR UPDATE' : ''
  }
}

/** At most `size` tasks at once; the rest wait their turn in order. */
class Semaphore {
  private active = 0
  private readonly waiting: (() => void)[] = []

  constructor(private readonly size: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve))
    else this.active++
    try {
      return await task()
    } finally {
      const next = this.waiting.shift()
      if (next) next()
      else this.active--
    }
  }
}
