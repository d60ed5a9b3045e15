import type { Context } from 'koa'
import type { Provider } from 'ethers'
import type { AppDeps } from '../api/app.js'
import type { SafeHtml } from './html.js'
import { layout, type PageContext } from './layout.js'
import type { Session, WebSessionService } from './sessions.js'

/** What the pages need beyond the API's capabilities. */
export interface WebDeps {
  sessions: WebSessionService
  /** For the audit trail's verify button: the anchor is read from the chain itself. */
  chainProvider: Provider
  publicUrl: string
}

export type PageDeps = AppDeps & { web: WebDeps }

export function sessionOf(ctx: Context): Session | undefined {
  return ctx.state.session as Session | undefined
}

export function pageContext(ctx: Context): PageContext {
  const session = sessionOf(ctx)
  if (!session) return {}
  const who = session.caller.kind === 'admin' ? 'Consortium admin' : `${session.caller.institution.name} (${session.caller.institution.kind})`
  return { who, csrf: ctx.state.csrf as string }
}

/** Sends a page; pages are never cached (they show live status and hold a CSRF token). */
export function sendPage(ctx: Context, title: string, body: SafeHtml, status = 200): void {
  ctx.status = status
  ctx.set('Cache-Control', 'no-store')
  ctx.body = layout(title, pageContext(ctx), body).value
  ctx.type = 'text/html; charset=utf-8'
}

/** A submitted form's fields (parsed by the body reader as urlencoded). */
export function formOf(ctx: Context): Record<string, string> {
  return (ctx.state.form as Record<string, string> | undefined) ?? {}
}

/** After a change: see it on a page reached by GET (so reload does not repeat it). */
export function seeOther(ctx: Context, location: string): void {
  ctx.status = 303
  ctx.redirect(location)
}
