import { createHash, generateKeyPairSync } from 'node:crypto'
import { SignJWT, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, type JWK } from 'jose'
import { ES256KSigner, bytesToBase58, createJWS, verifyJWS } from 'did-jwt'
import { computeAddress } from 'ethers'

/**
 * A holder's wallet written from the specifications alone (OID4VCI 1.0, OID4VP 1.0, DCQL, did:jwk), with
 * `jose` for keys and JWTs and did-jwt only to check the verifier's ES256K signature: never the server's
 * protocol code, so a mistake shared by server and test cannot hide. Speaks HTTP only; `publicUrl` (what
 * medcred writes into its URIs) is mapped to `baseUrl` (where the test server listens), as a proxy would.
 */
export class Oid4vcWallet {
  private constructor(
    readonly did: string,
    readonly kid: string,
    /** Signs a compact JWS over `header` and `payload` with this wallet's key. */
    private readonly signJwt: (header: Record<string, unknown>, payload: Record<string, unknown>) => Promise<string>,
    readonly alg: string,
    private readonly net: { publicUrl: string; baseUrl: string },
  ) {}

  /**
   * A wallet with one key: a did:jwk (ES256 or EdDSA), a did:key (Ed25519) or a did:ethr in address form on
   * `net.ethrNetwork` (secp256k1, resolved from the chain without any registry write).
   */
  static async create(
    net: { publicUrl: string; baseUrl: string; ethrNetwork?: string },
    alg: 'ES256' | 'EdDSA' | 'ES256K' = 'ES256',
    method: 'did:jwk' | 'did:key' | 'did:ethr' = 'did:jwk',
  ): Promise<Oid4vcWallet> {
    if (method === 'did:ethr') {
      // WebCrypto (and so jose) has no secp256k1: the key comes from node:crypto, the JWS from did-jwt.
      if (alg !== 'ES256K') throw new Error('did:ethr is secp256k1')
      const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'secp256k1' })
      const jwk = publicKey.export({ format: 'jwk' })
      const d = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url')
      const uncompressed = `0x04${Buffer.from(jwk.x!, 'base64url').toString('hex')}${Buffer.from(jwk.y!, 'base64url').toString('hex')}`
      const did = `did:ethr:${net.ethrNetwork}:${computeAddress(uncompressed)}`
      const sign = (header: Record<string, unknown>, payload: Record<string, unknown>) => createJWS(payload, ES256KSigner(d), header)
      return new Oid4vcWallet(did, `${did}#controller`, sign, alg, net)
    }
    if (alg === 'ES256K') throw new Error('ES256K keys are for did:ethr here')
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) })
    const jwk = await exportJWK(publicKey)
    const sign = (header: Record<string, unknown>, payload: Record<string, unknown>) => new SignJWT(payload).setProtectedHeader(header as never).sign(privateKey)
    if (method === 'did:key') {
      if (alg !== 'EdDSA') throw new Error('did:key here is Ed25519')
      const multibase = `z${bytesToBase58(Uint8Array.from([0xed, 0x01, ...Buffer.from(jwk.x!, 'base64url')]))}`
      return new Oid4vcWallet(`did:key:${multibase}`, `did:key:${multibase}#${multibase}`, sign, alg, net)
    }
    const did = didJwk(jwk)
    return new Oid4vcWallet(did, `${did}#0`, sign, alg, net)
  }

  /** Fetches a URL medcred handed out, through the mapping to the test server. */
  fetch(url: string, init?: RequestInit): Promise<Response> {
    return fetch(url.startsWith(this.net.publicUrl) ? this.net.baseUrl + url.slice(this.net.publicUrl.length) : url, init)
  }

  // ---- OID4VCI 1.0 ----

  /** §4.1: the Credential Offer behind an `openid-credential-offer://?credential_offer_uri=` URI. */
  async resolveOffer(offerUri: string): Promise<CredentialOffer> {
    const url = new URL(offerUri)
    if (url.protocol !== 'openid-credential-offer:') throw new Error(`not a credential offer URI: ${offerUri}`)
    const by = url.searchParams.get('credential_offer_uri')
    if (!by) throw new Error('offer URI without credential_offer_uri')
    const res = await this.fetch(by)
    if (res.status !== 200) throw new Error(`credential offer: ${res.status} ${await res.text()}`)
    return (await res.json()) as CredentialOffer
  }

  /** §12.2.2: metadata at the issuer's well-known URL, `/.well-known/openid-credential-issuer` inserted before the path. */
  async issuerMetadata(issuer: string): Promise<{ status: number; type: string; body: any }> {
    const u = new URL(issuer)
    return this.json(`${u.origin}/.well-known/openid-credential-issuer${u.pathname.replace(/\/$/, '')}`)
  }

  /** RFC 8414 §3.1: authorization server metadata, well-known inserted the same way. */
  async authorizationServerMetadata(issuer: string): Promise<{ status: number; type: string; body: any }> {
    const u = new URL(issuer)
    return this.json(`${u.origin}/.well-known/oauth-authorization-server${u.pathname.replace(/\/$/, '')}`)
  }

  /** §6.1: the token request with the pre-authorized code, form-encoded. */
  async token(offer: CredentialOffer, opts: { txCode?: string; code?: string; grantType?: string } = {}): Promise<Reply> {
    const as = (await this.authorizationServerMetadata(offer.credential_issuer)).body
    const grant = offer.grants[PRE_AUTH]
    const form = new URLSearchParams({ grant_type: opts.grantType ?? PRE_AUTH, 'pre-authorized_code': opts.code ?? grant['pre-authorized_code'] })
    if (opts.txCode !== undefined) form.set('tx_code', opts.txCode)
    return this.send(as.token_endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() })
  }

  /** §7: a fresh c_nonce. */
  async nonce(issuer: string): Promise<string> {
    const meta = (await this.issuerMetadata(issuer)).body
    const res = await this.send(meta.nonce_endpoint, { method: 'POST' })
    if (res.status !== 200) throw new Error(`nonce: ${res.status} ${JSON.stringify(res.body)}`)
    return res.body.c_nonce
  }

  /** Appendix F.1: a `jwt` key proof; every field can be spoiled for negative tests. */
  async proof(opts: { aud: string; nonce?: string; typ?: string; kid?: string; signWith?: Oid4vcWallet; iat?: number; jwk?: boolean; claims?: Record<string, unknown> }): Promise<string> {
    const signer = opts.signWith ?? this
    const header: Record<string, unknown> = { alg: signer.alg, typ: opts.typ ?? 'openid4vci-proof+jwt' }
    if (opts.jwk) header.jwk = JSON.parse(Buffer.from(this.did.slice('did:jwk:'.length), 'base64url').toString())
    else header.kid = opts.kid ?? this.kid
    const claims: Record<string, unknown> = { ...opts.claims, aud: opts.aud, iat: opts.iat ?? Math.floor(Date.now() / 1000) }
    if (opts.nonce !== undefined) claims.nonce = opts.nonce
    return signer.signJwt(header, claims)
  }

  /** §8.2: the Credential Request with `proofs.jwt`. */
  async requestCredential(issuer: string, accessToken: string | undefined, body: Record<string, unknown>): Promise<Reply> {
    const meta = (await this.issuerMetadata(issuer)).body
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (accessToken) headers.authorization = `Bearer ${accessToken}`
    return this.send(meta.credential_endpoint, { method: 'POST', headers, body: JSON.stringify(body) })
  }

  /** The whole pre-authorized code flow; returns the issued credential (a VC-JWT for jwt_vc_json). */
  async receive(offerUri: string, opts: { txCode?: string } = {}): Promise<string> {
    const offer = await this.resolveOffer(offerUri)
    const token = await this.token(offer, opts)
    if (token.status !== 200) throw new Error(`token: ${token.status} ${JSON.stringify(token.body)}`)
    const nonce = await this.nonce(offer.credential_issuer)
    const proof = await this.proof({ aud: offer.credential_issuer, nonce })
    const res = await this.requestCredential(offer.credential_issuer, token.body.access_token, {
      credential_configuration_id: offer.credential_configuration_ids[0],
      proofs: { jwt: [proof] },
    })
    if (res.status !== 200) throw new Error(`credential: ${res.status} ${JSON.stringify(res.body)}`)
    return res.body.credentials[0].credential
  }

  // ---- OID4VP 1.0 ----

  /**
   * §5: opens an `openid4vp://` URI, fetches the Request Object by reference and checks it as §5.10 and
   * the `decentralized_identifier` client identifier prefix require: typ, client_id equal to the URI's,
   * signed by a verification method (named by `kid`) of the DID, resolved over HTTP.
   */
  async openRequest(requestUri: string): Promise<AuthorizationRequest> {
    const url = new URL(requestUri)
    if (url.protocol !== 'openid4vp:') throw new Error(`not an openid4vp URI: ${requestUri}`)
    const clientId = url.searchParams.get('client_id')!
    const res = await this.fetch(url.searchParams.get('request_uri')!)
    if (res.status !== 200) throw new Error(`request object: ${res.status} ${await res.text()}`)
    const contentType = res.headers.get('content-type') ?? ''
    const jwt = await res.text()
    const header = decodeProtectedHeader(jwt) as Record<string, any>
    const claims = decodeJwt(jwt) as Record<string, any>
    if (header.typ !== 'oauth-authz-req+jwt') throw new Error(`request object typ ${header.typ}`)
    if (claims.client_id !== clientId) throw new Error('request object client_id differs from the URI')
    if (!clientId.startsWith('decentralized_identifier:')) throw new Error(`client id prefix: ${clientId}`)
    const did = clientId.slice('decentralized_identifier:'.length)
    if (typeof header.kid !== 'string' || !header.kid.startsWith(`${did}#`)) throw new Error('kid is not a DID URL of the client')
    const resolution = await (await this.fetch(`${this.net.publicUrl}/1.0/identifiers/${encodeURIComponent(did)}`)).json()
    const vm = (resolution.didDocument.verificationMethod as any[]).find((m) => m.id === header.kid || `${did}${m.id}` === header.kid)
    if (!vm) throw new Error('kid names no verification method of the DID')
    verifyJWS(jwt, vm)
    return { jwt, header, claims, contentType, clientId }
  }

  /** A VP-JWT (VC Data Model 1.1 JWT, as OID4VP Appendix B.1.3.1 wants for jwt_vc_json): aud = client_id, nonce. */
  async presentation(credentials: string[], opts: { aud: string; nonce: string; signWith?: Oid4vcWallet; holder?: string }): Promise<string> {
    const signer = opts.signWith ?? this
    const holder = opts.holder ?? signer.did
    const iat = Math.floor(Date.now() / 1000)
    return signer.signJwt(
      { alg: signer.alg, typ: 'JWT', kid: signer.kid },
      {
        iss: holder,
        aud: opts.aud,
        nonce: opts.nonce,
        iat,
        exp: iat + 300,
        vp: { '@context': ['https://www.w3.org/2018/credentials/v1'], type: ['VerifiablePresentation'], holder, verifiableCredential: credentials },
      },
    )
  }

  /** §8.2: posts `vp_token` and `state` to the `response_uri`, form-encoded (`direct_post`). */
  async respond(request: AuthorizationRequest, vpToken: Record<string, string[]> | string, opts: { state?: string; responseUri?: string } = {}): Promise<Reply> {
    const form = new URLSearchParams({ vp_token: typeof vpToken === 'string' ? vpToken : JSON.stringify(vpToken), state: opts.state ?? request.claims.state })
    return this.send(opts.responseUri ?? request.claims.response_uri, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() })
  }

  /**
   * Answers a request with `credentials` in one VP-JWT, listed under each DCQL query it satisfies (the
   * receipt under the receipt query when the request has one).
   */
  async answer(requestUri: string, credentials: string[]): Promise<{ request: AuthorizationRequest; reply: Reply }> {
    const request = await this.openRequest(requestUri)
    const vp = await this.presentation(credentials, { aud: request.claims.client_id, nonce: request.claims.nonce })
    const reply = await this.respond(request, vpTokenFor(request, credentials, vp))
    return { request, reply }
  }

  /**
   * Answers with an SD-JWT VC (RFC 9901 §4.3, OID4VP 1.0 Appendix B.3): the issuer-signed JWT, only the
   * disclosures named in `disclose`, and a KB-JWT (`typ: kb+jwt`) over them bound to the request's
   * `nonce` and `client_id`. `kb` overrides the KB-JWT's claims, to play a wallet that gets them wrong.
   */
  async answerSdJwt(requestUri: string, sdJwt: string, disclose: string[], kb: Record<string, unknown> = {}): Promise<{ request: AuthorizationRequest; reply: Reply }> {
    const request = await this.openRequest(requestUri)
    const [issuerJwt, ...rest] = sdJwt.split('~')
    const chosen = rest.filter((d) => d && disclose.includes(JSON.parse(Buffer.from(d, 'base64url').toString('utf8'))[1]))
    const presented = `${issuerJwt}~${chosen.map((d) => `${d}~`).join('')}`
    const sdHash = createHash('sha256').update(presented).digest('base64url')
    const kbJwt = await this.signJwt(
      { alg: this.alg, typ: 'kb+jwt' },
      { iat: Math.floor(Date.now() / 1000), aud: request.claims.client_id, nonce: request.claims.nonce, sd_hash: sdHash, ...kb },
    )
    const queryId = (request.claims.dcql_query.credentials as { id: string }[])[0].id
    return { request, reply: await this.respond(request, { [queryId]: [presented + kbJwt] }) }
  }

  /** A PatientConsentCredential (VC-JWT) this wallet signs: `grantee` may verify it for `purposes`, for an hour. */
  consent(grantee: string, purposes: string[], aud: string, credentialTypes = ['PatientIdentityCredential']): Promise<string> {
    const now = Math.floor(Date.now() / 1000)
    return this.proof({
      typ: 'JWT',
      aud,
      claims: {
        iss: this.did,
        sub: grantee,
        nbf: now - 5,
        exp: now + 3600,
        vc: {
          '@context': ['https://www.w3.org/2018/credentials/v1'],
          type: ['VerifiableCredential', 'PatientConsentCredential'],
          credentialSubject: { purposes, credentialTypes },
        },
      },
    })
  }

  private async json(url: string) {
    const res = await this.fetch(url)
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.json().catch(() => undefined) }
  }

  private async send(url: string, init: RequestInit): Promise<Reply> {
    const res = await this.fetch(url, init)
    const text = await res.text()
    let body: any = text
    try {
      body = text ? JSON.parse(text) : undefined
    } catch {
      // not JSON
    }
    return { status: res.status, type: res.headers.get('content-type') ?? '', headers: res.headers, body }
  }
}

