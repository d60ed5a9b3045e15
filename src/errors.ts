/**
 * Every error a client can see, in one map: a stable code (the last segment of the problem `type` URI),
 * its HTTP status and a human title. Capabilities throw `AppError(code, detail)`; the HTTP edge turns it
 * into RFC 9457 problem+json once (src/api/problem.ts). Never parse codes out of messages. A code with
 * `retryAfter` is a "retry later" (every 503): its reply carries `Retry-After` (seconds), which an error
 * may override with its own `extra.retryAfter` (the rate limiter's time to the next window).
 */
export const PROBLEMS = {
  'invalid-json': { status: 400, title: 'The request body is not valid JSON' },
  'invalid-request': { status: 400, title: 'The request does not have the expected shape' },
  'malformed-request': { status: 400, title: 'The request is not well-formed HTTP' },
  'request-timeout': { status: 408, title: 'The request took too long to arrive' },
  'headers-too-large': { status: 431, title: 'The request line or headers are too large' },
  'invalid-credential': { status: 422, title: 'The credential does not fit its type' },
  'unsupported-media-type': { status: 415, title: 'Send the body as application/json' },
  'body-too-large': { status: 413, title: 'The request body is too large' },
  unauthorized: { status: 401, title: 'Authentication is required' },
  forbidden: { status: 403, title: 'Not allowed for this caller' },
  'csrf-refused': { status: 403, title: 'The form is missing its CSRF token, or the token is not this session\'s' },
  'invalid-fhir-resource': { status: 422, title: 'The FHIR resource is not valid for this operation' },
  'reserved-credential-type': { status: 403, title: 'medcred signs this credential type only through its own flow' },
  'not-found': { status: 404, title: 'Not found' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'Conflicts with existing state' },
  'rate-limited': { status: 429, title: 'Too many requests' },
  'verification-failed': { status: 400, title: 'Verification failed' },
  'invalid-did': { status: 400, title: 'Not a valid DID' },
  'did-not-found': { status: 404, title: 'DID not found' },
  'did-method-not-supported': { status: 501, title: 'DID method not supported' },
  'did-representation-not-supported': { status: 406, title: 'The DID document representation asked for is not supported' },
  'did-deactivated': { status: 410, title: 'The DID is deactivated' },
  'invalid-consent': { status: 422, title: 'The consent does not fit a PatientConsentCredential' },
  'invalid-webhook-url': { status: 422, title: 'The webhook URL is not one medcred may call' },
  'chain-unavailable': { status: 503, title: 'The chain cannot be reached now; retry later', retryAfter: 5 },
  'database-unavailable': { status: 503, title: 'The database cannot be reached now; retry later', retryAfter: 2 },
  internal: { status: 500, title: 'Internal error' },
} as const satisfies Record<string, { status: number; title: string; retryAfter?: number }>

export type ProblemCode = keyof typeof PROBLEMS

export const PROBLEM_TYPE_BASE = 'https://medcred.dev/problems/'

export class AppError extends Error {
  constructor(
    readonly code: ProblemCode,
    readonly detail: string,
    /** Extra members of the problem object (e.g. `errors`, `checks`). */
    readonly extra: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${detail}`, options)
    this.name = 'AppError'
  }

  get status(): number {
    return PROBLEMS[this.code].status
  }

  /** Seconds a client should wait before retrying, when this is a "retry later". */
  get retryAfter(): number | undefined {
    const own = this.extra.retryAfter
    if (typeof own === 'number') return own
    const entry = PROBLEMS[this.code]
    return 'retryAfter' in entry ? entry.retryAfter : undefined
  }
}
