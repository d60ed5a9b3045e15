import { createHash } from 'node:crypto'
import cors from '@koa/cors'
import helmet from 'koa-helmet'
import type { Context, Middleware, Next } from 'koa'
import type { Metrics } from '../metrics.js'
import type { Logger } from './problem.js'
import { AppError } from '../errors.js'
import { urlProblem } from '../validation.js'
import { callerOf } from './auth.js'

/** Refuses a URL whose decoded path or query breaks the text rule (NUL, lone surrogates): 400, before any route. */
export function wellFormedUrl(): Middleware {
  return async (ctx: Context, next: Next) => {
    const problem = urlProblem(ctx.path, ctx.query)
    if (problem) throw new AppError('invalid-request', problem)
    return next()
  }
}

/**
 * Security headers from helmet (HSTS, nosniff, frame and referrer policies, …) with the API's CSP: JSON is
 * never a document, so nothing may load or frame it. The pages set their own policy (src/web/routes.ts),
 * which replaces this one: helmet writes its headers before the route runs.
 */
export function securityHeaders(): Middleware {
  return helmet({
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] } },
    crossOriginResourcePolicy: { policy: 'cross-origin' },
  })
}

/**
 * CORS, closed unless `origins` lists the caller's origin exactly (CORS_ORIGINS). An origin not listed
 * gets no `Access-Control-Allow-Origin`, so the browser keeps the reply from the page.
 */
export function corsPolicy(origins: readonly string[]): Middleware {
  const allowed = new Set(origins)
  return cors({
    origin: (ctx: Context) => (allowed.has(ctx.get('origin').toLowerCase()) ? ctx.get('origin') : ''),
    allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'X-Request-Id'],
    exposeHeaders: ['X-Request-Id', 'ETag', 'Location', 'Retry-After'],
    maxAge: 600,
  })
}

/**
 * The caching policy: a reply whose route set no `Cache-Control` is `no-store` (most replies are for one
 * caller). A route that opts into caching (`public, …`) gets an ETag over its body unless it set its own,
 * and a matching `If-None-Match` is answered 304 without the body.
 */
export function cachePolicy(): Middleware {
  return async (ctx: Context, next: Next) => {
    await next()
    const policy = ctx.response.get('Cache-Control')
    if (!policy) {
      ctx.set('Cache-Control', 'no-store')
      return
    }
    if (policy.includes('no-store') || (ctx.method !== 'GET' && ctx.method !== 'HEAD') || ctx.status !== 200 || ctx.body == null) return
    if (!ctx.response.get('ETag')) {
      const bytes = typeof ctx.body === 'string' || Buffer.isBuffer(ctx.body) ? ctx.body : JSON.stringify(ctx.body)
      if (typeof bytes !== 'string' && !Buffer.isBuffer(bytes)) return
      ctx.set('ETag', `W/"${createHash('sha256').update(bytes).digest('base64url').slice(0, 27)}"`)
    }
    if (ctx.fresh) {
      ctx.status = 304
      ctx.body = null
    }
  }
}

/**
 * One access log line and the HTTP metrics per request: request id, method, route pattern (never the raw
 * path, which can hold identifiers), status, duration and the calling institution.
 */
export function accessLog(log: Logger, metrics: Metrics): Middleware {
  return async (ctx: Context, next: Next) => {
    const started = process.hrtime.bigint()
    try {
      await next()
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9
      const route = (ctx as Context & { _matchedRoute?: string })._matchedRoute ?? (ctx.status === 404 ? '(unmatched)' : '(none)')
      const caller = ctx.state.caller ? callerOf(ctx) : undefined
      metrics.request({ method: ctx.method, route: String(route), status: ctx.status, seconds })
      log.info('request', {
        requestId: ctx.state.requestId,
        method: ctx.method,
        route: String(route),
        status: ctx.status,
        durationMs: Math.round(seconds * 1e6) / 1e3,
        ...(caller?.kind === 'institution' ? { institutionId: caller.institution.id } : caller ? { caller: caller.kind } : {}),
      })
    }
  }
}
