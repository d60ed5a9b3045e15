import type { DIDResolutionResult } from 'did-resolver'

const PUBLIC_MEMBERS: Record<string, string[]> = { EC: ['kty', 'crv', 'x', 'y'], OKP: ['kty', 'crv', 'x'] }
const CURVES = new Set(['P-256', 'secp256k1', 'Ed25519'])

/**
 * did:jwk (https://github.com/quartzjer/did-jwk): the DID is the base64url of a public JWK, the document
 * derived from it alone, with one verification method `#0`. A JWK holding private members is refused.
 */
export function resolveDidJwk(did: string): DIDResolutionResult {
  const failed = (message: string): DIDResolutionResult => ({ didResolutionMetadata: { error: 'invalidDid', message }, didDocument: null, didDocumentMetadata: {} })
  const encoded = did.slice('did:jwk:'.length)
  if (!/^[A-Za-z0-9_-]+$/.test(encoded)) return failed('did:jwk: not base64url')
  let jwk: Record<string, unknown>
  try {
    jwk = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'))
  } catch {
    return failed('did:jwk: not a JSON JWK')
  }
  const members = PUBLIC_MEMBERS[String(jwk?.kty)]
  if (!members || !CURVES.has(String(jwk.crv)) || 'd' in jwk || members.some((m) => typeof jwk[m] !== 'string')) {
    return failed('did:jwk: not a public EC (P-256, secp256k1) or OKP (Ed25519) key')
  }
  const vm = `${did}#0`
  return {
    didResolutionMetadata: { contentType: 'application/did+ld+json' },
    didDocument: {
      '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/suites/jws-2020/v1'],
      id: did,
      verificationMethod: [{ id: vm, type: 'JsonWebKey2020', controller: did, publicKeyJwk: Object.fromEntries(members.map((m) => [m, jwk[m]])) as never }],
      authentication: [vm],
      assertionMethod: [vm],
      capabilityInvocation: [vm],
      capabilityDelegation: [vm],
    },
    didDocumentMetadata: {},
  }
}
