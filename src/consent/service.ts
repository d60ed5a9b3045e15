import { randomUUID } from 'node:crypto'
import type { EntityManager } from 'typeorm'
import type { AuditLog } from '../audit/audit-log.js'
import type { AuditActor } from '../audit/types.js'
import type { Database } from '../db/database.js'
import { isUniqueViolation } from '../db/errors.js'
import type { DidResolver } from '../did/resolver.js'
import { credentialDigest } from '../credentials/digest.js'
import { AppError } from '../errors.js'
import { InstitutionEntity, type InstitutionRow } from '../institutions/institution.entity.js'
import { fail, pass, type Check } from '../verification/checks.js'
import { ConsentEntity, PATIENT_PURPOSES, type ConsentRow, type PatientPurpose } from './consent.entities.js'
import { verifyConsentJwt, type ConsentTermsSigned } from './consent-jwt.js'
import { spendPatientToken, verifyPatientToken } from './patient-tokens.js'

/** Credential types whose verification for an institution needs the patient's consent. */
export const TYPES_REQUIRING_CONSENT: ReadonlySet<string> = new Set(['PatientIdentityCredential'])

/** A consent as medcred answers with it: its terms and state, never the data it covers. */
export interface ConsentView {
  id: string
  patient: string
  grantee: string
  purposes: PatientPurpose[]
  credentialTypes: string[]
  issuedAt: string
  expiresAt: string
  status: 'active' | 'expired' | 'revoked'
  revokedAt: string | null
}

/** Who asked, for the audit trail (the patient's signature is the authority; the caller is recorded). */
export interface ConsentActor {
  actor: AuditActor
  requestId?: string
}

/** The outcome of one consent check, for the verdict and for its audit event. */
export interface ConsentDecision {
  check: Check
  patientDid: string | null
  granteeDid: string | null
  purpose: string | null
  credentialType: string
  consentId: string | null
}

/**
 * Patients' consents: granted by a PatientConsentCredential the patient signed, revoked by a short JWT the
 * same patient signed (single use, final), listed by the patient with a signed bearer token (single use)
 * or by the institution granted. No institution and not the admin can grant, change or revoke a patient's
 * consent: only the patient's signature can. Every grant, revocation and check appends an audit event
 * naming the patient by DID and the data by type.
 */
export class ConsentService {
  constructor(
    private readonly deps: {
      db: Database
      resolver: DidResolver
      audit: AuditLog
      publicUrl: string
      skewSeconds: number
      /** How long a patient's bearer token may live, and how old a revocation may be (at most 300 s). */
      tokenMaxSeconds: number
    },
  ) {}

  private now = () => Math.floor(Date.now() / 1000)

  /** Verifies a consent the patient signed and stores it; a consent already stored is answered as it is. */
  async grant(consentJwt: string, by: ConsentActor): Promise<{ consent: ConsentView; created: boolean }> {
    const terms = await this.verifiedTerms(consentJwt)
    const digest = credentialDigest(consentJwt)
    const existing = await this.deps.db.manager.getRepository(ConsentEntity).findOneBy({ digest })
    if (existing) return { consent: view(existing), created: false }
    const row: ConsentRow = { id: randomUUID(), ...terms, digest, jwt: consentJwt, createdAt: new Date().toISOString(), revokedAt: null }
    try {
      await this.deps.db.transaction(async (m) => {
        await m.getRepository(ConsentEntity).insert(row)
        await this.deps.audit.append(m, {
          ...by,
          action: 'consent.granted',
          subject: { type: 'consent', id: row.id },
          outcome: 'success',
          detail: { patient: row.patientDid, grantee: row.granteeDid, purposes: row.purposes, credentialTypes: row.credentialTypes, expiresAt: row.expiresAt },
        })
      })
    } catch (e) {
      // The same consent granted twice at once: the loser answers with the winner's row.
      const winner = isUniqueViolation(e) ? await this.deps.db.manager.getRepository(ConsentEntity).findOneBy({ digest }) : null
      if (winner) return { consent: view(winner), created: false }
      throw e
    }
    return { consent: view(row), created: true }
  }

