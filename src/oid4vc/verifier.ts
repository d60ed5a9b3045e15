import { randomUUID } from 'node:crypto'
import { decodeJWT } from 'did-jwt'
import { credentialOfJwt, embeddedCredentialJwts } from '../credentials/formats.js'
import type { MedcredAgent } from '../agent/agent.js'
import type { AcceptanceService } from '../acceptance/acceptances.js'
import type { VerificationPurpose, VerificationRow } from '../acceptance/acceptance.entities.js'
import { parseReceipt, RECEIPT_TYPE } from '../acceptance/receipts.js'
import type { VerificationService } from '../acceptance/verifications.js'
import type { Oid4vcConfig } from '../config.js'
import { asArray } from '../credentials/w3c.js'
import type { Database } from '../db/database.js'
import type { DidResolver } from '../did/resolver.js'
import type { InstitutionRow } from '../institutions/institution.entity.js'
import type { InstitutionService } from '../institutions/service.js'
import { currentSigner } from '../institutions/signing-key.js'
import { bodyProblem } from '../validation.js'
import { fail, failures, pass, verdict, type Check } from '../verification/checks.js'
import type { VerifyContext } from '../verification/verify-credential.js'
import { verifyAnyPresentation } from '../verification/presentation-formats.js'
import { PresentationRequestEntity, type PresentationOutcome, type PresentationRequestRow, type PresentationRequestStatus } from './entities.js'
import { DEFAULT_FORMAT, WALLET_FORMATS, type WalletFormatName } from './formats.js'
import { looksLikeSdJwt, splitSdJwt, typeOfVct } from '../credentials/sd-jwt-vc.js'
import { decodeJwt } from '../credentials/jwt.js'
import { SD_JWT_TYPES } from '../issuance/sd-jwt-issue.js'
import { AppError } from '../errors.js'
import type { Oid4vciIssuer } from './issuer.js'
import { OAuthError } from './oauth-error.js'
import { signRequestObject } from './request-object.js'
import { matchesHash, randomToken, sha256Hex } from './secrets.js'

/** The DCQL Credential Query id under which a wallet presents an acceptance receipt. */
export const RECEIPT_QUERY_ID = 'receipt'
/** The `aud` of a Request Object a wallet fetches by reference (OID4VP 1.0 §5, static discovery). */
const SELF_ISSUED_AUDIENCE = 'https://self-issued.me/v2'

export interface PresentationRequestView {
  id: string
  status: 'pending' | 'verified' | 'accepted-on-receipt' | 'failed' | 'expired'
  purpose: string
  credentialTypes: string[]
  acceptReceipts: boolean
  request: string
  createdAt: string
  expiresAt: string
  respondedAt: string | null
  holder: string | null
  checks?: Check[]
  verification?: VerificationRow
  acceptance?: PresentationOutcome['acceptance']
  receiptOffer?: string
  receiptOffers?: string[]
}

/**
 * OID4VP 1.0 verifier for hospitals: signed Request Objects by reference (`decentralized_identifier:`
 * client id), `direct_post` responses, DCQL. Protocol mechanics only: a response is verified by the
 * verification capability exactly as `POST /verifications` (the request's nonce as challenge, its client id
 * as domain, used once) or, with `acceptReceipts`, settled on a receipt by the acceptance capability.
 */
export class Oid4vpVerifier {
  constructor(
    private readonly deps: {
      db: Database
      agent: MedcredAgent
      resolver: DidResolver
      institutions: InstitutionService
      verifications: VerificationService
      acceptances: AcceptanceService
      issuer: Oid4vciIssuer
      verifyContext: VerifyContext
      publicUrl: string
      config: Oid4vcConfig
    },
  ) {}

