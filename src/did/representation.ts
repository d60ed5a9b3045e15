/**
 * W3C DID Resolution over HTTP(S): which representation an `Accept` header asks for. The DID document
 * alone (`application/did+json`, `application/did+ld+json`) or the whole resolution result
 * (`application/did-resolution`, `application/ld+json;profile="https://w3id.org/did-resolution"`, and
 * what no Accept or a wildcard gets); undefined when nothing acceptable is offered.
 */
export type Representation = { body: 'document' | 'result'; contentType: string }

export const DID_RESOLUTION_PROFILE = 'https://w3id.org/did-resolution'
export const RESOLUTION_RESULT_TYPE = 'application/did-resolution'

const DEFAULT: Representation = { body: 'result', contentType: RESOLUTION_RESULT_TYPE }

const BY_TYPE: Record<string, (params: Record<string, string>) => Representation | undefined> = {
  'application/did+json': () => ({ body: 'document', contentType: 'application/did+json' }),
  'application/did+ld+json': () => ({ body: 'document', contentType: 'application/did+ld+json' }),
  'application/did-resolution': () => DEFAULT,
  'application/ld+json': (params) =>
    params.profile === DID_RESOLUTION_PROFILE ? { body: 'result', contentType: `application/ld+json;profile="${DID_RESOLUTION_PROFILE}"` } : undefined,
  '*/*': () => DEFAULT,
  'application/*': () => DEFAULT,
}

/** The representation to answer with, by the client's preference (q values, then order). */
export function negotiate(accept: string | undefined): Representation | undefined {
  if (!accept?.trim()) return DEFAULT
  const ranges = accept
    .split(',')
    .map((part, order) => {
      const [type, ...rest] = part.split(';').map((s) => s.trim())
      const params = Object.fromEntries(
        rest.map((p) => p.split('=')).filter((kv) => kv.length === 2).map(([k, v]) => [k.trim().toLowerCase(), v.trim().replace(/^"|"$/g, '')]),
      )
      const q = params.q === undefined ? 1 : Number(params.q)
      return { type: type.toLowerCase(), params, q: Number.isFinite(q) ? q : 0, order }
    })
    .filter((r) => r.q > 0)
    .sort((a, b) => b.q - a.q || a.order - b.order)
  for (const range of ranges) {
    const chosen = BY_TYPE[range.type]?.(range.params)
    if (chosen) return chosen
  }
  return undefined
}

/** The DID Resolution error types (`https://www.w3.org/ns/did#…`), by medcred's resolution failures. */
export const DID_ERROR_TYPE = {
  invalidDid: 'INVALID_DID',
  notFound: 'NOT_FOUND',
  methodNotSupported: 'METHOD_NOT_SUPPORTED',
  unavailable: 'INTERNAL_ERROR',
  representationNotSupported: 'REPRESENTATION_NOT_SUPPORTED',
  deactivated: 'DEACTIVATED',
} as const

export const didErrorType = (name: keyof typeof DID_ERROR_TYPE) => `https://www.w3.org/ns/did#${DID_ERROR_TYPE[name]}`
