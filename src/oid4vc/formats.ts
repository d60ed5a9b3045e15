import type { VerifiableCredential } from '@veramo/core'
import { SD_JWT_VC_FORMAT, vctOf } from '../credentials/sd-jwt-vc.js'
import { SD_JWT_TYPES } from '../issuance/sd-jwt-issue.js'
import type { IssueFormat } from '../issuance/service.js'
import { ACCEPTED_ALGS } from '../verification/jwt-proof.js'

/** Holder DID methods a key proof may name in `kid` (or `jwk`, which becomes a did:jwk). */
export const BINDING_METHODS = ['did:key', 'did:jwk', 'did:ethr'] as const

/** Algorithms a wallet may sign key proofs and presentations with. */
export const HOLDER_ALGS = [...ACCEPTED_ALGS].filter((a) => a !== 'ES256K-R')

/**
 * One credential format as the wallet protocols speak it: its configuration in the issuer metadata, its
 * DCQL query, and how an issued credential travels in a Credential Response. A new format (SD-JWT VC,
 * `dc+sd-jwt`) is one more entry of this table; the endpoints look formats up here, never branch on them.
 */
export interface WalletFormat {
  /** How the issuance capability secures a credential of this format (`POST /credentials/issue` `options.format`). */
  issueFormat: IssueFormat
  /** Whether a credential type is offered in this format. */
  offers(type: string): boolean
  /** The key of a `credential_configurations_supported` entry for a credential type in this format. */
  configurationId(type: string): string
  /** That entry (OID4VCI 1.0 §12.2.4 and Appendix A). */
  configuration(type: string, display: string, publicUrl: string): Record<string, unknown>
  /** The `meta` of a DCQL Credential Query asking for this type (OID4VP 1.0 §6.1 and Appendix B). */
  dcqlMeta(type: string, publicUrl?: string): Record<string, unknown>
  /** The `vp_formats_supported` entry in the verifier's client metadata. */
  vpFormat: Record<string, unknown>
  /** The `credential` member of the Credential Response for a signed credential. */
  credentialOf(signed: VerifiableCredential | string): unknown
}

const jwtVcJson: WalletFormat = {
  issueFormat: 'jwt_vc',
  offers: () => true,
  configurationId: (type) => `${type}_jwt_vc_json`,
  configuration: (type, display) => ({
    format: 'jwt_vc_json',
    scope: type,
    cryptographic_binding_methods_supported: [...BINDING_METHODS],
    credential_signing_alg_values_supported: ['ES256K'],
    proof_types_supported: { jwt: { proof_signing_alg_values_supported: HOLDER_ALGS } },
    credential_definition: { type: ['VerifiableCredential', type] },
    credential_metadata: { display: [{ name: display, locale: 'en-US' }] },
  }),
  dcqlMeta: (type) => ({ type_values: [['VerifiableCredential', type]] }),
  vpFormat: { alg_values: HOLDER_ALGS },
  credentialOf: (signed) => (typeof signed === 'string' ? signed : (signed.proof as { jwt: string }).jwt),
}

/** SD-JWT VC (OID4VCI 1.0 Appendix A.3): the holder key becomes `cnf.jwk`, so the proving DID must carry a JWK. */
const dcSdJwt: WalletFormat = {
  issueFormat: SD_JWT_VC_FORMAT,
  offers: (type) => SD_JWT_TYPES.has(type),
  configurationId: (type) => `${type}_dc_sd_jwt`,
  configuration: (type, display, publicUrl) => ({
    format: SD_JWT_VC_FORMAT,
    scope: `${type}_dc_sd_jwt`,
    vct: vctOf(publicUrl, type),
    cryptographic_binding_methods_supported: ['did:key', 'did:jwk'],
    credential_signing_alg_values_supported: ['ES256K'],
    proof_types_supported: { jwt: { proof_signing_alg_values_supported: HOLDER_ALGS } },
    credential_metadata: { display: [{ name: display, locale: 'en-US' }] },
  }),
  dcqlMeta: (type, publicUrl = '') => ({ vct_values: [vctOf(publicUrl, type)] }),
  vpFormat: { 'sd-jwt_alg_values': ['ES256K'], 'kb-jwt_alg_values': HOLDER_ALGS },
  credentialOf: (signed) => signed as string,
}

export const WALLET_FORMATS: Record<string, WalletFormat> = { jwt_vc_json: jwtVcJson, [SD_JWT_VC_FORMAT]: dcSdJwt }

export type WalletFormatName = keyof typeof WALLET_FORMATS
export const DEFAULT_FORMAT = 'jwt_vc_json'
