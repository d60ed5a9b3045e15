/** A unique or primary-key constraint refused an insert (PostgreSQL 23505, SQLite SQLITE_CONSTRAINT_*). */
export function isUniqueViolation(e: unknown): boolean {
  const err = e as { code?: unknown; driverError?: { code?: unknown } }
  const code = String(err?.driverError?.code ?? err?.code ?? '')
  return code === '23505' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE'
}

/** PostgreSQL SQLSTATEs that say the server cannot serve now (not that the query is wrong). */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '08000', '08001', '08003', '08004', '08006'])
const UNAVAILABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN'])

/**
 * The database cannot be reached or dropped the connection (restarted, connections terminated, full): the
 * request may succeed if retried, so it is a 503, not a 500. node-postgres gives a lost connection no code
 * ("Connection terminated unexpectedly", "Client has encountered a connection error"), only a message:
 * that one case is recognised by its text.
 */
export function isDatabaseUnavailable(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown; driverError?: { code?: unknown; message?: unknown } }
  const code = String(err?.driverError?.code ?? err?.code ?? '')
  if (UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_ERRNOS.has(code)) return true
  const message = String(err?.driverError?.message ?? err?.message ?? '')
  return /^Connection terminated|connection error and is not queryable|was closed and is not queryable|timeout exceeded when trying to connect/.test(message)
}

/**
 * Runs `fn`; when it fails, runs `probe` (the database read `fn` may have failed on): a database that does
 * not answer then throws its own error, one that answers gets `fn` once more (a failure that is not the
 * database's simply recurs). For libraries that turn a database error into one of their own and drop it
 * (Veramo does, for the issuer's DID and the signing key), which would answer a passing outage with a 500.
 */
export async function surfacingDatabaseErrors<T>(fn: () => Promise<T>, probe: () => Promise<unknown>): Promise<T> {
  try {
    return await fn()
  } catch (e) {
    const probed = await probe().then(
      () => undefined,
      (r: unknown) => r ?? new Error('probe failed'),
    )
    if (probed === undefined) return fn()
    throw isDatabaseUnavailable(probed) ? probed : e
  }
}
