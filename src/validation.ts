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

/** A NUL reaches PostgreSQL as an error; reject it anywhere in a request body at the boundary. */
export function containsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000')
  if (Array.isArray(value)) return value.some(containsNul)
  if (value && typeof value === 'object') {
    return Object.entries(value).some(([k, v]) => k.includes('\u0000') || containsNul(v))
  }
  return false
}
