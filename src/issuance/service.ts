import { randomUUID } from 'node:crypto'
import type { EntityManager } from 'typeorm'
import type { VerifiableCredential } from '@veramo/core'
import type { MedcredAgent } from '../agent/agent.js'
import type { Database } from '../db/database.js'
import { credentialDigest } from '../credentials/digest.js'
import { knownTypesOf } from '../credentials/subject-schemas.js'
import { reservedTypesOf } from '../credentials/reserved-types.js'
import {
  VC_V1_CONTEXT,
  VC_V2_CONTEXT,
  asArray,
  issuerId,
  toSeconds,
  type UnsignedCredential,
} from '../credentials/w3c.js'
import { AppError } from '../errors.js'
import type { InstitutionRow } from '../institutions/institution.entity.js'
import { currentSigner } from '../institutions/signing-key.js'
import { parseOrThrow } from '../validation.js'
import { isUniqueViolation } from '../db/errors.js'
import { remember, replayed, type IdempotencyKey } from '../idempotency/idempotency.js'
import type { StatusService } from '../status/service.js'
import type { StatusPurpose } from '../status/status.entities.js'
import { IssuedCredentialEntity, type IssuedCredentialRow } from './issued-credential.entity.js'
import { signAsInstitution } from './sign.js'
import { SD_JWT_TYPES, signSdJwtVc } from './sd-jwt-issue.js'
import type { DidResolver } from '../did/resolver.js'
import type { TokenStatusLists } from '../status/token-status-list.js'
import { appendChange, type Acting } from '../audit/acting.js'
import type { AuditLog } from '../audit/audit-log.js'
import { SD_JWT_VC_FORMAT, sdJwtDigest } from '../credentials/sd-jwt-vc.js'
import { VC_JWT_TYP, envelope, type Envelope } from '../credentials/vc-jose.js'
import { signVcJose } from './sign-vc-jose.js'

/**
 * The securing formats `POST /credentials/issue` offers (`options.format`). Unless asked, the credential's
 * data model decides: `@context` starting with VC 2.0's gets `vc+jwt` (VC-JOSE-COSE), else a VC 1.1 JWT.
 */
export const ISSUE_FORMATS = ['jwt_vc', VC_JWT_TYP, SD_JWT_VC_FORMAT] as const
export type IssueFormat = (typeof ISSUE_FORMATS)[number]

/** What one format makes of a checked credential: the reply (`verifiableCredential`), what is stored, its digest. */
interface Secured {
  reply: VerifiableCredential | string | Envelope
  stored: string
  digest: string
}

/** What issuing answers with: a VC 1.1 credential (JSON with proof.jwt), an SD-JWT VC, or a VC 2.0 envelope. */
export type IssuedReply = VerifiableCredential | string | Envelope

type SecureFn = (
  m: EntityManager,
  signer: InstitutionRow,
  credential: Record<string, unknown>,
  rules: { type: string; purposes: StatusPurpose[] },
) => Promise<Secured>

export class IssuanceService {
  /** Every format shares validation, idempotency, the stored row and the audit event; only securing differs. */
  private readonly formats: Record<IssueFormat, SecureFn>

