import type { Context } from 'koa'

/** Sets a JSON reply. Koa rewrites an object body's type, so the type is set after the body. */
export function json(ctx: Context, status: number, body: unknown, type = 'application/json'): void {
  ctx.status = status
  ctx.body = body
  ctx.type = type
}
