import { pino, type Logger as Pino } from 'pino'
import type { Logger } from './api/problem.js'

const REDACTED = '[redacted]'

/**
 * Field names whose values never reach a log line, at any depth (compared lower-cased): credentials to
 * this service, key material, and what a credential says about its subject (patient and clinician data).
 */
const SECRET_KEYS = new Set([
  'authorization', 'cookie', 'set-cookie', 'apikey', 'api_key', 'x-api-key', 'token', 'admintoken', 'metricstoken',
  'access_token', 'accesstoken', 'bearer', 'password', 'secret', 'privatekey', 'private_key', 'privatekeyhex',
  'kmssecretkey', 'operatorprivatekey', 'jwt', 'sdjwt', 'vp_token', 'id_token', 'pre-authorized_code',
  'credentialsubject', 'subject_values', 'birthdate', 'identifiers', 'disclosures', 'claims', 'patient',
])

/** Values that are secrets whatever their field is called: compact JWTs / SD-JWTs, our API keys, hex private keys. */
const SECRET_VALUES: RegExp[] = [
  /eyJ[\w-]*\.[\w-]*\.[\w-]*(~[\w.~-]*)?/g,
  /\bmck_[\w-]{20,}/g,
  /\b(0x)?[0-9a-fA-F]{64}\b/g,
]

const MAX_DEPTH = 6

/** Replaces secrets inside one string (a message, an error text, a stack). */
export function scrubText(text: string): string {
  let out = text
  for (const re of SECRET_VALUES) out = out.replace(re, REDACTED)
  return out
}

/** A copy of `value` with secret fields and secret-looking strings replaced; exported for its test. */
export function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubText(value)
  if (value === null || typeof value !== 'object') return value
  if (depth >= MAX_DEPTH) return '[truncated]'
  if (value instanceof Error) return scrubText(value.stack ?? value.message)
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1))
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEYS.has(k.toLowerCase()) ? REDACTED : scrub(v, depth + 1)
  return out
}

function wrap(p: Pino): Logger {
  return {
    info: (m, f) => p.info(f ? (scrub(f) as object) : {}, scrubText(m)),
    error: (m, f) => p.error(f ? (scrub(f) as object) : {}, scrubText(m)),
  }
}

/**
 * Structured JSON logs (pino), one line per event on stderr: `time` (ISO 8601), `level` (name), `message`,
 * and the event's fields. Every line passes through `scrub` first, so a field or message can never carry
 * a bearer token, API key, JWT, private key or credential subject values.
 */
export function jsonLogger(out: NodeJS.WritableStream = process.stderr, base: Record<string, unknown> = {}): Logger {
  const destination = out === process.stderr ? pino.destination({ fd: 2, sync: true }) : out
  return wrap(
    pino(
      {
        base: { service: 'medcred', ...base },
        messageKey: 'message',
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
      },
      destination,
    ),
  )
}

export const silentLogger: Logger = { info: () => {}, error: () => {} }
