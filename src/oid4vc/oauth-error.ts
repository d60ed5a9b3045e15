/**
 * The error codes the wallet protocols answer with (RFC 6749 §5.2, RFC 6750 §3.1, OID4VCI 1.0 §8.3.1.2,
 * OID4VP 1.0 §8.5), each with its HTTP status. The protocol endpoints answer `{error, error_description}`
 * JSON instead of problem+json because the specifications say so; everything else in medcred stays RFC 9457.
 */
export const OAUTH_ERRORS = {
  invalid_request: 400,
  invalid_grant: 400,
  unsupported_grant_type: 400,
  invalid_token: 401,
  invalid_credential_request: 400,
  unknown_credential_configuration: 400,
  unknown_credential_identifier: 400,
  invalid_proof: 400,
  invalid_nonce: 400,
  credential_request_denied: 400,
  invalid_request_uri: 400,
  temporarily_unavailable: 503,
  server_error: 500,
} as const satisfies Record<string, number>

export type OAuthErrorCode = keyof typeof OAUTH_ERRORS

export class OAuthError extends Error {
  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
    /** Extra members of the error object (e.g. a fresh `c_nonce`). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(`${error}: ${description}`)
    this.name = 'OAuthError'
  }

  get status(): number {
    return OAUTH_ERRORS[this.error]
  }
}
