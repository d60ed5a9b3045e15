import { randomInt, randomUUID } from 'node:crypto'
import { withIssueDefaults } from '../issuance/defaults.js'
import type { EntityManager } from 'typeorm'
import type { VerifiableCredential } from '@veramo/core'
import type { AuditLog } from '../audit/audit-log.js'
import type { AuditActor } from '../audit/types.js'
import type { Oid4vcConfig } from '../config.js'
import { asArray, type UnsignedCredential } from '../credentials/w3c.js'
import type { Database } from '../db/database.js'
import type { DidResolver } from '../did/resolver.js'
import { AppError } from '../errors.js'
import type { InstitutionRow } from '../institutions/institution.entity.js'
import type { InstitutionService } from '../institutions/service.js'
import type { IssuanceService } from '../issuance/service.js'
import { idempotencyKey } from '../idempotency/idempotency.js'
import { RECEIPT_TYPE } from '../acceptance/receipts.js'
import { displayName, walletTypes } from './catalogue.js'
import { NonceEntity, OfferEntity, type OfferRow } from './entities.js'
import { DEFAULT_FORMAT, WALLET_FORMATS } from './formats.js'
import { verifyKeyProof } from './key-proof.js'
import { OAuthError } from './oauth-error.js'
import { derivedToken, hashesEqual, keyedHash, matchesHash, randomToken, sha256Hex } from './secrets.js'

export const PRE_AUTHORIZED_GRANT = 'urn:ietf:params:oauth:grant-type:pre-authorized_code'
/** Wrong tx_codes an offer tolerates before it is burnt (a 6-digit code must not be guessable). */
const MAX_TX_CODE_FAILURES = 5
const TX_CODE_LENGTH = 6
/** A placeholder holder for checking an offered credential against the issuing rules before anyone holds it. */
const PLACEHOLDER_HOLDER = 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK'

export interface OfferView {
  id: string
  state: 'offered' | 'token-issued' | 'credential-issued' | 'expired'
  format: string
  credentialConfigurationId: string
  txCode: boolean
  createdAt: string
  expiresAt: string
  tokenIssuedAt: string | null
  credentialIssuedAt: string | null
  credentialId: string | null
  subjectDid: string | null
}

/**
 * OID4VCI 1.0 Credential Issuer (pre-authorized code flow) for every institution, at
 * `PUBLIC_URL/oid4vci/{institutionId}`; the institution is also its own authorization server. Protocol
 * mechanics only: what is issued goes through the issuance capability, exactly as `POST /credentials/issue`.
 * Offers, tokens and nonces live in the database and are consumed by conditional updates, so any replica
 * may serve any step.
 */
export class Oid4vciIssuer {
  constructor(
    private readonly deps: {
      db: Database
      issuance: IssuanceService
      institutions: InstitutionService
      /** The signed receipt a receipt offer hands out. */
      receiptJwt: (id: string) => Promise<string | undefined>
      resolver: DidResolver
      audit: AuditLog
      publicUrl: string
      /** Derives receipt offer handles (see `derivedToken`) and keys tx_code hashes (see `keyedHash`). */
      offerKey: Buffer
      config: Oid4vcConfig
      skewSeconds: number
    },
  ) {}

  issuerUrl(institutionId: string): string {
    return `${this.deps.publicUrl}/oid4vci/${institutionId}`
  }

  /** Credential Issuer Metadata (OID4VCI 1.0 §12.2), or undefined for an unknown institution. */
  async metadata(institutionId: string): Promise<Record<string, unknown> | undefined> {
    const institution = await this.institution(institutionId)
    if (!institution) return undefined
    const issuer = this.issuerUrl(institution.id)
    const configurations: Record<string, unknown> = {}
    for (const [, format] of Object.entries(WALLET_FORMATS)) {
      for (const type of walletTypes(institution.kind).all) {
        if (format.offers(type)) configurations[format.configurationId(type)] = format.configuration(type, displayName(type), this.deps.publicUrl)
      }
    }
    return {
      credential_issuer: issuer,
      credential_endpoint: `${issuer}/credential`,
      nonce_endpoint: `${issuer}/nonce`,
      display: [{ name: institution.name, locale: 'en-US' }],
      credential_configurations_supported: configurations,
    }
  }