  constructor(
    private readonly deps: {
      db: Database
      agent: MedcredAgent
      status: StatusService
      resolver: DidResolver
      tokenLists: TokenStatusLists
      publicUrl: string
      audit: AuditLog
    },
  ) {
    this.formats = {
      jwt_vc: async (m, signer, credential, { purposes }) => {
        const entries = await this.deps.status.allocate(m, signer, credential.id as string, purposes)
        credential.credentialStatus = entries.length === 1 ? entries[0] : entries
        const vc = await signAsInstitution(this.deps.agent, signer, credential)
        const jwt = vc.proof.jwt as string
        return { reply: vc, stored: jwt, digest: credentialDigest(jwt) }
      },
      [VC_JWT_TYP]: async (m, signer, credential, { purposes }) => {
        const entries = await this.deps.status.allocate(m, signer, credential.id as string, purposes, 'BitstringStatusList')
        credential.credentialStatus = entries.length === 1 ? entries[0] : entries
        const jwt = await signVcJose(this.deps, signer, credential)
        return { reply: envelope(jwt), stored: jwt, digest: credentialDigest(jwt) }
      },
      [SD_JWT_VC_FORMAT]: async (m, signer, credential, { type }) => {
        if (!SD_JWT_TYPES.has(type)) {
          throw new AppError('invalid-request', `options.format: ${SD_JWT_VC_FORMAT} is offered for ${[...SD_JWT_TYPES].join(', ')}, not ${type}`)
        }
        const status = await this.deps.tokenLists.allocate(m, signer, credential.id as string)
        const sdJwt = await signSdJwtVc(this.deps, signer, credential, type, status)
        return { reply: sdJwt, stored: sdJwt, digest: sdJwtDigest(sdJwt.split('~')[0]) }
      },
    }
  }

  /**
   * Signs `input` as a VC-JWT with the institution's DID and stores it. Known types (licenses, patient
   * identity, …) must fit their subject schema and may be issued only by the kinds of institution named
   * for them; other types are signed as given.
   */
  async issue(
    issuer: InstitutionRow,
    input: UnsignedCredential,
    by: Acting,
    idempotency?: IdempotencyKey,
    format?: IssueFormat,
    /** More of the caller's own writes for the same transaction (e.g. the OID4VCI offer it fulfils). */
    within?: (m: EntityManager, issued: IssuedCredentialRow) => Promise<unknown>,
  ): Promise<IssuedReply> {
    try {
      return await this.issueOnce(issuer, input, by, idempotency, format, within)
    } catch (e) {
      // Two requests with one key at once: the loser's insert hits the key's row; answer with the winner's reply.
      const again = idempotency && isUniqueViolation(e) ? await replayed<IssuedReply>(this.deps.db.manager, idempotency) : undefined
      if (again) return again
      throw e
    }
  }

  private async issueOnce(
    issuer: InstitutionRow,
    input: UnsignedCredential,
    by: Acting,
    idempotency: IdempotencyKey | undefined,
    requested: IssueFormat | undefined,
    within: ((m: EntityManager, issued: IssuedCredentialRow) => Promise<unknown>) | undefined,
  ): Promise<IssuedReply> {
    const { credential, purposes, generation } = this.prepare(issuer, input)
    const format = formatFor(generation, requested)
    const id = credential.id as string
    const types = asArray(credential.type as string | string[])
    const type = types.filter((t) => t !== 'VerifiableCredential').at(-1) ?? 'VerifiableCredential'
    const secure = this.formats[format]
    return this.deps.db.transaction(async (m) => {
      const again = await replayed<IssuedReply>(m, idempotency)
      if (again) return again
      // The key as it is now (a rotation may have switched it since authentication), held until commit.
      const signer = await currentSigner(m, this.deps.db, issuer.id)
      if (await m.getRepository(IssuedCredentialEntity).existsBy({ issuerInstitutionId: issuer.id, id })) {
        throw new AppError('conflict', `this institution already issued a credential with id ${id}`)
      }
      const secured = await secure(m, signer, credential, { type, purposes })
      const row: IssuedCredentialRow = {
        id,
        issuerInstitutionId: issuer.id,
        issuerDid: issuer.did,
        subjectDid: (credential.credentialSubject as { id?: string }).id ?? null,
        type,
        jwt: secured.stored,
        digest: secured.digest,
        issuedAt: new Date().toISOString(),
        expiresAt: ((credential.expirationDate ?? credential.validUntil) as string | undefined) ?? null,
      }
      await m.getRepository(IssuedCredentialEntity).insert(row)
      await remember(m, idempotency, 201, secured.reply)
      await within?.(m, row)
      await appendChange(this.deps.audit, m, by, 'credential.issued', { type: 'credential', id: row.id, issuerInstitutionId: issuer.id }, { credentialType: row.type })
      return secured.reply
    })
  }

