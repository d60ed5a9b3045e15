import fs from 'node:fs'
import Router from '@koa/router'
import type { Context, Next } from 'koa'
import { AppError, PROBLEMS } from '../errors.js'
import { knownError, type Logger } from '../api/problem.js'
import { adminRoutes } from './admin.js'
import { boardRoutes } from './board.js'
import { formOf, sendPage, seeOther, sessionOf, type PageDeps } from './context.js'
import { html } from './html.js'
import { officeRoutes } from './office.js'
import type { Session } from './sessions.js'
import { fieldErrors } from './views/common.js'

/** The page paths: `/` and everything under `/web/`. Only here does a session cookie mean anything. */
export const WEB_PATH = /^\/$|^\/web\//

export const SESSION_COOKIE = 'medcred_session'

const ASSETS: Record<string, { type: string; body: Buffer }> = Object.fromEntries(
  [
    ['app.css', 'text/css; charset=utf-8'],
    ['app.js', 'text/javascript; charset=utf-8'],
  ].map(([name, type]) => [name, { type, body: fs.readFileSync(new URL(`./assets/${name}`, import.meta.url)) }]),
)

/** No inline script or style, nothing from elsewhere, never framed. */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

function cookieOf(ctx: Context): string | undefined {
  const header = ctx.get('cookie')
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=')
    if (k === SESSION_COOKIE) return v.join('=')
  }
  return undefined
}

function setSessionCookie(ctx: Context, value: string, maxAgeSeconds: number, secure: boolean): void {
  ctx.append('Set-Cookie', `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`)
}

/** Where each kind of caller works. */
function homeOf(ctx: Context): string {
  const caller = sessionOf(ctx)?.caller
  if (!caller) return '/'
  if (caller.kind === 'admin') return '/web/admin'
  return caller.institution.kind === 'hospital' ? '/web/office' : '/web/board'
}

/**
 * The pages' edge, mounted right inside `problems` (before authentication, rate limiting and the body
 * reader), so that whatever refuses a page request is answered as a page: security headers on every reply,
 * and every error, a body over the limit, a field given twice or a 429 included, shown as a page a person
 * can read, not problem+json. The stack of an unexpected error goes to the log, never to the page.
 */
export function webErrors(log: Logger) {
  return async (ctx: Context, next: Next) => {
    if (!WEB_PATH.test(ctx.path)) return next()
    ctx.set('Content-Security-Policy', CSP)
    ctx.set('X-Frame-Options', 'DENY')
    // Not no-referrer: with it Chromium sends `Origin: null` on form posts, and the origin check would refuse them.
    ctx.set('Referrer-Policy', 'same-origin')
    ctx.set('Cross-Origin-Opener-Policy', 'same-origin')
    ctx.set('Permissions-Policy', 'camera=(), microphone=(), geolocation=()')
    try {
      await next()
      if (ctx.status === 404 && ctx.body === undefined) throw new AppError('not-found', `there is no page at ${ctx.path}`)
      if (ctx.status === 405 && (ctx.body === undefined || typeof ctx.body === 'string')) throw new AppError('method-not-allowed', `${ctx.method} is not allowed on ${ctx.path}`)
    } catch (e) {
      // raw-body's errors (a body over the limit) are client errors here too, a lost database a 503.
      const err = knownError(e)
      if (!err) log.error('unhandled error', { requestId: ctx.state.requestId, error: (e as Error)?.stack ?? String(e) })
      else if (err.status >= 500) log.error(err.message, { requestId: ctx.state.requestId, cause: String((err.cause as Error)?.message ?? '') })
      if (err?.retryAfter) ctx.set('Retry-After', String(err.retryAfter))
      const status = err?.status ?? 500
      const title = err ? PROBLEMS[err.code].title : 'Something went wrong'
      // The body reader speaks to API clients ("expected application/json"); a page's form is urlencoded.
      const detail = !err
        ? `an internal error occurred; quote request id ${ctx.state.requestId}`
        : err.code === 'unsupported-media-type'
          ? `a form is sent as application/x-www-form-urlencoded, not ${ctx.get('content-type') || 'without a content type'}`
          : err.detail
      if (ctx.path.endsWith('/state')) {
        ctx.status = status
        ctx.body = { status: 'error', detail }
        ctx.type = 'application/json'
        return
      }
      sendPage(ctx, title, html`<div class="notice" role="alert"><p>${detail}</p>${fieldErrors(err?.extra.errors)}</div>
${err && Array.isArray(err.extra.checks) ? html`<p>Checks: ${(err.extra.checks as { check: string; ok: boolean }[]).map((c) => `${c.check} ${c.ok ? 'passed' : 'failed'}`).join('; ')}</p>` : ''}
<p>${status === 401 ? html`<a href="/">Sign in</a>` : html`<a href="${homeOf(ctx)}">Back</a>`}</p><p class="hint">Request id ${ctx.state.requestId} · <code>${err?.code ?? 'internal'}</code></p>`, status)
    }
  }
}