  /** OAuth 2.0 Authorization Server Metadata (RFC 8414) of the same institution. */
  async authorizationServerMetadata(institutionId: string): Promise<Record<string, unknown> | undefined> {
    const institution = await this.institution(institutionId)
    if (!institution) return undefined
    const issuer = this.issuerUrl(institution.id)
    return {
      issuer,
      token_endpoint: `${issuer}/token`,
      response_types_supported: [],
      grant_types_supported: [PRE_AUTHORIZED_GRANT],
      token_endpoint_auth_methods_supported: ['none'],
      'pre-authorized_grant_anonymous_access_supported': true,
    }
  }

  /** A single-use offer of `credential` (no subject id: the wallet's key proof supplies it). */
  async createOffer(
    issuer: InstitutionRow,
    input: { credential: UnsignedCredential; format?: string; txCode?: boolean },
    actor: AuditActor,
  ): Promise<{ id: string; offer: string; expiresAt: string; txCode?: string }> {
    const format = input.format ?? DEFAULT_FORMAT
    const types = asArray(input.credential.type)
    const type = walletTypes(issuer.kind).offerable.find((t) => types.includes(t))
    if (!type) {
      throw new AppError('invalid-credential', `credential.type: a ${issuer.kind} offers only ${walletTypes(issuer.kind).offerable.join(', ') || 'nothing'} to wallets`, {
        errors: [{ field: 'credential.type', message: 'not a credential type in this issuer\'s metadata' }],
      })
    }
    if (!WALLET_FORMATS[format].offers(type)) {
      throw new AppError('invalid-request', `format: ${type} is not offered as ${format}`, { errors: [{ field: 'format', message: `not offered for ${type}` }] })
    }
    if (input.credential.credentialSubject.id !== undefined) {
      throw new AppError('invalid-request', 'credential.credentialSubject.id: is set from the wallet\'s key proof, not by the offer', {
        errors: [{ field: 'credential.credentialSubject.id', message: 'must be absent' }],
      })
    }
    this.deps.issuance.check(issuer, { ...input.credential, credentialSubject: { ...input.credential.credentialSubject, id: PLACEHOLDER_HOLDER } })
    const code = randomToken()
    const txCode = input.txCode ? String(randomInt(0, 10 ** TX_CODE_LENGTH)).padStart(TX_CODE_LENGTH, '0') : undefined
    const id = randomUUID()
    const row = this.newOffer(issuer.id, code, {
      id,
      format,
      configurationId: WALLET_FORMATS[format].configurationId(type),
      credential: input.credential as Record<string, unknown>,
      txCodeHash: txCode ? keyedHash(this.deps.offerKey, `tx-code:${id}`, txCode) : null,
    })
    await this.deps.db.transaction(async (m) => {
      await m.getRepository(OfferEntity).insert(row)
      await this.deps.audit.append(m, { actor, action: 'oid4vci.offer-created', subject: { type: 'oid4vci-offer', id: row.id, issuerInstitutionId: issuer.id }, outcome: 'success', detail: { credentialType: type, format, txCode: Boolean(txCode) } })
    })
    return { id: row.id, offer: this.offerUri(issuer.id, code), expiresAt: row.expiresAt, ...(txCode ? { txCode } : {}) }
  }

