import type { Context, Next } from 'koa'
import { isDatabaseUnavailable } from '../db/errors.js'
import { AppError, PROBLEMS, PROBLEM_TYPE_BASE, type ProblemCode } from '../errors.js'

export interface Logger {
  error(message: string, fields?: Record<string, unknown>): void
  info(message: string, fields?: Record<string, unknown>): void
}

/** Errors from Koa and raw-body that carry a client-facing status (http-errors). */
interface HttpError {
  status?: number
  statusCode?: number
  expose?: boolean
  type?: string
}

/**
 * What a thrown error means for the client, when it is not an AppError: a client-side HTTP error, or the
 * database being out of reach (503, retry later); undefined for a real internal error.
 */
export function knownError(e: unknown): AppError | undefined {
  if (e instanceof AppError) return e
  if (isDatabaseUnavailable(e)) return new AppError('database-unavailable', 'the database does not answer now; retry later', {}, { cause: e })
  return fromHttpError(e as HttpError)
}

/** A client-side HTTP error (raw-body's 413, 415, 400) as our problem; shared by every error edge (problem+json, OAuth). */
export function fromHttpError(e: HttpError): AppError | undefined {
  if (!e || typeof e !== 'object') return undefined
  const status = e.status ?? e.statusCode
  if (!status || status >= 500) return undefined
  if (e.type === 'entity.too.large' || status === 413) return new AppError('body-too-large', 'the request body exceeds the size limit')
  if (status === 415) return new AppError('unsupported-media-type', 'send the body as application/json')
  if (status === 400) return new AppError('invalid-request', 'the request body could not be read')
  return undefined
}

/**
 * Writes an RFC 9457 problem, with `Retry-After` when it is a "retry later" (see PROBLEMS). Koa rewrites
 * the type of an object body, so set `ctx.type` after `ctx.body`.
 */
export function sendProblem(ctx: Context, code: ProblemCode, detail: string, extra: Record<string, unknown> = {}): void {
  const { status, title } = PROBLEMS[code]
  const retryAfter = new AppError(code, detail, extra).retryAfter
  if (retryAfter) ctx.set('Retry-After', String(retryAfter))
  ctx.status = status
  ctx.body = {
    type: `${PROBLEM_TYPE_BASE}${code}`,
    title,
    status,
    detail,
    instance: ctx.path,
    requestId: ctx.state.requestId,
    ...extra,
  }
  ctx.type = 'application/problem+json'
}

/**
 * The one place errors become responses: AppErrors as their problem, client-side HTTP errors mapped,
 * everything else a 500 whose detail names the request id (the stack goes to the log, never the client).
 */
export function problems(log: Logger) {
  return async (ctx: Context, next: Next) => {
    try {
      await next()
      if (ctx.status === 404 && ctx.body === undefined) {
        sendProblem(ctx, 'not-found', `nothing at ${ctx.method} ${ctx.path}`)
      } else if (ctx.status === 405 && (ctx.body === undefined || typeof ctx.body === 'string')) {
        sendProblem(ctx, 'method-not-allowed', `${ctx.method} is not allowed on ${ctx.path}`)
      }
    } catch (e) {
      const err = knownError(e)
      if (err) {
        sendProblem(ctx, err.code, err.detail, err.extra)
        if (err.status >= 500) log.error(err.message, { requestId: ctx.state.requestId, cause: String((err.cause as Error)?.message ?? '') })
        return
      }
      log.error('unhandled error', { requestId: ctx.state.requestId, error: (e as Error)?.stack ?? String(e) })
      sendProblem(ctx, 'internal', `an internal error occurred; quote request id ${ctx.state.requestId}`)
    }
  }
}
