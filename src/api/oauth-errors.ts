import type { Context, Next } from 'koa'
import { AppError } from '../errors.js'
import { OAuthError, type OAuthErrorCode } from '../oid4vc/oauth-error.js'
import { knownError, type Logger } from './problem.js'

/**
 * The wallet-facing protocol endpoints (OID4VCI token, nonce, credential and offer; OID4VP request object
 * and response): the specifications say they answer `{error, error_description}` JSON, not problem+json.
 * The institution-facing oid4vc endpoints (`/oid4vci/offers`, `/oid4vp/requests`) stay RFC 9457.
 */
export const WALLET_PROTOCOL_PATH = /^\/oid4vci\/[0-9a-f-]{36}\/(token|nonce|credential|credential-offer\/[^/]+)$|^\/oid4vp\/requests\/[^/]+\/(response|request-object)$/

/** What a request the body parser refused (bad JSON, media type, size, NUL, …) is called on each endpoint. */
function malformed(path: string): OAuthErrorCode {
  return path.endsWith('/credential') ? 'invalid_credential_request' : 'invalid_request'
}

/**
 * Turns errors on the wallet protocol endpoints into OAuth error responses, with the status the spec gives
 * (the body parser's 413/415 kept); an unexpected error is a `server_error` naming the request id, its
 * stack only in the log. Mounted right inside `problems`, so nothing reaches the wallet as problem+json.
 */
export function oauthErrors(log: Logger) {
  return async (ctx: Context, next: Next) => {
    if (!WALLET_PROTOCOL_PATH.test(ctx.path)) return next()
    try {
      await next()
    } catch (thrown) {
      // raw-body's errors (a body over the limit, an unknown charset) are client errors here too, a lost database a 503.
      const e = thrown instanceof OAuthError ? thrown : (knownError(thrown) ?? thrown)
      let error: OAuthErrorCode
      let description: string
      let status: number
      let extra: Record<string, unknown> = {}
      if (e instanceof OAuthError) {
        ;({ error, description, status, extra } = e)
      } else if (e instanceof AppError && e.code === 'rate-limited') {
        throw e
      } else if (e instanceof AppError && e.status < 500) {
        error = e.code === 'not-found' ? 'invalid_request' : malformed(ctx.path)
        description = e.detail
        status = e.status
      } else if (e instanceof AppError && e.retryAfter) {
        ;[error, description, status] = ['temporarily_unavailable', e.detail, 503]
        ctx.set('Retry-After', String(e.retryAfter))
      } else {
        log.error('unhandled error', { requestId: ctx.state.requestId, error: (e as Error)?.stack ?? String(e) })
        ;[error, description, status] = ['server_error', `an internal error occurred; quote request id ${ctx.state.requestId}`, 500]
      }
      if (error === 'invalid_token') ctx.set('WWW-Authenticate', `Bearer error="invalid_token", error_description="${description.replace(/["\\]/g, "'")}"`)
      ctx.set('Cache-Control', 'no-store')
      ctx.status = status
      ctx.body = { error, error_description: description, ...extra }
      ctx.type = 'application/json'
    }
  }
}
