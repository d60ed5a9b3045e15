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
 * Checks what no schema can say cheaply, walking the body without recursion (a deeply nested body must
 * not overflow the stack): a NUL character anywhere (PostgreSQL refuses it), or nesting past MAX_BODY_DEPTH.
 * Returns what is wrong, or undefined.
 */
export function bodyProblem(value: unknown): string | undefined {
  const stack: [unknown, number][] = [[value, 0]]
  while (stack.length) {
    const [v, depth] = stack.pop()!
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return 'the body contains a NUL character (\\u0000)'
    } else if (v && typeof v === 'object') {
      if (depth >= MAX_BODY_DEPTH) return `the body nests deeper than ${MAX_BODY_DEPTH} levels`
      for (const [k, child] of Object.entries(v)) {
        if (k.includes('\u0000')) return 'the body contains a NUL character (\\u0000)'
        stack.push([child, depth + 1])
      }
    }
  }
  return undefined
}
