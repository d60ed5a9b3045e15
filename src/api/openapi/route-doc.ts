import type Router from '@koa/router'
import type { z } from 'zod'
import type { ProblemCode } from '../../errors.js'

/** One reply: a zod schema of its JSON body (the same one the handler shapes it with), or another media type. */
export type ReplyDoc = { description: string; schema?: z.ZodType; type?: string }

/**
 * The documentation of one route, kept beside its handler (`doc(router, {...})` right above
 * `router.post(...)`): its request schemas are the very zod schemas the handler validates with, so the
 * OpenAPI document (GET /openapi.json) can never drift from what is enforced. Who may call it comes from
 * the authorization table (src/api/authorization.ts), which enforces it.
 */
export interface RouteDoc {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete'
  /** The router's pattern, e.g. `/institutions/:id`. */
  path: string
  summary: string
  tag: string
  body?: z.ZodType
  /** The body as `application/x-www-form-urlencoded` (OAuth endpoints) instead of JSON. */
  form?: boolean
  query?: z.ZodType
  replies: Record<number, ReplyDoc>
  /** Problem codes this route answers besides the ones its auth and body imply. */
  problems?: ProblemCode[]
}

const DOCS = Symbol('medcred.routeDocs')

/** Documents a route of `router` (see RouteDoc). */
export function doc(router: Router, route: RouteDoc): void {
  const holder = router as unknown as { [DOCS]?: RouteDoc[] }
  ;(holder[DOCS] ??= []).push(route)
}

/** The routes documented on `router`. */
export function docsOf(router: Router): RouteDoc[] {
  return (router as unknown as { [DOCS]?: RouteDoc[] })[DOCS] ?? []
}

/**
 * Browser pages (src/web: `/`, `/web/…`): HTML forms with their own sessions and CSRF tokens, not the API,
 * so the OpenAPI document leaves them out (the API they act through is documented).
 */
export const PAGE_ROUTE = /^(GET|POST) (\/|\/web\/.*)$/