export const PRE_AUTH = 'urn:ietf:params:oauth:grant-type:pre-authorized_code'

export interface CredentialOffer {
  credential_issuer: string
  credential_configuration_ids: string[]
  grants: Record<string, any>
}

export interface AuthorizationRequest {
  jwt: string
  header: Record<string, any>
  claims: Record<string, any>
  contentType: string
  clientId: string
}

export interface Reply {
  status: number
  type: string
  headers: Headers
  body: any
}

/** did:jwk: base64url of the public JWK's members in lexicographic order. */
export function didJwk(jwk: JWK): string {
  const members = jwk.kty === 'OKP' ? ['crv', 'kty', 'x'] : ['crv', 'kty', 'x', 'y']
  const pub = Object.fromEntries(members.map((m) => [m, (jwk as Record<string, unknown>)[m]]))
  return `did:jwk:${Buffer.from(JSON.stringify(pub)).toString('base64url')}`
}

/** The vp_token for one VP answering DCQL queries: each query whose type one of the credentials has. */
export function vpTokenFor(request: AuthorizationRequest, credentials: string[], vp: string): Record<string, string[]> {
  const types = credentials.map((c) => (decodeJwt(c) as any).vc?.type as string[])
  const token: Record<string, string[]> = {}
  for (const query of request.claims.dcql_query.credentials as any[]) {
    const wanted: string[][] = query.meta.type_values
    if (types.some((t) => wanted.some((w) => w.every((x) => t.includes(x))))) token[query.id] = [vp]
  }
  return token
}