/**
 * The pages' session, mounted after the body reader: the session from its cookie (the request's caller, so
 * the same capability calls and audit events as the API); the CSRF token checked on every POST but sign-in;
 * a POST from another origin refused.
 */
export function webSession(deps: PageDeps) {
  const ownOrigin = new URL(deps.web.publicUrl).origin
  return async (ctx: Context, next: Next) => {
    if (!WEB_PATH.test(ctx.path)) return next()
    const token = cookieOf(ctx)
    const session = token ? await deps.web.sessions.resume(token) : undefined
    // The caller is anonymous here unless the session says otherwise: authenticate() reads no bearer on pages.
    if (session) {
      ctx.state.session = session
      ctx.state.caller = session.caller
      ctx.state.csrf = deps.web.sessions.csrfToken(session)
    }
    if (ctx.method === 'POST') {
      const origin = ctx.get('origin')
      if (origin && origin !== ownOrigin && origin !== `${ctx.protocol}://${ctx.host}`) throw new AppError('csrf-refused', `a form from ${origin} may not change anything here`)
      if (!['/web/sign-in', '/web/sign-in-link'].includes(ctx.path)) {
        if (!session) throw new AppError('unauthorized', 'your session has ended: sign in again')
        if (!deps.web.sessions.csrfValid(session, formOf(ctx)._csrf)) throw new AppError('csrf-refused', 'the form has no valid CSRF token: reload the page and try again')
      }
    }
    await next()
  }
}

/** The office, board and admin pages, served by the API's own Koa app on its capabilities. */
export function webRoutes(deps: PageDeps): Router {
  const router = new Router({ sensitive: true })
  const secure = deps.web.publicUrl.startsWith('https:')

  router.get('/', async (ctx) => {
    if (sessionOf(ctx)) return seeOther(ctx, homeOf(ctx))
    sendPage(ctx, 'Sign in', html`<p>For medical board clerks, credentialing offices and the consortium admin.</p>
<form method="post" action="/web/sign-in">
<label for="secret">Your institution's API key, or the admin token <span class="hint">exchanged for a session; the key is not kept in this browser</span></label>
<input id="secret" name="secret" type="password" required autocomplete="off">
<button type="submit">Sign in</button></form>`)
  })

  /** A sign-in: the session's cookie and its home page, or a 401 that counts as a failed authentication. */
  const signInWith = async (ctx: Context, open: () => Promise<{ token: string; session: Session } | undefined>, refusal: string) => {
    deps.rateLimits.refuseIfLockedOut(ctx.ip)
    const opened = await open()
    if (!opened) {
      await deps.rateLimits.authenticationFailed(ctx.ip)
      throw new AppError('unauthorized', refusal)
    }
    setSessionCookie(ctx, opened.token, deps.web.sessions.ttlSeconds, secure)
    ctx.state.session = opened.session
    seeOther(ctx, homeOf(ctx))
  }

  router.post('/web/sign-in', (ctx) => {
    const secret = (formOf(ctx).secret ?? '').trim()
    return signInWith(ctx, async () => (secret ? deps.web.sessions.signIn(secret) : undefined), 'that is not a valid API key or admin token')
  })

  /** A one-time sign-in link opens a confirmation form (a GET must not use the link up: mail scanners follow links). */
  router.get('/web/sign-in-link', async (ctx) => {
    const token = typeof ctx.query.token === 'string' ? ctx.query.token : ''
    sendPage(ctx, 'Sign in with a one-time link', html`<form method="post" action="/web/sign-in-link"><input type="hidden" name="token" value="${token}">
<p>This link signs you in once.</p><button type="submit">Sign in</button></form>`)
  })

  router.post('/web/sign-in-link', (ctx) =>
    signInWith(ctx, () => deps.web.sessions.redeemSignInLink(formOf(ctx).token ?? ''), 'this sign-in link is used up, expired or unknown'),
  )

  router.post('/web/sign-out', async (ctx) => {
    const token = cookieOf(ctx)
    if (token) await deps.web.sessions.signOut(token)
    setSessionCookie(ctx, '', 0, secure)
    seeOther(ctx, '/')
  })

  router.get('/web/assets/:name', async (ctx) => {
    const asset = ASSETS[ctx.params.name]
    if (!asset) throw new AppError('not-found', `no asset ${ctx.params.name}`)
    ctx.set('Cache-Control', 'public, max-age=300')
    ctx.body = asset.body
    ctx.type = asset.type
  })

  boardRoutes(router, deps)
  officeRoutes(router, deps)
  adminRoutes(router, deps)
  return router
}
