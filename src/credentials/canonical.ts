import canonicalizeModule from 'canonicalize'

/**
 * RFC 8785 JSON canonicalization. The package is CommonJS with an ESM-style default in its types,
 * so under NodeNext the default import is the function itself at run time.
 */
export const canonicalJson = canonicalizeModule as unknown as (value: unknown) => string | undefined

/**
 * Whether two JSON values have the same RFC 8785 canonical form (`canonicalJson(a) === canonicalJson(b)`),
 * without serialising either: key order does not matter, a member whose value is `undefined` is absent,
 * and `undefined` in an array stands for null, as canonicalisation has it.
 */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false
    return a.every((v, i) => sameJson(v ?? null, b[i] ?? null))
  }
  const x = a as Record<string, unknown>
  const y = b as Record<string, unknown>
  const keys = Object.keys(x).filter((k) => x[k] !== undefined)
  if (keys.length !== Object.keys(y).filter((k) => y[k] !== undefined).length) return false
  return keys.every((k) => Object.hasOwn(y, k) && sameJson(x[k], y[k]))
}
