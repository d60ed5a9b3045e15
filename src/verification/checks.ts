/** One named check of a verification and its outcome. */
export interface Check {
  check: string
  ok: boolean
  detail?: string
}

/** The outcome of verifying something: verified only when every check passed. */
export interface Verdict {
  verified: boolean
  checks: Check[]
}

export const pass = (check: string, detail?: string): Check => (detail ? { check, ok: true, detail } : { check, ok: true })
export const fail = (check: string, detail: string): Check => ({ check, ok: false, detail })

export function verdict(checks: Check[]): Verdict {
  return { verified: checks.length > 0 && checks.every((c) => c.ok), checks }
}

export function failures(checks: Check[]): { check: string; detail: string }[] {
  return checks.filter((c) => !c.ok).map((c) => ({ check: c.check, detail: c.detail ?? 'failed' }))
}

/** Renames checks of an embedded item, e.g. `proof` → `credentials[0].proof`. */
export function prefixed(prefix: string, checks: Check[]): Check[] {
  return checks.map((c) => ({ ...c, check: `${prefix}.${c.check}` }))
}