  async createRequest(
    hospital: InstitutionRow,
    input: { purpose: VerificationPurpose; credentialTypes: string[]; acceptReceipts?: boolean; format?: WalletFormatName },
  ): Promise<{ id: string; request: string; expiresAt: string }> {
    const format = input.format ?? DEFAULT_FORMAT
    if (format !== DEFAULT_FORMAT && (input.acceptReceipts || input.credentialTypes.some((t) => !WALLET_FORMATS[format].offers(t)))) {
      throw new AppError('invalid-request', `format ${format} asks only for ${[...SD_JWT_TYPES].join(', ')}, without receipts`)
    }
    const id = randomUUID()
    const clientId = `decentralized_identifier:${hospital.did}`
    const state = randomToken()
    const createdAt = new Date()
    const expiresAt = new Date(createdAt.getTime() + this.deps.config.requestTtlSeconds * 1000)
    const acceptReceipts = input.acceptReceipts ?? false
    const payload = {
      client_id: clientId,
      aud: SELF_ISSUED_AUDIENCE,
      response_type: 'vp_token',
      response_mode: 'direct_post',
      response_uri: `${this.deps.publicUrl}/oid4vp/requests/${id}/response`,
      nonce: randomToken(),
      state,
      dcql_query: dcqlQuery(input.credentialTypes, acceptReceipts, format, this.deps.publicUrl),
      client_metadata: { vp_formats_supported: { [format]: WALLET_FORMATS[format].vpFormat } },
      exp: Math.floor(expiresAt.getTime() / 1000),
    }
    await this.deps.db.transaction(async (m) => {
      const signer = await currentSigner(m, this.deps.db, hospital.id)
      const requestJwt = await signRequestObject(this.deps, signer, payload)
      const row: PresentationRequestRow = {
        id,
        institutionId: hospital.id,
        clientId,
        nonce: payload.nonce,
        stateHash: sha256Hex(state),
        purpose: input.purpose,
        credentialTypes: input.credentialTypes,
        acceptReceipts,
        requestJwt,
        status: 'pending',
        holderDid: null,
        verificationId: null,
        outcome: null,
        receiptOfferIds: null,
        expiresAt: expiresAt.toISOString(),
        createdAt: createdAt.toISOString(),
        respondedAt: null,
      }
      await m.getRepository(PresentationRequestEntity).insert(row)
    })
    return { id, request: this.requestUri(id, clientId), expiresAt: expiresAt.toISOString() }
  }

  /** The signed Request Object behind `request_uri`, while the request can still be answered. */
  async requestObject(id: string): Promise<string> {
    const row = await this.find(id)
    if (!row || row.status !== 'pending' || row.expiresAt <= new Date().toISOString()) {
      throw new OAuthError('invalid_request_uri', 'no open authorization request at this request_uri')
    }
    return row.requestJwt
  }

  /**
   * The wallet's Authorization Response (`direct_post`, OID4VP 1.0 §8.2). The request is consumed by the
   * first response, whatever it holds (so a response cannot probe it); its outcome is recorded with every check.
   */
  async respond(id: string, form: Record<string, string>): Promise<void> {
    const row = await this.find(id)
    if (!row) throw new OAuthError('invalid_request', 'no authorization request has this response_uri')
    if (!form.vp_token && !form.error) throw new OAuthError('invalid_request', 'vp_token is missing')
    const t = new Date().toISOString()
    const claimed = await this.deps.db.transaction((m) =>
      m
        .getRepository(PresentationRequestEntity)
        .createQueryBuilder()
        .update()
        .set({ status: 'processing', respondedAt: t })
        .where('id = :id AND status = :pending AND "expiresAt" > :now', { id, pending: 'pending', now: t })
        .execute(),
    )
    if (claimed.affected !== 1) {
      throw new OAuthError('invalid_request', row.expiresAt <= t && row.status === 'pending' ? 'the authorization request has expired' : 'the authorization request was already answered')
    }
    if (!form.state || !matchesHash(form.state, row.stateHash)) {
      await this.finish(row, 'failed', { checks: [fail('state', 'the state matches no open authorization request')] })
      throw new OAuthError('invalid_request', 'state: matches no open authorization request')
    }
    if (form.error) {
      await this.finish(row, 'failed', { checks: [fail('wallet', `the wallet answered ${form.error.slice(0, 100)}: ${(form.error_description ?? '').slice(0, 300)}`)] })
      return
    }
    const presentation = presentationOf(form.vp_token, row)
    if (typeof presentation !== 'string') {
      await this.finish(row, 'failed', { checks: [presentation] })
      throw new OAuthError('invalid_request', `vp_token: ${presentation.detail}`)
    }
    const hospital = await this.deps.institutions.get(row.institutionId)
    const expected = { challenge: row.nonce, domain: row.clientId }
    const presented = presentedTypes(presentation, this.deps.publicUrl)
    const typesCheck = checkTypes(presented, row)
    let final: { status: PresentationRequestStatus; checks: Check[] }
    try {
      final =
        row.acceptReceipts && presented.receipts > 0
          ? await this.acceptOnReceipt(row, hospital, presentation, expected, typesCheck)
          : await this.verifyFully(row, hospital, presentation, expected, typesCheck)
    } catch (e) {
      // A request is never left `processing`: what could not be checked is a failure the hospital sees.
      await this.finish(row, 'failed', { checks: [fail('processing', 'the response could not be checked; ask the wallet again with a new request')] })
      throw e
    }
    if (final.status === 'failed') {
      throw new OAuthError('invalid_request', `the presentation was not accepted; failed checks: ${failures(final.checks).map((f) => f.check).join(', ')}`)
    }
  }