  private async verifiedTerms(consentJwt: string): Promise<ConsentTermsSigned> {
    const verified = await verifyConsentJwt(consentJwt, { resolver: this.deps.resolver, now: this.now(), skewSeconds: this.deps.skewSeconds })
    if (!verified.ok) {
      if (verified.reason === 'unavailable') throw new AppError('chain-unavailable', 'the consent signature cannot be checked now')
      throw new AppError(verified.reason === 'forbidden' ? 'forbidden' : 'invalid-consent', verified.detail)
    }
    // An institution's DID is never a patient: what an institution signs is not a patient's consent.
    if (await this.deps.db.manager.getRepository(InstitutionEntity).existsBy({ did: verified.terms.patientDid })) {
      throw new AppError('forbidden', 'a consent must be signed by the patient; this one is signed by an institution')
    }
    return verified.terms
  }

  /**
   * Revokes a consent with a short JWT signed by the same patient: `{iss, consent_id, iat, nonce}`. The nonce
   * is spent in the revocation's transaction; a revoked consent stays revoked.
   */
  async revoke(id: string, revocationJwt: string, by: ConsentActor): Promise<ConsentView> {
    const consent = await this.deps.db.manager.getRepository(ConsentEntity).findOneBy({ id })
    if (!consent) throw new AppError('not-found', `no consent ${id}`)
    const token = await verifyPatientToken(revocationJwt, {
      resolver: this.deps.resolver,
      now: this.now(),
      skewSeconds: this.deps.skewSeconds,
      maxSeconds: this.deps.tokenMaxSeconds,
      requireExp: false,
      code: 'forbidden',
      what: 'revocation',
    })
    if (token.did !== consent.patientDid) throw new AppError('forbidden', 'only the patient who granted a consent may revoke it; this revocation is signed by another DID')
    if (token.payload.consent_id !== id) throw new AppError('invalid-request', 'the revocation names another consent (consent_id)')
    const revokedAt = new Date().toISOString()
    await this.deps.db.transaction(async (m) => {
      await spendPatientToken(m, token, 'revocation', 'conflict')
      const done = await m
        .getRepository(ConsentEntity)
        .createQueryBuilder()
        .update()
        .set({ revokedAt })
        .where('id = :id AND "revokedAt" IS NULL', { id })
        .execute()
      if (done.affected !== 1) throw new AppError('conflict', 'the consent is already revoked, and revocation is final')
      await this.deps.audit.append(m, {
        ...by,
        action: 'consent.revoked',
        subject: { type: 'consent', id },
        outcome: 'success',
        detail: { patient: consent.patientDid, grantee: consent.granteeDid },
      })
    })
    return view({ ...consent, revokedAt })
  }

  /** The consents of the patient whose single-use bearer token (signed by their DID, aud = medcred) this is. */
  async listForPatient(bearerJwt: string): Promise<{ patient: string; consents: ConsentView[] }> {
    const token = await verifyPatientToken(bearerJwt, {
      resolver: this.deps.resolver,
      now: this.now(),
      skewSeconds: this.deps.skewSeconds,
      maxSeconds: this.deps.tokenMaxSeconds,
      audience: this.deps.publicUrl,
      requireExp: true,
      code: 'unauthorized',
      what: 'bearer token',
    })
    await this.deps.db.transaction((m) => spendPatientToken(m, token, 'bearer', 'unauthorized'))
    const rows = await this.deps.db.manager.getRepository(ConsentEntity).find({ where: { patientDid: token.did }, order: { createdAt: 'ASC' } })
    return { patient: token.did, consents: rows.map(view) }
  }

  /** The consents granted to this institution. */
  async listForGrantee(institution: InstitutionRow): Promise<ConsentView[]> {
    const rows = await this.deps.db.manager.getRepository(ConsentEntity).find({ where: { granteeDid: institution.did }, order: { createdAt: 'ASC' } })
    return rows.map(view)
  }