  /**
   * Offers an acceptance receipt the hospital already signed to the holder it names: the credential
   * endpoint hands out that very JWT, and only to a key proof by `holderDid`. Its URI can be shown again
   * (`receiptOfferUri`): the code is derived from the offer id with a server key, and stored hashed.
   */
  async createReceiptOffer(m: EntityManager, hospital: InstitutionRow, receiptId: string, holderDid: string): Promise<string> {
    const id = randomUUID()
    const row = this.newOffer(hospital.id, derivedToken(this.deps.offerKey, 'receipt-offer', id), {
      id,
      format: DEFAULT_FORMAT,
      configurationId: WALLET_FORMATS[DEFAULT_FORMAT].configurationId(RECEIPT_TYPE),
      receiptId,
      boundDid: holderDid,
    })
    await m.getRepository(OfferEntity).insert(row)
    return id
  }

  receiptOfferUri(institutionId: string, offerId: string): string {
    return this.offerUri(institutionId, derivedToken(this.deps.offerKey, 'receipt-offer', offerId))
  }

  /** The Credential Offer object behind a `credential_offer_uri` (OID4VCI 1.0 §4.1.1). */
  async offerDocument(institutionId: string, code: string): Promise<Record<string, unknown> | undefined> {
    const row = await this.deps.db.manager.getRepository(OfferEntity).findOneBy({ codeHash: sha256Hex(code), issuerInstitutionId: institutionId })
    if (!row || !matchesHash(code, row.codeHash) || row.state !== 'offered' || row.expiresAt <= now()) return undefined
    const grant: Record<string, unknown> = { 'pre-authorized_code': code }
    if (row.txCodeHash) grant.tx_code = { input_mode: 'numeric', length: TX_CODE_LENGTH, description: 'the code the issuer gave you with this offer' }
    return { credential_issuer: this.issuerUrl(institutionId), credential_configuration_ids: [row.configurationId], grants: { [PRE_AUTHORIZED_GRANT]: grant } }
  }

  /** Token endpoint (OID4VCI 1.0 §6): pre-authorized code (and tx_code) → a one-use access token. */
  async token(institutionId: string, form: Record<string, string>): Promise<Record<string, unknown>> {
    if (form.grant_type !== PRE_AUTHORIZED_GRANT) {
      throw new OAuthError(form.grant_type ? 'unsupported_grant_type' : 'invalid_request', `grant_type must be ${PRE_AUTHORIZED_GRANT}`)
    }
    const code = form['pre-authorized_code']
    if (!code) throw new OAuthError('invalid_request', 'pre-authorized_code is missing')
    const repo = this.deps.db.manager.getRepository(OfferEntity)
    const row = await repo.findOneBy({ codeHash: sha256Hex(code), issuerInstitutionId: institutionId })
    if (!row || !matchesHash(code, row.codeHash)) throw new OAuthError('invalid_grant', 'the pre-authorized code is not valid for this issuer')
    if (row.state !== 'offered') throw new OAuthError('invalid_grant', 'the pre-authorized code was already redeemed')
    if (row.expiresAt <= now()) throw new OAuthError('invalid_grant', `the offer expired at ${row.expiresAt}`)
    if (row.txCodeHash) {
      if (row.txCodeFailures >= MAX_TX_CODE_FAILURES) throw new OAuthError('invalid_grant', 'too many wrong tx_codes; the offer can no longer be redeemed')
      if (!form.tx_code || !hashesEqual(keyedHash(this.deps.offerKey, `tx-code:${row.id}`, form.tx_code), row.txCodeHash)) {
        await this.deps.db.transaction((m) =>
          m.getRepository(OfferEntity).createQueryBuilder().update().set({ txCodeFailures: () => '"txCodeFailures" + 1' }).where('id = :id', { id: row.id }).execute(),
        )
        throw new OAuthError('invalid_grant', form.tx_code ? 'the tx_code is wrong' : 'this offer needs a tx_code')
      }
    } else if (form.tx_code !== undefined) {
      throw new OAuthError('invalid_request', 'this offer takes no tx_code')
    }
    const accessToken = randomToken()
    const issuedAt = now()
    const tokenExpiresAt = new Date(Date.now() + this.deps.config.accessTokenTtlSeconds * 1000).toISOString()
    // The conditional update is what makes the code single use when two requests race.
    const claimed = await this.deps.db.transaction((m) => {
      const update = m
        .getRepository(OfferEntity)
        .createQueryBuilder()
        .update()
        .set({ state: 'token-issued', accessTokenHash: sha256Hex(accessToken), tokenExpiresAt, tokenIssuedAt: issuedAt })
        .where('id = :id AND state = :offered AND "expiresAt" > :now', { id: row.id, offered: 'offered', now: issuedAt })
      if (row.txCodeHash) update.andWhere('"txCodeFailures" < :max', { max: MAX_TX_CODE_FAILURES })
      return update.execute()
    })
    if (claimed.affected !== 1) throw new OAuthError('invalid_grant', 'the pre-authorized code was already redeemed or has expired')
    return { access_token: accessToken, token_type: 'Bearer', expires_in: this.deps.config.accessTokenTtlSeconds }
  }