  async get(hospital: InstitutionRow, id: string): Promise<PresentationRequestView | undefined> {
    const row = await this.deps.db.manager.getRepository(PresentationRequestEntity).findOneBy({ id, institutionId: hospital.id })
    if (!row) return undefined
    const expired = row.status === 'pending' && row.expiresAt <= new Date().toISOString()
    const status = expired ? 'expired' : row.status === 'processing' ? 'pending' : row.status
    const offers = (row.receiptOfferIds ?? []).map((offerId) => this.deps.issuer.receiptOfferUri(row.institutionId, offerId))
    const verification = row.verificationId ? await this.deps.verifications.get(hospital, row.verificationId) : undefined
    return {
      id: row.id,
      status,
      purpose: row.purpose,
      credentialTypes: row.credentialTypes,
      acceptReceipts: row.acceptReceipts,
      request: this.requestUri(row.id, row.clientId),
      createdAt: row.createdAt,
      expiresAt: row.expiresAt,
      respondedAt: row.respondedAt,
      holder: row.holderDid,
      ...(row.outcome ? { checks: row.outcome.checks } : {}),
      ...(verification ? { verification } : {}),
      ...(row.outcome?.acceptance ? { acceptance: row.outcome.acceptance } : {}),
      ...(offers.length ? { receiptOffer: offers[0], receiptOffers: offers } : {}),
    }
  }

  private async verifyFully(
    row: PresentationRequestRow,
    hospital: InstitutionRow,
    presentation: string,
    expected: { challenge: string; domain: string },
    typesCheck: Check,
  ): Promise<{ status: PresentationRequestStatus; checks: Check[] }> {
    const presented = await verifyAnyPresentation(presentation, expected, this.deps.verifyContext)
    const checked = await this.deps.verifications.withConsent(hospital, row.purpose, { ...presented, ...verdict([...presented.checks, typesCheck]) })
    const combined = checked.verdict
    const { verification, receipts } = await this.deps.verifications.record(hospital, row.purpose as VerificationPurpose, combined, [], checked.decisions)
    const status = verification.verified ? 'verified' : 'failed'
    const receiptOfferIds = verification.verified
      ? await this.deps.db.transaction(async (m) => {
          const ids: string[] = []
          for (const receipt of receipts) ids.push(await this.deps.issuer.createReceiptOffer(m, hospital, String(receipt.id).split('/').at(-1)!, combined.holder!))
          return ids
        })
      : []
    await this.finish(row, status, { checks: combined.checks }, { holderDid: combined.holder ?? null, verificationId: verification.id, receiptOfferIds })
    return { status, checks: combined.checks }
  }

  private async acceptOnReceipt(
    row: PresentationRequestRow,
    hospital: InstitutionRow,
    presentation: string,
    expected: { challenge: string; domain: string },
    typesCheck: Check,
  ): Promise<{ status: PresentationRequestStatus; checks: Check[] }> {
    if (!typesCheck.ok) {
      await this.finish(row, 'failed', { checks: [typesCheck] })
      return { status: 'failed', checks: [typesCheck] }
    }
    // The request itself is the single-use challenge, already consumed above.
    const outcome = await this.deps.acceptances.acceptPresentation(hospital, { verifiablePresentation: presentation, ...expected }, { consume: async () => undefined })
    const checks = [...outcome.checks, typesCheck]
    const status = outcome.verified ? 'accepted-on-receipt' : 'failed'
    const holder = holderOf(presentation)
    await this.finish(row, status, { checks, ...(outcome.acceptanceId ? { acceptance: { id: outcome.acceptanceId, reliedOn: outcome.reliedOn } } : {}) }, { holderDid: holder })
    return { status, checks }
  }

  private async finish(
    row: PresentationRequestRow,
    status: PresentationRequestStatus,
    outcome: PresentationOutcome,
    extra: Partial<Pick<PresentationRequestRow, 'holderDid' | 'verificationId' | 'receiptOfferIds'>> = {},
  ): Promise<void> {
    await this.deps.db.transaction((m) => m.getRepository(PresentationRequestEntity).update({ id: row.id, status: 'processing' }, { status, outcome, ...extra }))
  }

  private requestUri(id: string, clientId: string): string {
    const requestUri = `${this.deps.publicUrl}/oid4vp/requests/${id}/request-object`
    return `openid4vp://?client_id=${encodeURIComponent(clientId)}&request_uri=${encodeURIComponent(requestUri)}`
  }

  private async find(id: string): Promise<PresentationRequestRow | undefined> {
    if (!/^[0-9a-f-]{36}$/.test(id)) return undefined
    return (await this.deps.db.manager.getRepository(PresentationRequestEntity).findOneBy({ id })) ?? undefined
  }
}

