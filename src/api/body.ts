import type { Context, Next } from 'koa'
import getRawBody from 'raw-body'
import { AppError } from '../errors.js'
import { bodyProblem } from '../validation.js'

/**
 * Reads a JSON body for requests that carry one, within `limitBytes`. Bad JSON is a 400, an oversized
 * body a 413, another media type a 415, a NUL character (which PostgreSQL refuses) a 400.
 * The parsed value is `ctx.state.body`.
 */
export function jsonBody(limitBytes: number) {
  return async (ctx: Context, next: Next) => {
    if (!['POST', 'PUT', 'PATCH'].includes(ctx.method)) return next()
    const length = Number(ctx.get('content-length') || 0)
    if (length === 0 && !ctx.get('transfer-encoding')) {
      ctx.state.body = undefined
      return next()
    }
    if (!ctx.is('application/json', '+json')) {
      throw new AppError('unsupported-media-type', `expected application/json, got ${ctx.get('content-type') || 'no content type'}`)
    }
    const raw = await getRawBody(ctx.req, { limit: limitBytes, length: length || undefined, encoding: 'utf8' })
    let body: unknown
    try {
      body = JSON.parse(raw)
    } catch (e) {
      throw new AppError('invalid-json', `the body is not valid JSON: ${(e as Error).message}`)
    }
    const problem = bodyProblem(body)
    if (problem) throw new AppError('invalid-request', problem)
    ctx.state.body = body
    return next()
  }
}
