import type { Context, Next } from 'koa'
import getRawBody from 'raw-body'
import { AppError } from '../errors.js'
import { bodyProblem } from '../validation.js'

/**
 * Reads a JSON body for requests that carry one, within `limitBytes`. Bad JSON is a 400, an oversized
 * body a 413, another media type a 415, a NUL character (which PostgreSQL refuses) a 400.
 * The parsed value is `ctx.state.body`.
 */
export function jsonBody(limitBytes: number, opts: { formPaths?: RegExp } = {}) {
  return async (ctx: Context, next: Next) => {
    if (!['POST', 'PUT', 'PATCH'].includes(ctx.method)) return next()
    const length = Number(ctx.get('content-length') || 0)
    if (length === 0 && !ctx.get('transfer-encoding')) {
      ctx.state.body = undefined
      return next()
    }
    if (opts.formPaths?.test(ctx.path) && ctx.is('application/x-www-form-urlencoded')) {
      ctx.state.form = parseForm(await getRawBody(ctx.req, { limit: limitBytes, length: length || undefined, encoding: 'utf8' }))
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

/**
 * An `application/x-www-form-urlencoded` body (the OAuth token request, the OID4VP `direct_post` response)
 * as an object of strings, under the same rules as a JSON body; a parameter given twice is refused
 * (RFC 6749 §3.1). The parsed value is `ctx.state.form`.
 */
function parseForm(raw: string): Record<string, string> {
  const form: Record<string, string> = {}
  for (const [k, v] of new URLSearchParams(raw)) {
    if (Object.hasOwn(form, k)) throw new AppError('invalid-request', `the parameter ${k.slice(0, 50)} is given more than once`)
    form[k] = v
  }
  const problem = bodyProblem(form)
  if (problem) throw new AppError('invalid-request', problem)
  return form
}
