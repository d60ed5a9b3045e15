import Router from '@koa/router'
import type { Context } from 'koa'
import type { Parameters } from '@medplum/fhirtypes'
import type { VerifiableCredential } from '@veramo/core'
import { z } from 'zod'
import { DID } from '../../credentials/identifiers.js'
import type { UnsignedCredential } from '../../credentials/w3c.js'
import { AppError } from '../../errors.js'
import { capabilityStatement } from '../../fhir/capability-statement.js'
import { consentBundle } from '../../fhir/consent.js'
import { invalidResource } from '../../fhir/errors.js'
import { identityFromPatient, PATIENT_FIELD_PATHS } from '../../fhir/patient.js'
import { licenseFromPractitioner, LICENSE_FIELD_PATHS } from '../../fhir/practitioner.js'
import { searchBundle, toVerificationResult } from '../../fhir/verification-result.js'
import type { InstitutionRow } from '../../institutions/institution.entity.js'
import { parseOrThrow } from '../../validation.js'
import { auditContext } from '../audit-context.js'
import { institutionOf } from '../authorization.js'
import type { AppDeps } from '../app.js'
import { FhirFacts } from '../fhir-facts.js'
import { doc } from '../openapi/route-doc.js'
import { JsonObject } from '../openapi/replies.js'
import { json } from '../reply.js'
import { withIssueDefaults } from '../../issuance/defaults.js'

const FHIR_JSON = 'application/fhir+json'

const IssueQuery = z.union([
  z.strictObject({ subject: z.string().regex(DID, 'must be a DID'), assuranceLevel: z.enum(['IAL1', 'IAL2', 'IAL3']).optional() }),
  z.strictObject({ offer: z.literal('true'), assuranceLevel: z.enum(['IAL1', 'IAL2', 'IAL3']).optional() }),
], { error: 'give ?subject=did:… (the holder) or ?offer=true (an OID4VCI offer)' })

const ConsentQuery = z.strictObject({ patient: z.string().regex(DID, 'must be the patient\'s DID') })

const SearchQuery = z.strictObject({ target: z.string().regex(/^Practitioner\/\d{10}$/, 'must be Practitioner/{npi}') })

const param = (name: string, value: string, kind: 'valueString' | 'valueUri' | 'valueDateTime' = 'valueString') => ({ name, [kind]: value })

/**
 * Issues `credential` as the API would (same checks, same audit event), to the subject DID or as a wallet
 * offer; a subject field the credential schema refuses is reported at the FHIRPath it came from.
 */
async function issueFromFhir(ctx: Context, deps: AppDeps, issuer: InstitutionRow, credential: UnsignedCredential, query: z.infer<typeof IssueQuery>, paths: Record<string, string>): Promise<Parameters> {
  try {
    if ('offer' in query) {
      const created = await deps.oid4vci.createOffer(issuer, { credential }, auditContext(ctx).actor)
      return { resourceType: 'Parameters', parameter: [param('offerId', created.id), param('offer', created.offer, 'valueUri'), param('expiresAt', created.expiresAt, 'valueDateTime')] }
    }
    // The default format (VC-JWT) answers with the credential object, never a bare SD-JWT string.
    // A convenience path: a FHIR import is a VC 1.1 credential of the calling institution (withIssueDefaults).
    const vc = (await deps.issuance.issue(issuer, withIssueDefaults(issuer.did, { ...credential, credentialSubject: { ...credential.credentialSubject, id: query.subject } }), { ...auditContext(ctx), detail: { via: 'fhir' } })) as VerifiableCredential
    return { resourceType: 'Parameters', parameter: [param('credentialId', String(vc.id)), param('verifiableCredential', String(vc.proof.jwt))] }
  } catch (e) {
    const fields = e instanceof AppError && e.code === 'invalid-credential' ? (e.extra.errors as { field: string; message: string }[] | undefined) : undefined
    const mapped = fields?.map((f) => ({ fhirPath: paths[f.field.replace(/^credential\./, '')] ?? f.field, detail: f.message }))
    if (mapped?.length) throw invalidResource(mapped)
    throw e
  }
}

