import { VC_V1_CONTEXT, type UnsignedCredential } from '../credentials/w3c.js'

/**
 * The defaults of medcred's convenience paths (OID4VCI offers, the CLI, imports): a credential that does
 * not state its data model is a VC 1.1 credential, one that names no issuer is the issuing institution's.
 * `POST /credentials/issue` never applies them: the VC API has the caller state both.
 */
export function withIssueDefaults(issuerDid: string, input: UnsignedCredential): UnsignedCredential {
  return { ...input, '@context': input['@context'] ?? [VC_V1_CONTEXT], issuer: input.issuer ?? issuerDid }
}
