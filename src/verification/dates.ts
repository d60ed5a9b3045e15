import { fail, pass, type Check } from './checks.js'

/**
 * Validity window of a credential or presentation. Both the JWT claims (`nbf`, `exp`) and the JSON dates
 * (`issuanceDate`/`validFrom`, `expirationDate`/`validUntil`) of every given object count; the strictest wins. did-jwt alone
 * checks only the JWT claims.
 */
export function checkDates(
  claims: { nbf?: number; exp?: number },
  json: { issuanceDate?: unknown; validFrom?: unknown; expirationDate?: unknown; validUntil?: unknown }[],
  opts: { now: number; skewSeconds: number; name?: string },
): Check {
  const name = opts.name ?? 'dates'
  const seconds = (v: unknown): number | undefined => {
    if (typeof v !== 'string') return undefined
    const t = Date.parse(v)
    return Number.isNaN(t) ? NaN : Math.floor(t / 1000)
  }
  // Every place a date can sit counts (a JWT's `vc` claim may hold dates that normalisation leaves nested).
  const starts = [claims.nbf, ...json.flatMap((j) => [seconds(j?.issuanceDate), seconds(j?.validFrom)])].filter((v) => v !== undefined)
  const ends = [claims.exp, ...json.flatMap((j) => [seconds(j?.expirationDate), seconds(j?.validUntil)])].filter((v) => v !== undefined)
  if ([...starts, ...ends].some((v) => typeof v !== 'number' || Number.isNaN(v))) {
    return fail(name, 'a validity date is not a valid date-time')
  }
  const notBefore = starts.length ? Math.max(...(starts as number[])) : undefined
  const notAfter = ends.length ? Math.min(...(ends as number[])) : undefined
  const iso = (s: number) => new Date(s * 1000).toISOString()
  if (notBefore !== undefined && notBefore > opts.now + opts.skewSeconds) return fail(name, `not valid before ${iso(notBefore)}`)
  if (notAfter !== undefined && notAfter <= opts.now - opts.skewSeconds) return fail(name, `expired at ${iso(notAfter)}`)
  return pass(name, notAfter !== undefined ? `valid until ${iso(notAfter)}` : 'no expiry')
}