/** A DCQL query (OID4VP 1.0 §6) for one credential of each type and, when allowed, a receipt besides. */
export function dcqlQuery(types: string[], acceptReceipts: boolean, formatName: WalletFormatName = DEFAULT_FORMAT, publicUrl = ''): Record<string, unknown> {
  const format = WALLET_FORMATS[formatName]
  const credentials = types.map((type) => ({ id: type, format: formatName, meta: format.dcqlMeta(type, publicUrl) }))
  if (!acceptReceipts) return { credentials }
  return {
    credentials: [...credentials, { id: RECEIPT_QUERY_ID, format: DEFAULT_FORMAT, meta: format.dcqlMeta(RECEIPT_TYPE) }],
    credential_sets: [{ options: [[...types, RECEIPT_QUERY_ID], types], required: true }],
  }
}

/**
 * The one presentation in a `vp_token` (a JSON object from DCQL query ids to presentations). A jwt_vc_json
 * presentation may answer several queries at once; medcred takes exactly one VP-JWT, listed under each id
 * it answers, so holder binding and the receipt's pairing with its credential stay within one signature.
 */
function presentationOf(vpToken: string, row: PresentationRequestRow): string | Check {
  let token: unknown
  try {
    token = JSON.parse(vpToken)
  } catch {
    return fail('format', 'vp_token is not a JSON object')
  }
  if (!token || typeof token !== 'object' || Array.isArray(token)) return fail('format', 'vp_token is not a JSON object keyed by DCQL query id')
  const problem = bodyProblem(token)
  if (problem) return fail('format', `vp_token: ${problem}`)
  const known = new Set([...row.credentialTypes, ...(row.acceptReceipts ? [RECEIPT_QUERY_ID] : [])])
  const presentations = new Set<string>()
  for (const [queryId, value] of Object.entries(token)) {
    if (!known.has(queryId)) return fail('format', `vp_token names ${queryId.slice(0, 100)}, which is no credential query of this request`)
    if (!Array.isArray(value) || value.length === 0 || !value.every((p) => typeof p === 'string')) return fail('format', `vp_token.${queryId} must be a non-empty array of presentations`)
    for (const p of value) presentations.add(p)
  }
  if (presentations.size !== 1) return fail('format', presentations.size ? 'present every credential in one VP-JWT' : 'vp_token holds no presentation')
  return [...presentations][0]
}

/**
 * The types of the credentials a presentation carries, receipts counted apart (decoded only; verification
 * checks them): a VP-JWT's credentials, or the one SD-JWT VC (its `vct`) of an SD-JWT presentation.
 */
function presentedTypes(presentation: string, publicUrl: string): { types: string[][]; receipts: number } {
  if (looksLikeSdJwt(presentation)) {
    const vct = sdJwtClaims(presentation)?.vct
    return { types: typeof vct === 'string' ? [[typeOfVct(publicUrl, vct)]] : [], receipts: 0 }
  }
  const vpJwt = presentation
  try {
    const jwts = embeddedCredentialJwts(vpJwt)
    const types: string[][] = []
    let receipts = 0
    for (const jwt of jwts) {
      if (parseReceipt(jwt)) receipts++
      else types.push(asArray((credentialOfJwt(jwt) as { type?: string | string[] }).type))
    }
    return { types, receipts }
  } catch {
    return { types: [], receipts: 0 }
  }
}

/** The presented credentials are the requested types, one each, and nothing else (a receipt only when allowed). */
function checkTypes(presented: { types: string[][]; receipts: number }, row: PresentationRequestRow): Check {
  const missing = row.credentialTypes.filter((t) => !presented.types.some((types) => types.includes(t)))
  const extra = presented.types.filter((types) => !row.credentialTypes.some((t) => types.includes(t)))
  if (missing.length) return fail('credentialTypes', `not presented: ${missing.join(', ')}`)
  if (extra.length || presented.types.length !== row.credentialTypes.length) return fail('credentialTypes', 'the presentation holds credentials the request did not ask for')
  if (presented.receipts > (row.acceptReceipts ? 1 : 0)) return fail('credentialTypes', row.acceptReceipts ? 'at most one receipt' : 'this request does not accept receipts')
  return pass('credentialTypes', `presented ${row.credentialTypes.join(', ')}${presented.receipts ? ' with a receipt' : ''}`)
}

/** The issuer-signed claims of an SD-JWT presentation (decoded only), or undefined. */
function sdJwtClaims(presentation: string): Record<string, unknown> | undefined {
  const parts = splitSdJwt(presentation)
  try {
    return parts ? decodeJwt(parts.issuerJwt).payload : undefined
  } catch {
    return undefined
  }
}

function holderOf(vpJwt: string): string | null {
  try {
    const iss = looksLikeSdJwt(vpJwt) ? sdJwtClaims(vpJwt)?.sub : decodeJWT(vpJwt).payload.iss
    return typeof iss === 'string' ? iss.slice(0, 300) : null
  } catch {
    return null
  }
}