/** FHIR R4 in and out; the mapping is src/fhir, the work the capabilities'. Every answer is application/fhir+json. */
export function fhirRoutes(deps: AppDeps): Router {
  const router = new Router({ prefix: '/fhir', sensitive: true })
  const facts = new FhirFacts(deps)

  doc(router, { method: 'get', path: '/fhir/metadata', tag: 'fhir', summary: 'The FHIR CapabilityStatement', replies: { 200: { description: 'FHIR R4 JSON', type: 'application/fhir+json', schema: JsonObject } } })
  router.get('/metadata', async (ctx) => {
    json(ctx, 200, capabilityStatement(deps.web.publicUrl, '0.1.0'), FHIR_JSON)
  })

  doc(router, { method: 'post', path: '/fhir/Practitioner/$issue-license', tag: 'fhir', summary: 'Issue a license from a FHIR Practitioner (board), or offer it', query: IssueQuery, replies: { 200: { description: 'FHIR R4 JSON', type: 'application/fhir+json', schema: JsonObject } }, problems: ['invalid-credential', 'invalid-request'] })
  router.post('/Practitioner/\\$issue-license', async (ctx) => {
    const board = institutionOf(ctx)
    const query = parseOrThrow(IssueQuery, ctx.query, { prefix: 'query' })
    const credential = licenseFromPractitioner(ctx.state.body, board)
    json(ctx, 200, await issueFromFhir(ctx, deps, board, credential, query, LICENSE_FIELD_PATHS), FHIR_JSON)
  })

  doc(router, { method: 'post', path: '/fhir/Patient/$issue-identity', tag: 'fhir', summary: 'Issue a patient identity credential from a FHIR Patient, or offer it', query: IssueQuery, replies: { 200: { description: 'FHIR R4 JSON', type: 'application/fhir+json', schema: JsonObject } }, problems: ['invalid-credential', 'invalid-request'] })
  router.post('/Patient/\\$issue-identity', async (ctx) => {
    const issuer = institutionOf(ctx)
    const query = parseOrThrow(IssueQuery, ctx.query, { prefix: 'query' })
    if (!query.assuranceLevel) throw new AppError('invalid-request', 'query.assuranceLevel: give the identity proofing level reached (IAL1, IAL2 or IAL3)')
    const credential = identityFromPatient(ctx.state.body, query.assuranceLevel)
    json(ctx, 200, await issueFromFhir(ctx, deps, issuer, credential, query, PATIENT_FIELD_PATHS), FHIR_JSON)
  })

  doc(router, { method: 'get', path: '/fhir/VerificationResult/:id', tag: 'fhir', summary: 'A verification or acceptance of this hospital as a FHIR VerificationResult', replies: { 200: { description: 'FHIR R4 JSON', type: 'application/fhir+json', schema: JsonObject } } })
  router.get('/VerificationResult/:id', async (ctx) => {
    const hospital = institutionOf(ctx)
    const found = await facts.byId(hospital, ctx.params.id)
    if (!found) throw new AppError('not-found', `no verification or acceptance ${ctx.params.id} of this hospital`)
    json(ctx, 200, toVerificationResult(found), FHIR_JSON)
  })

  doc(router, { method: 'get', path: '/fhir/VerificationResult', tag: 'fhir', summary: 'Search VerificationResults by Practitioner NPI (a Bundle)', query: SearchQuery, replies: { 200: { description: 'FHIR R4 JSON', type: 'application/fhir+json', schema: JsonObject } } })
  router.get('/VerificationResult', async (ctx) => {
    const hospital = institutionOf(ctx)
    const { target } = parseOrThrow(SearchQuery, ctx.query, { prefix: 'query' })
    const results = (await facts.byNpi(hospital, target.split('/')[1])).map(toVerificationResult)
    json(ctx, 200, searchBundle(results, `${deps.web.publicUrl}/fhir/VerificationResult?target=${target}`), FHIR_JSON)
  })

  /** The patient's consents granted to the calling institution (a patient reads their own at GET /consents). */
  doc(router, { method: 'get', path: '/fhir/Consent', tag: 'fhir', summary: 'A patient’s consents granted to the caller, as FHIR Consent resources', query: ConsentQuery, replies: { 200: { description: 'FHIR R4 JSON', type: 'application/fhir+json', schema: JsonObject } } })
  router.get('/Consent', async (ctx) => {
    const institution = institutionOf(ctx)
    const { patient } = parseOrThrow(ConsentQuery, ctx.query, { prefix: 'query' })
    const consents = (await deps.consents.listForGrantee(institution)).filter((c) => c.patient === patient)
    json(ctx, 200, consentBundle(consents, `${deps.web.publicUrl}/fhir/Consent?patient=${encodeURIComponent(patient)}`), FHIR_JSON)
  })

  return router
}
