import canonicalizeModule from 'canonicalize'

/**
 * RFC 8785 JSON canonicalization. The package is CommonJS with an ESM-style default in its types,
 * so under NodeNext the default import is the function itself at run time.
 */
export const canonicalJson = canonicalizeModule as unknown as (value: unknown) => string | undefined