  /** Applies the issuing rules to `input` without signing or storing anything (e.g. before offering it to a wallet). */
  check(issuer: InstitutionRow, input: UnsignedCredential): void {
    this.prepare(issuer, input)
  }

  /**
   * Normalises to the form its data model signs (VC 1.1: `issuanceDate`/`expirationDate`; VC 2.0:
   * `validFrom`/`validUntil`), and applies the issuing rules, the same for both.
   */
  private prepare(issuer: InstitutionRow, input: UnsignedCredential): { credential: Record<string, unknown>; purposes: StatusPurpose[]; generation: Generation } {
    const generation: Generation = asArray(input['@context'])[0] === VC_V2_CONTEXT ? 'v2' : 'v1'
    const { validFrom, validUntil, issuanceDate: givenIssuance, expirationDate: givenExpiration, ...rest } = input
    const contexts = asArray(input['@context']).filter((c) => c !== VC_V1_CONTEXT && c !== VC_V2_CONTEXT)
    const types = asArray(input.type)
    const claimedIssuer = issuerId(input.issuer)
    if (claimedIssuer !== undefined && claimedIssuer !== issuer.did) {
      throw new AppError('forbidden', `an institution may issue only as its own DID (${issuer.did}), not as ${claimedIssuer}`)
    }
    if (generation === 'v2') {
      // VC 2.0 has no issuanceDate/expirationDate: taking them silently would sign dates the caller did not mean.
      const v1Date = givenIssuance !== undefined ? 'issuanceDate' : givenExpiration !== undefined ? 'expirationDate' : undefined
      if (v1Date) {
        const instead = v1Date === 'issuanceDate' ? 'validFrom' : 'validUntil'
        throw new AppError('invalid-credential', `credential.${v1Date}: is VC 1.1 vocabulary; a VC 2.0 credential uses ${instead}`, {
          errors: [{ field: `credential.${v1Date}`, message: `use ${instead} in a VC 2.0 credential` }],
        })
      }
    }
    const start = toSeconds(givenIssuance ?? validFrom ?? new Date().toISOString())
    const expiration = givenExpiration ?? validUntil
    const [startName, endName] = generation === 'v2' ? ['validFrom', 'validUntil'] : ['issuanceDate', 'expirationDate']
    const credential: Record<string, unknown> = {
      ...rest,
      '@context': [generation === 'v2' ? VC_V2_CONTEXT : VC_V1_CONTEXT, ...contexts],
      id: input.id ?? `urn:uuid:${randomUUID()}`,
      type: types.includes('VerifiableCredential') ? types : ['VerifiableCredential', ...types],
      issuer: generation === 'v2' ? issuer.did : { id: issuer.did },
      [startName]: start,
      ...(expiration ? { [endName]: toSeconds(expiration) } : {}),
    }
    if (expiration && Date.parse(expiration) <= Date.parse(start)) {
      throw new AppError('invalid-credential', `credential.${endName}: must be after ${startName}`, {
        errors: [{ field: `credential.${endName}`, message: `must be after ${startName}` }],
      })
    }
    const reserved = reservedTypesOf(types)
    if (reserved.length) {
      throw new AppError('reserved-credential-type', `credential.type: ${reserved[0]} is signed only by medcred's own flow (receipts after a verification, status lists by the status service, consents by the patient), never through issuance`, {
        errors: [{ field: 'credential.type', message: `${reserved[0]} is a reserved type` }],
      })
    }
    const named = knownTypesOf(types)
    if (named.length > 1) {
      throw new AppError('invalid-credential', `credential.type: a credential may be of one known type, not ${named.map((k) => k.name).join(' and ')}`, {
        errors: [{ field: 'credential.type', message: 'names more than one known credential type' }],
      })
    }
    const known = named[0]
    if (known) {
      if (!known.spec.issuerKinds.includes(issuer.kind)) {
        throw new AppError('forbidden', `a ${issuer.kind} may not issue ${known.name} (only: ${known.spec.issuerKinds.join(', ')})`)
      }
      credential.credentialSubject = parseOrThrow(known.spec.subject, input.credentialSubject, {
        code: 'invalid-credential',
        prefix: 'credential.credentialSubject',
        what: `not a valid ${known.name}`,
      })
      if (known.spec.requiresExpiration && !expiration) {
        throw new AppError('invalid-credential', `credential.${endName}: a ${known.name} must have an expiration date`, {
          errors: [{ field: `credential.${endName}`, message: 'is required' }],
        })
      }
      const subjectJurisdiction = (credential.credentialSubject as { jurisdiction?: string }).jurisdiction
      if (known.spec.jurisdictionBound && issuer.jurisdiction && subjectJurisdiction !== issuer.jurisdiction) {
        throw new AppError(
          'forbidden',
          `a board of ${issuer.jurisdiction} may not issue a ${known.name} for ${subjectJurisdiction}`,
        )
      }
    }
    return { credential, purposes: known?.spec.suspendable ? ['revocation', 'suspension'] : ['revocation'], generation }
  }