  /** Nonce endpoint (OID4VCI 1.0 §7): a fresh single-use c_nonce, stored hashed. */
  async nonce(institutionId: string): Promise<{ c_nonce: string }> {
    if (!(await this.institution(institutionId))) throw new OAuthError('invalid_request', 'no such credential issuer')
    const c_nonce = randomToken()
    await this.deps.db.transaction((m) =>
      m.getRepository(NonceEntity).insert({
        nonceHash: sha256Hex(c_nonce),
        issuerInstitutionId: institutionId,
        expiresAt: new Date(Date.now() + this.deps.config.nonceTtlSeconds * 1000).toISOString(),
        usedAt: null,
      }),
    )
    return { c_nonce }
  }

  /**
   * Credential endpoint (OID4VCI 1.0 §8): the access token's offer, one `proofs.jwt` key proof with a fresh
   * c_nonce, the credential bound to the proving DID and issued through the issuance capability.
   */
  async credential(institutionId: string, accessToken: string | undefined, body: unknown): Promise<Record<string, unknown>> {
    const offer = await this.offerOfToken(institutionId, accessToken)
    const request = parseCredentialRequest(body)
    if (request.credential_configuration_id !== offer.configurationId) {
      throw new OAuthError('unknown_credential_configuration', `this access token is for ${offer.configurationId} only`)
    }
    const issuer = this.issuerUrl(institutionId)
    let holder: string
    try {
      const proven = await verifyKeyProof(request.proofs.jwt[0], {
        issuer,
        resolver: this.deps.resolver,
        skewSeconds: this.deps.skewSeconds,
        maxAgeSeconds: this.deps.config.nonceTtlSeconds,
      })
      if (!proven.nonce) throw new OAuthError('invalid_nonce', 'the proof carries no c_nonce; get one from the nonce endpoint')
      if (!(await this.consumeNonce(institutionId, proven.nonce))) throw new OAuthError('invalid_nonce', 'the c_nonce is unknown, expired or already used')
      if (offer.boundDid && proven.did !== offer.boundDid) {
        throw new OAuthError('invalid_proof', 'this receipt is offered only to the holder who presented; the proof is by another key')
      }
      holder = proven.did
    } catch (e) {
      if (e instanceof OAuthError && (e.error === 'invalid_proof' || e.error === 'invalid_nonce')) {
        throw new OAuthError(e.error, e.description, (await this.nonce(institutionId)) as Record<string, unknown>)
      }
      throw e
    }
    const credential = await this.issueFor(offer, holder)
    return { credentials: [{ credential: WALLET_FORMATS[offer.format].credentialOf(credential) }] }
  }

