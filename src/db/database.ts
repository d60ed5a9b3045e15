import type { DataSource, EntityManager } from 'typeorm'
import { SerialQueue } from '../chain/serial-queue.js'

/**
 * The DataSource plus the one rule SQLite needs: TypeORM's SQLite drivers share one connection, so two
 * transactions at once fail ("cannot start a transaction within a transaction") and a write issued while
 * another transaction is open silently joins it. On SQLite every write therefore runs through one queue;
 * on PostgreSQL transactions run concurrently and rows are locked where it matters.
 *
 * Capabilities write only through `transaction` or `write`.
 */
export class Database {
  private readonly queue: SerialQueue | undefined

  constructor(readonly ds: DataSource) {
    this.queue = ds.options.type === 'postgres' ? undefined : new SerialQueue()
  }

  get isPostgres(): boolean {
    return this.queue === undefined
  }

  /** Runs `fn` in one database transaction: everything it writes commits together or not at all. */
  transaction<T>(fn: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.queue ? this.queue.run(() => this.ds.transaction(fn)) : this.ds.transaction(fn)
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
