import type { z } from 'zod'
import { AppError, type ProblemCode } from './errors.js'

export interface FieldError {
  /** JSON path of the offending field, e.g. `credential.credentialSubject.npi`. */
  field: string
  message: string
}

/** Parses `input` with `schema`, or throws a problem naming every field that does not fit and why. */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  input: unknown,
  opts: { code?: ProblemCode; prefix?: string; what?: string } = {},
): z.infer<S> {
  const parsed = schema.safeParse(input)
  if (parsed.success) return parsed.data
  const errors: FieldError[] = parsed.error.issues.map((i) => ({
    field: [opts.prefix, ...i.path.map(String)].filter(Boolean).join('.') || '(body)',
    message: i.message,
  }))
  const first = errors[0]
  throw new AppError(
    opts.code ?? 'invalid-request',
    `${opts.what ? `${opts.what}: ` : ''}${first.field}: ${first.message}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}`,
    { errors },
  )
}

/** How deep a request body may nest; no medcred document comes near it. */
export const MAX_BODY_DEPTH = 32

/**
 * The one rule for text that comes from outside, wherever it enters (an HTTP body, a decoded JWT):
 * every string and key must be well-formed Unicode without NUL. A lone surrogate (`"\ud800"`) cannot be
 * stored as UTF-8 (SQLite and PostgreSQL give back U+FFFD), so anything hashed over it stops matching
 * what was stored; PostgreSQL refuses NUL outright.
 */
export function textProblem(s: string): string | undefined {
  if (s.includes('\u0000')) return 'contains a NUL character (\\u0000)'
  if (!s.isWellFormed()) return 'is not well-formed Unicode (it holds a lone surrogate)'
  return undefined
}

/**
 * The text rule for the URL: the path as the router decodes it and every query key and value. A `%00` in
 * a path parameter would otherwise reach the database (PostgreSQL refuses NUL in text outright).
 */
export function urlProblem(path: string, query: Record<string, string | string[] | undefined>): string | undefined {
  let decoded = path
  try {
    decoded = decodeURIComponent(path)
  } catch {
    // not decodable: the router keeps it as it is, and so do we
  }
  const inPath = textProblem(decoded)
  if (inPath) return `the path ${inPath}`
  for (const [key, value] of Object.entries(query)) {
    for (const text of [key, ...(Array.isArray(value) ? value : value === undefined ? [] : [value])]) {
      const problem = textProblem(text)
      if (problem) return `the query parameter ${JSON.stringify(key.slice(0, 40))} ${problem}`
    }
  }
  return undefined
}

/**
 * Checks what no schema can say cheaply, walking the value without recursion (a deeply nested body must
 * not overflow the stack): text that breaks `textProblem` anywhere, in a value or a key, or nesting past
 * MAX_BODY_DEPTH. Returns what is wrong, naming where, or undefined.
 */
export function bodyProblem(value: unknown, what = 'the body'): string | undefined {
  const stack: [unknown, number, string][] = [[value, 0, '']]
  while (stack.length) {
    const [v, depth, at] = stack.pop()!
    if (typeof v === 'string') {
      const problem = textProblem(v)
      if (problem) return `${what}${at ? ` at ${at}` : ''} ${problem}`
    } else if (v && typeof v === 'object') {
      if (depth >= MAX_BODY_DEPTH) return `${what} nests deeper than ${MAX_BODY_DEPTH} levels`
      for (const [k, child] of Object.entries(v)) {
        const problem = textProblem(k)
        if (problem) return `${what} has a key that ${problem}`
        stack.push([child, depth + 1, at ? `${at}.${k}` : k])
      }
    }
  }
  return undefined
}

/**
 * `table[key]` for a key that came from outside (a path segment, a JWT header): only the table's own
 * entries, so `constructor`, `__proto__` or `valueOf` find nothing instead of an Object.prototype member.
 */
export function ownEntry<V>(table: Readonly<Record<string, V>>, key: string): V | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined
}