  /** A credential this service signed, by its issuer's DID and its id (ids are unique per issuer only). */
  async find(issuerDid: string, id: string): Promise<IssuedCredentialRow | undefined> {
    return (await this.deps.db.manager.getRepository(IssuedCredentialEntity).findOneBy({ issuerDid, id })) ?? undefined
  }

  /**
   * What `issuer` issued, newest first, optionally narrowed to those whose id, subject DID, type or subject
   * fields (name, NPI, license number, …) contain `q` (case-insensitive). The subject lives only inside the
   * signed JWT, so the match runs over the newest `scan` credentials decoded here, not in SQL.
   */
  async search(issuer: InstitutionRow, q = '', opts: { limit?: number; scan?: number } = {}): Promise<(IssuedCredentialRow & { subject: Record<string, unknown> })[]> {
    const rows = await this.deps.db.manager.getRepository(IssuedCredentialEntity).find({ where: { issuerInstitutionId: issuer.id }, order: { issuedAt: 'DESC' }, take: opts.scan ?? 500 })
    const needle = q.trim().toLowerCase()
    const found = []
    for (const row of rows) {
      const subject = subjectOf(row.jwt)
      const haystack = [row.id, row.subjectDid ?? '', row.type, ...Object.values(subject).filter((v) => typeof v === 'string')].join(' ').toLowerCase()
      if (!needle || haystack.includes(needle)) found.push({ ...row, subject })
      if (found.length >= (opts.limit ?? 50)) break
    }
    return found
  }
}

/** The data model a credential states in its first `@context`. */
type Generation = 'v1' | 'v2'

/** The format to sign in: as asked, or as the data model says; a JWT format that does not fit the data model is refused. */
function formatFor(generation: Generation, requested: IssueFormat | undefined): IssueFormat {
  const natural: IssueFormat = generation === 'v2' ? VC_JWT_TYP : 'jwt_vc'
  if (requested === undefined || requested === natural || requested === SD_JWT_VC_FORMAT) return requested ?? natural
  const model = generation === 'v2' ? `VC 2.0 (@context ${VC_V2_CONTEXT})` : `VC 1.1 (@context ${VC_V1_CONTEXT})`
  throw new AppError('invalid-request', `options.format: a ${model} credential is secured as ${natural}, not ${requested}`, {
    errors: [{ field: 'options.format', message: `use ${natural}, or change the credential's @context` }],
  })
}

/** The credential subject inside a VC-JWT or vc+jwt that this service signed (so known to decode). */
export function subjectOf(jwt: string): Record<string, unknown> {
  try {
    const payload = JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'))
    // VC 1.1 keeps the subject in the `vc` claim; a VC 2.0 vc+jwt payload is the credential itself.
    const subject = payload?.vc?.credentialSubject ?? payload?.credentialSubject ?? {}
    return { ...(typeof payload.sub === 'string' ? { id: payload.sub } : {}), ...(Array.isArray(subject) ? subject[0] : subject) }
  } catch {
    return {}
  }
}