  /**
   * The `consent` check: passes only when an active consent from this patient covers this institution,
   * purpose and credential type. A consent the patient carried in the presentation itself (signed by the
   * same DID) counts, and is stored as granted.
   */
  async check(q: {
    patientDid?: string
    grantee?: InstitutionRow
    purpose?: string
    credentialType: string
    carried?: string[]
    by: ConsentActor
  }): Promise<ConsentDecision> {
    const decision = (check: Check, consentId: string | null = null): ConsentDecision => ({
      check,
      patientDid: q.patientDid ?? null,
      granteeDid: q.grantee?.did ?? null,
      purpose: q.purpose ?? null,
      credentialType: q.credentialType,
      consentId,
    })
    if (!q.grantee) {
      return decision(fail('consent', 'consent cannot be established without a verifier identity: verify with an institution key and a patient purpose (POST /verifications)'))
    }
    if (!q.purpose || !(PATIENT_PURPOSES as readonly string[]).includes(q.purpose)) {
      return decision(fail('consent', `a patient credential is verified for a patient purpose (${PATIENT_PURPOSES.join(', ')}), not ${q.purpose ?? 'none'}`))
    }
    if (!q.patientDid) return decision(fail('consent', 'the credential names no patient DID, so no consent can apply'))
    for (const jwt of q.carried ?? []) {
      const verified = await verifyConsentJwt(jwt, { resolver: this.deps.resolver, now: this.now(), skewSeconds: this.deps.skewSeconds })
      if (verified.ok && verified.terms.patientDid === q.patientDid && covers(verified.terms, q.grantee.did, q.purpose, q.credentialType)) {
        // A carried consent medcred refuses to store (e.g. signed by an institution) counts for nothing.
        const granted = await this.grant(jwt, q.by).catch((e: unknown) => {
          if (e instanceof AppError && e.status < 500) return undefined
          throw e
        })
        if (granted?.consent.status === 'active') {
          return decision(pass('consent', `consent ${granted.consent.id}, carried in the presentation, covers ${q.purpose} of ${q.credentialType}`), granted.consent.id)
        }
      }
    }
    const now = new Date().toISOString()
    const rows = await this.deps.db.manager
      .getRepository(ConsentEntity)
      .createQueryBuilder('c')
      .where('c.patientDid = :patient AND c.granteeDid = :grantee AND c.revokedAt IS NULL AND c.expiresAt > :now', { patient: q.patientDid, grantee: q.grantee.did, now })
      .orderBy('c.createdAt', 'ASC')
      .getMany()
    const match = rows.find((r) => covers(r, q.grantee!.did, q.purpose!, q.credentialType))
    if (match) return decision(pass('consent', `consent ${match.id} covers ${q.purpose} of ${q.credentialType}`), match.id)
    return decision(fail('consent', `no active consent from the patient covers ${q.grantee.did} for ${q.purpose} of ${q.credentialType}`))
  }

  /** The audit event of a consent-checked verification (passed or failed), inside the caller's transaction. */
  auditCheck(m: EntityManager, by: ConsentActor, d: ConsentDecision, verificationId?: string): Promise<unknown> {
    return this.deps.audit.append(m, checkEvent(by, d, verificationId))
  }

  /** The same, in a transaction of its own (a VC API verification, which stores nothing else). */
  recordCheck(by: ConsentActor, d: ConsentDecision): Promise<unknown> {
    return this.deps.audit.record(checkEvent(by, d))
  }
}

function checkEvent(by: ConsentActor, d: ConsentDecision, verificationId?: string) {
  return {
    ...by,
    action: 'consent.checked',
    subject: { type: 'consent', id: d.consentId ?? 'none' },
    outcome: d.check.ok ? ('success' as const) : ('failure' as const),
    detail: {
      patient: d.patientDid,
      grantee: d.granteeDid,
      purpose: d.purpose,
      credentialType: d.credentialType,
      verificationId: verificationId ?? null,
    },
  }
}

function covers(terms: Pick<ConsentTermsSigned, 'granteeDid' | 'purposes' | 'credentialTypes'>, grantee: string, purpose: string, type: string): boolean {
  return terms.granteeDid === grantee && (terms.purposes as string[]).includes(purpose) && terms.credentialTypes.includes(type)
}

function view(row: ConsentRow): ConsentView {
  const status = row.revokedAt ? 'revoked' : row.expiresAt <= new Date().toISOString() ? 'expired' : 'active'
  return {
    id: row.id,
    patient: row.patientDid,
    grantee: row.granteeDid,
    purposes: row.purposes,
    credentialTypes: row.credentialTypes,
    issuedAt: row.issuedAt,
    expiresAt: row.expiresAt,
    status,
    revokedAt: row.revokedAt,
  }
}
