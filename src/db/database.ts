import { createHash } from 'node:crypto'
import type { EventEmitter } from 'node:events'
import { QueryRunnerAlreadyReleasedError, QueryRunnerProviderAlreadyReleasedError, type DataSource, type EntityManager, type QueryRunner } from 'typeorm'
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
  private readonly exclusives = new Map<string, SerialQueue>()

  constructor(readonly ds: DataSource) {
    this.queue = ds.options.type === 'postgres' ? undefined : new SerialQueue()
  }

  get isPostgres(): boolean {
    return this.queue === undefined
  }

  /** Runs `fn` in one database transaction: everything it writes commits together or not at all. */
  transaction<T>(fn: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.queue ? this.queue.run(() => this.ds.transaction(fn)) : this.slots.run(() => this.pgTransaction(fn))
  }

  /**
   * A connection lost between two statements of a transaction (the server shutting down, the session
   * terminated) reaches node-postgres as an `error` event on the idle connection, possibly in the same read
   * as the previous statement's reply; TypeORM then releases the query runner, and the transaction's next
   * statement (or its COMMIT) fails with QueryRunner(Provider)AlreadyReleasedError, which says nothing of
   * why. Listening from the moment the connection is taken, throw the loss itself instead, so that it reads
   * as what it is: the database unavailable (503), not an internal error.
   */
  private async pgTransaction<T>(fn: (manager: EntityManager) => Promise<T>): Promise<T> {
    const runner = this.ds.createQueryRunner()
    const connection = (await runner.connect()) as EventEmitter
    let lost: unknown
    const onError = (e: unknown) => (lost ??= e)
    connection.on('error', onError)
    try {
      return await runner.manager.transaction(fn)
    } catch (e) {
      const released = e instanceof QueryRunnerAlreadyReleasedError || e instanceof QueryRunnerProviderAlreadyReleasedError
      throw released && lost !== undefined ? lost : e
    } finally {
      connection.off('error', onError)
      await runner.release()
    }
  }

  /** Runs writes that are not ours to wrap in a transaction (e.g. Veramo's stores) without interleaving. */
  write<T>(fn: () => Promise<T>): Promise<T> {
    return this.queue ? this.queue.run(fn) : fn()
  }

  /**
   * Runs `fn` while no other task holding `key` runs, in this process or (PostgreSQL) in any process sharing
   * the database: for work that is not a database transaction but must not overlap, e.g. sending the
   * operator's next transaction only after the previous one is mined. On PostgreSQL it holds a session
   * advisory lock on a dedicated connection for `fn`'s whole duration, so keys should be few and `fn`
   * bounded in time; SQLite serves one process, where the in-process queue is enough.
   */
  exclusive<T>(key: string, fn: () => Promise<T>): Promise<T> {
    let local = this.exclusives.get(key)
    if (!local) this.exclusives.set(key, (local = new SerialQueue()))
    return local.run(() => (this.isPostgres ? this.advisoryLocked(key, fn) : fn()))
  }

  private async advisoryLocked<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const lockId = createHash('sha256').update(`medcred:${key}`).digest().readBigInt64BE(0).toString()
    const runner = this.ds.createQueryRunner()
    await runner.connect()
    let broken: unknown
    try {
      await runner.query('SELECT pg_advisory_lock($1::bigint)', [lockId])
      try {
        return await fn()
      } finally {
        await runner.query('SELECT pg_advisory_unlock($1::bigint)', [lockId]).catch((e: unknown) => (broken = e))
      }
    } finally {
      await release(runner, broken)
    }
  }

  get manager(): EntityManager {
    return this.ds.manager
  }

  /**
   * A read on the verification hot path: one SQL statement, rows as plain objects, no entity hydration
   * (TypeORM's query building costs more than the read itself). Placeholders are `$1`, `$2`, … used once
   * each, in order. On SQLite the statement is prepared once and run on the shared connection.
   */
  async rows<T>(sql: string, params: unknown[]): Promise<T[]> {
    return this.isPostgres ? this.ds.query(sql, params) : this.sqlite<T>(sql, params)
  }

  /**
   * One statement of the hot path inside `manager`'s transaction, with the placeholders of `rows`: on
   * PostgreSQL on the transaction's own connection, on SQLite prepared once on the one shared connection
   * (which is the transaction's).
   */
  async run<T = unknown>(manager: EntityManager, sql: string, params: unknown[]): Promise<T[]> {
    return this.isPostgres ? manager.query(sql, params) : this.sqlite<T>(sql, params)
  }

  /**
   * A write statement (UPDATE or DELETE) inside `manager`'s transaction, with the placeholders of `rows`;
   * returns how many rows it changed, on either database.
   */
  async change(manager: EntityManager, sql: string, params: unknown[]): Promise<number> {
    // TypeORM answers an UPDATE or DELETE on PostgreSQL with [rows, rowCount].
    if (this.isPostgres) return Number(((await manager.query(sql, params)) as [unknown, number])[1] ?? 0)
    return this.prepared(sql).run(...params).changes
  }

  private sqlite<T>(sql: string, params: unknown[]): T[] {
    const statement = this.prepared(sql)
    if (statement.reader) return statement.all(...params) as T[]
    statement.run(...params)
    return []
  }

  private prepared(sql: string): PreparedStatement {
    let statement = this.statements.get(sql)
    if (!statement) {
      const sqlite = (this.ds.driver as unknown as { databaseConnection: { prepare(sql: string): PreparedStatement } }).databaseConnection
      statement = sqlite.prepare(sql.replace(/\$\d+/g, '?'))
      this.statements.set(sql, statement)
    }
    return statement
  }

  private readonly statements = new Map<string, PreparedStatement>()
}

interface PreparedStatement {
  /** Whether the statement returns rows (better-sqlite3 refuses `all` on one that does not). */
  reader: boolean
  all(...params: unknown[]): unknown[]
  run(...params: unknown[]): { changes: number }
}

/**
 * Returns the connection to the pool, or, when unlocking failed, closes it instead: a pooled connection
 * must never carry a session lock to the next user (closing the session releases the lock).
 */
async function release(runner: QueryRunner, broken: unknown): Promise<void> {
  if (broken === undefined) return runner.release()
  const discard = (runner as unknown as { releasePostgresConnection?: (err: unknown) => Promise<void> }).releasePostgresConnection
  return discard ? discard.call(runner, broken) : runner.release()
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