  /** The offer as its institution sees it; another institution's offer is as unknown as a missing one. */
  async offerState(institution: InstitutionRow, id: string): Promise<OfferView | undefined> {
    const row = await this.deps.db.manager.getRepository(OfferEntity).findOneBy({ id, issuerInstitutionId: institution.id })
    if (!row) return undefined
    const t = now()
    const expired = (row.state === 'offered' && row.expiresAt <= t) || (row.state === 'token-issued' && (row.tokenExpiresAt ?? '') <= t)
    return {
      id: row.id,
      state: expired ? 'expired' : row.state,
      format: row.format,
      credentialConfigurationId: row.configurationId,
      txCode: row.txCodeHash !== null,
      createdAt: row.createdAt,
      expiresAt: row.expiresAt,
      tokenIssuedAt: row.tokenIssuedAt,
      credentialIssuedAt: row.credentialIssuedAt,
      credentialId: row.credentialId,
      subjectDid: row.subjectDid,
    }
  }

  /**
   * Claims the offer (token-issued → credential-issued, once), then issues. If issuing fails the claim is
   * released, so the wallet may retry; the idempotency key scoped to the offer keeps a retry to one credential.
   */
  private async issueFor(offer: OfferRow, holder: string): Promise<VerifiableCredential | string> {
    const claimedAt = now()
    const claimed = await this.deps.db.transaction((m) =>
      m
        .getRepository(OfferEntity)
        .createQueryBuilder()
        .update()
        .set({ state: 'credential-issued', subjectDid: holder, credentialIssuedAt: claimedAt })
        .where('id = :id AND state = :state AND "tokenExpiresAt" > :now', { id: offer.id, state: 'token-issued', now: claimedAt })
        .execute(),
    )
    if (claimed.affected !== 1) throw new OAuthError('invalid_token', 'the access token was already used')
    try {
      if (offer.receiptId) {
        const jwt = await this.deps.receiptJwt(offer.receiptId)
        if (!jwt) throw new OAuthError('credential_request_denied', 'the receipt is no longer available')
        await this.deps.db.transaction((m) => m.getRepository(OfferEntity).update({ id: offer.id }, { credentialId: `${this.deps.publicUrl}/receipts/${offer.receiptId}` }))
        return jwt
      }
      const issuer = await this.deps.institutions.get(offer.issuerInstitutionId)
      const input = offer.credential as UnsignedCredential
      const unsigned = withIssueDefaults(issuer.did, { ...input, credentialSubject: { ...input.credentialSubject, id: holder } })
      const actor: AuditActor = { type: 'institution', id: issuer.id, did: issuer.did }
      // The wallet formats are VC 1.1 JWTs and SD-JWT VCs (WALLET_FORMATS), never a VC 2.0 envelope.
      return (await this.deps.issuance.issue(
        issuer,
        unsigned,
        { actor, detail: { via: 'oid4vci', offerId: offer.id } },
        idempotencyKey(issuer.id, `oid4vci-offer:${offer.id}`, unsigned),
        WALLET_FORMATS[offer.format].issueFormat,
        (m, row) => m.getRepository(OfferEntity).update({ id: offer.id }, { credentialId: row.id }),
      )) as VerifiableCredential | string
    } catch (e) {
      await this.deps.db.transaction((m) =>
        m.getRepository(OfferEntity).update({ id: offer.id, state: 'credential-issued' }, { state: 'token-issued', subjectDid: null, credentialIssuedAt: null, credentialId: null }),
      )
      if (e instanceof AppError) {
        if (e.code === 'chain-unavailable' || e.code === 'conflict') throw new OAuthError('temporarily_unavailable', `${e.detail}; retry later`)
        throw new OAuthError('credential_request_denied', e.detail)
      }
      throw e
    }
  }

  private async offerOfToken(institutionId: string, accessToken: string | undefined): Promise<OfferRow> {
    if (!accessToken) throw new OAuthError('invalid_token', 'the credential endpoint needs the access token: Authorization: Bearer <access_token>')
    const row = await this.deps.db.manager.getRepository(OfferEntity).findOneBy({ accessTokenHash: sha256Hex(accessToken), issuerInstitutionId: institutionId })
    if (!row || !row.accessTokenHash || !matchesHash(accessToken, row.accessTokenHash)) throw new OAuthError('invalid_token', 'the access token is not valid for this issuer')
    if (row.state !== 'token-issued') throw new OAuthError('invalid_token', 'the access token was already used')
    if ((row.tokenExpiresAt ?? '') <= now()) throw new OAuthError('invalid_token', 'the access token has expired')
    return row
  }

