// Not imported from w3c.ts, which imports this module (its request schemas name the envelope types).
const VC_V2_CONTEXT = 'https://www.w3.org/ns/credentials/v2'
const asArray = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v])

/**
 * VC 2.0 secured with VC-JOSE-COSE: a compact JWS whose payload *is* the credential (or presentation),
 * with protected header `typ: vc+jwt` (`vp+jwt`) and `kid` the DID URL of the signing key. In JSON APIs
 * it travels as an `EnvelopedVerifiableCredential` (`EnvelopedVerifiablePresentation`) whose `id` is the
 * JWT as a data URL.
 */
export const VC_JWT_TYP = 'vc+jwt'
export const VP_JWT_TYP = 'vp+jwt'
export const ENVELOPED_CREDENTIAL = 'EnvelopedVerifiableCredential'
export const ENVELOPED_PRESENTATION = 'EnvelopedVerifiablePresentation'

const DATA_URL_PREFIX = { credential: `data:application/${VC_JWT_TYP},`, presentation: `data:application/${VP_JWT_TYP},` } as const
const ENVELOPE_TYPE = { credential: ENVELOPED_CREDENTIAL, presentation: ENVELOPED_PRESENTATION } as const

export type EnvelopeKind = keyof typeof DATA_URL_PREFIX

/** A VC 2.0 envelope as it travels in JSON. */
export interface Envelope {
  '@context': unknown
  type: string
  id: string
}

/** The envelope of a vc+jwt (or vp+jwt). */
export function envelope(jwt: string, kind: EnvelopeKind = 'credential'): Envelope {
  return { '@context': [VC_V2_CONTEXT], type: ENVELOPE_TYPE[kind], id: `${DATA_URL_PREFIX[kind]}${jwt}` }
}

/** Whether `input` is an envelope of `kind` (by its type: its other members are judged by `envelopeProblem`). */
export function isEnvelope(input: unknown, kind: EnvelopeKind): input is Envelope {
  return !!input && typeof input === 'object' && asArray((input as { type?: unknown }).type).includes(ENVELOPE_TYPE[kind])
}

/** The JWT an envelope carries, or undefined when its `id` is not a data URL of the right media type. */
export function jwtOfEnvelope(input: Envelope, kind: EnvelopeKind): string | undefined {
  const id = input.id
  return typeof id === 'string' && id.startsWith(DATA_URL_PREFIX[kind]) ? id.slice(DATA_URL_PREFIX[kind].length) : undefined
}

/**
 * What is wrong with an envelope, or undefined. Only the JWT is signed, so an envelope holds nothing else:
 * a `proof`, a subject or any other member beside `@context`, `type` and `id` would be believed unsigned.
 */
export function envelopeProblem(input: Envelope, kind: EnvelopeKind): string | undefined {
  if (asArray(input['@context'])[0] !== VC_V2_CONTEXT) return `an ${ENVELOPE_TYPE[kind]}'s @context starts with ${VC_V2_CONTEXT}`
  if (input.type !== ENVELOPE_TYPE[kind]) return `an ${ENVELOPE_TYPE[kind]} has exactly that type`
  if (!jwtOfEnvelope(input, kind)) return `its id is not a ${DATA_URL_PREFIX[kind]}<jwt> data URL`
  const extra = Object.keys(input).filter((k) => !['@context', 'type', 'id'].includes(k))
  if (extra.length) return `${extra[0].slice(0, 60)} is not signed: an ${ENVELOPE_TYPE[kind]} carries only @context, type and id`
  return undefined
}

/** Whether a decoded JWT is a VC 2.0 (VC-JOSE-COSE) one rather than a VC 1.1 JWT with a `vc`/`vp` claim. */
export function isJoseSecured(header: { typ?: unknown }, payload: Record<string, unknown>, kind: EnvelopeKind): boolean {
  const typ = kind === 'credential' ? VC_JWT_TYP : VP_JWT_TYP
  if (header.typ === typ || header.typ === `application/${typ}`) return true
  return !(kind === 'credential' ? 'vc' in payload : 'vp' in payload) && asArray(payload['@context'])[0] === VC_V2_CONTEXT
}