  private async consumeNonce(institutionId: string, nonce: string): Promise<boolean> {
    const t = now()
    const spent = await this.deps.db.transaction((m) =>
      m
        .getRepository(NonceEntity)
        .createQueryBuilder()
        .update()
        .set({ usedAt: t })
        .where('"nonceHash" = :h AND "issuerInstitutionId" = :i AND "usedAt" IS NULL AND "expiresAt" > :now', { h: sha256Hex(nonce), i: institutionId, now: t })
        .execute(),
    )
    return spent.affected === 1
  }

  private newOffer(
    issuerInstitutionId: string,
    code: string,
    fields: Partial<OfferRow> & Pick<OfferRow, 'format' | 'configurationId'>,
  ): OfferRow {
    const createdAt = now()
    return {
      id: randomUUID(),
      issuerInstitutionId,
      codeHash: sha256Hex(code),
      txCodeHash: null,
      txCodeFailures: 0,
      state: 'offered',
      credential: null,
      receiptId: null,
      boundDid: null,
      accessTokenHash: null,
      tokenExpiresAt: null,
      credentialId: null,
      subjectDid: null,
      expiresAt: new Date(Date.parse(createdAt) + this.deps.config.offerTtlSeconds * 1000).toISOString(),
      createdAt,
      tokenIssuedAt: null,
      credentialIssuedAt: null,
      ...fields,
    }
  }

  private offerUri(institutionId: string, code: string): string {
    const offerUri = `${this.issuerUrl(institutionId)}/credential-offer/${code}`
    return `openid-credential-offer://?credential_offer_uri=${encodeURIComponent(offerUri)}`
  }

  private async institution(id: string): Promise<InstitutionRow | undefined> {
    if (!/^[0-9a-f-]{36}$/.test(id)) return undefined
    return this.deps.institutions.get(id).catch(() => undefined)
  }
}

function now(): string {
  return new Date().toISOString()
}

/** The Credential Request (OID4VCI 1.0 §8.2) this issuer serves: one configuration, one `jwt` proof. */
function parseCredentialRequest(body: unknown): { credential_configuration_id: string; proofs: { jwt: [string] } } {
  const b = body as Record<string, unknown> | undefined
  if (!b || typeof b !== 'object' || Array.isArray(b)) throw new OAuthError('invalid_credential_request', 'the body must be a JSON Credential Request')
  if (b.credential_identifier !== undefined) throw new OAuthError('unknown_credential_identifier', 'this issuer hands out no credential identifiers; send credential_configuration_id')
  if (typeof b.credential_configuration_id !== 'string') throw new OAuthError('invalid_credential_request', 'credential_configuration_id is missing')
  if (b.proof !== undefined) throw new OAuthError('invalid_credential_request', 'send the key proof in proofs.jwt (OID4VCI 1.0), not proof')
  const proofs = b.proofs as Record<string, unknown> | undefined
  if (!proofs || typeof proofs !== 'object' || Object.keys(proofs).length !== 1 || !Array.isArray(proofs.jwt)) {
    throw new OAuthError('invalid_credential_request', 'proofs must hold exactly one proof type, jwt')
  }
  if (proofs.jwt.length !== 1 || typeof proofs.jwt[0] !== 'string' || proofs.jwt[0].length > 10_000) {
    throw new OAuthError('invalid_credential_request', 'proofs.jwt must hold exactly one JWT (no batch issuance)')
  }
  return { credential_configuration_id: b.credential_configuration_id, proofs: { jwt: [proofs.jwt[0]] } }
}
