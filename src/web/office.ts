import type Router from '@koa/router'
import type { Context } from 'koa'
import { z } from 'zod'
import { VERIFICATION_PURPOSES, type VerificationPurpose } from '../acceptance/acceptance.entities.js'
import { CREDENTIAL_ELEMENTS } from '../acceptance/credentialing-file.js'
import { parseReceipt } from '../acceptance/receipts.js'
import { recordVerification } from '../api/routes/record-verification.js'
import { KNOWN_TYPES } from '../credentials/subject-schemas.js'
import { decodeJwt } from '../credentials/jwt.js'
import { SignedCredentialSchema, SignedPresentationSchema, asArray, jwtOf, type SignedInput } from '../credentials/w3c.js'
import { AppError } from '../errors.js'
import type { InstitutionRow } from '../institutions/institution.entity.js'
import { subjectOf } from '../issuance/service.js'
import { failures, type Check } from '../verification/checks.js'
import { verifyCredential } from '../verification/verify-credential.js'
import { parseOrThrow } from '../validation.js'
import { formOf, pageContext, sendPage, seeOther, type PageDeps } from './context.js'
import { institutionOf } from '../api/authorization.js'
import { html, type SafeHtml } from './html.js'
import { csrfField } from './layout.js'
import { age } from './plain-words.js'
import { qrCode } from './qr.js'
import { checkList, relianceNote } from './views/common.js'

const REQUESTABLE = Object.keys(KNOWN_TYPES).filter((t) => t !== 'PatientIdentityCredential')
const TYPE_WORDS: Record<string, string> = { ClinicianLicenseCredential: 'State license', BoardCertificationCredential: 'Board certification', DEARegistrationCredential: 'DEA registration' }

const PasteForm = z.strictObject({
  _csrf: z.string(),
  challenge: z.string().min(1).max(100),
  domain: z.string().min(1).max(300),
  purpose: z.enum(VERIFICATION_PURPOSES),
  presentation: z.string().trim().min(1, 'paste a presentation, credential or receipt, or upload its file').max(500_000),
  receipt: z.string().trim().max(100_000).optional(),
  file: z.literal('on').optional(),
})

/** What was pasted: a JWT, or the JSON form of a credential or presentation (it carries its `proof.jwt`). */
function pasted(text: string, field: string): SignedInput {
  if (!text.startsWith('{')) return text
  try {
    return JSON.parse(text) as SignedInput
  } catch (e) {
    throw new AppError('invalid-json', `${field}: not a JWT, and not valid JSON: ${(e as Error).message}`)
  }
}

/** Whether a signed thing is a presentation (its JWT carries `vp`), and whether a presentation carries a receipt. */
function kindOf(input: SignedInput): { presentation: boolean; holdsReceipt: boolean } {
  let payload: Record<string, unknown>
  try {
    payload = decodeJwt(jwtOf(input)).payload as Record<string, unknown>
  } catch {
    throw new AppError('invalid-request', 'presentation: not a JWT (three base64url parts) nor a JSON credential with proof.jwt')
  }
  const vp = payload.vp as { verifiableCredential?: unknown } | undefined
  if (!vp) return { presentation: false, holdsReceipt: false }
  const embedded = asArray(vp.verifiableCredential).map((c) => (typeof c === 'string' ? c : (c as { proof?: { jwt?: unknown } })?.proof?.jwt))
  return { presentation: true, holdsReceipt: embedded.some((j) => typeof j === 'string' && parseReceipt(j) !== undefined) }
}

async function verifierName(deps: PageDeps, did: string): Promise<string | undefined> {
  return (await deps.institutions.byDid(did))?.name
}

async function officeHome(ctx: Context, deps: PageDeps, hospital: InstitutionRow): Promise<SafeHtml> {
  const page = pageContext(ctx)
  const binding = await deps.challenges.issue(hospital)
  const notices = await deps.notices.list(hospital.id, { limit: 20 })
  const reliances = await deps.acceptances.reliances(hospital, 20)
  const rows: SafeHtml[] = []
  for (const r of reliances) {
    const issued = await deps.issuance.find(r.issuerDid, r.credentialId)
    const subject = issued ? subjectOf(issued.jwt) : {}
    const status: Check = issued ? await deps.acceptances.liveStatus(issued.jwt) : { check: 'status', ok: false, detail: 'not issued through this medcred: check it with a presentation' }
    const receipt = r.via === 'receipt' ? await deps.acceptances.receiptOf(r) : undefined
    const via = r.via === 'verification' ? 'Verified in full here' : `On the receipt of ${receipt ? ((await deps.institutions.get(receipt.verifierInstitutionId).catch(() => undefined))?.name ?? 'another hospital') : 'another hospital'}${receipt ? ` (verified ${age(receipt.createdAt)})` : ''}`
    rows.push(html`<tr><td>${String(subject.name ?? '')}<br><span class="hint">NPI ${String(subject.npi ?? '—')}</span></td><td><code>${r.credentialId}</code></td><td>${via}<br><span class="hint">${r.createdAt.slice(0, 10)}</span></td>
<td class="${status.ok ? 'ok' : 'bad'}"><strong>${status.ok ? 'Good standing' : 'FAILED'}</strong><br><span class="hint">${status.detail ?? ''}</span></td></tr>`)
  }
  const alarming = notices.items.filter((n) => n.event !== 'credential.reinstated')
  return html`
${alarming.length ? html`<div class="notice" role="alert"><h2>Notifications</h2><ul>${alarming.map((n) => html`<li><strong>${n.event === 'credential.revoked' ? 'Revoked' : n.event === 'credential.suspended' ? 'Suspended' : n.event}</strong>: credential <code>${String(n.data.credentialId ?? '')}</code>${n.data.reason ? ` (reason: ${String(n.data.reason)})` : ''}, ${age(n.createdAt)}</li>`)}</ul></div>` : html`<p>No revocation notices.</p>`}
<div class="row">
<section aria-labelledby="start-h"><h2 id="start-h">Verify with the clinician's wallet</h2>
<form method="post" action="/web/office/requests">${csrfField(page)}
<label for="r-purpose">Purpose</label><select id="r-purpose" name="purpose">${VERIFICATION_PURPOSES.map((p) => html`<option>${p}</option>`)}</select>
<fieldset><legend>Credentials to ask for</legend>${REQUESTABLE.map((t, i) => html`<label class="inline"><input type="checkbox" name="type_${t}" ${i === 0 ? 'checked' : ''}> ${TYPE_WORDS[t] ?? t}</label>`)}</fieldset>
<label class="inline"><input type="checkbox" name="acceptReceipts" checked> Accept another hospital's receipt (accept once)</label>
<button type="submit">Show QR code</button></form></section>
<section aria-labelledby="paste-h"><h2 id="paste-h">Or paste or upload</h2>
<form method="post" action="/web/office/verify">${csrfField(page)}
<input type="hidden" name="challenge" value="${binding.challenge}"><input type="hidden" name="domain" value="${binding.domain}">
<p class="hint">A presentation must answer this one-time challenge: <code id="challenge">${binding.challenge}</code> for domain <code id="domain">${binding.domain}</code>.</p>
<label for="p-text">Presentation, credential or receipt <span class="hint">a JWT, or JSON</span></label><textarea id="p-text" name="presentation" required></textarea>
<label for="p-file">Or upload its file</label><input id="p-file" type="file" data-fill="p-text" accept=".jwt,.json,.txt,application/json,text/plain">
<label for="p-receipt">Another hospital's receipt for that credential <span class="hint">optional: accept once on it</span></label><textarea id="p-receipt" name="receipt"></textarea>
<label for="p-purpose">Purpose</label><select id="p-purpose" name="purpose">${VERIFICATION_PURPOSES.map((p) => html`<option>${p}</option>`)}</select>
<label class="inline"><input type="checkbox" name="file"> Build a credentialing file from this presentation</label>
<button type="submit">Verify</button></form></section>
</div>
<section aria-labelledby="acc-h"><h2 id="acc-h">Accepted credentials, live status</h2>
${rows.length ? html`<table><thead><tr><th scope="col">Clinician</th><th scope="col">Credential</th><th scope="col">How accepted</th><th scope="col">Status now</th></tr></thead><tbody>${rows}</tbody></table>` : html`<p>None yet.</p>`}
</section>`
}

function fileReport(report: Awaited<ReturnType<PageDeps['credentialingFiles']['create']>>): SafeHtml {
  const words: Record<string, string> = { verified: 'Verified from the primary source', 'relied-on-receipt': "Relied on another hospital's receipt", failed: 'Failed', missing: 'Not presented' }
  return html`<section aria-labelledby="file-h"><h2 id="file-h">Credentialing file checklist</h2>
<p>${report.complete ? 'Every element medcred can verify is settled.' : 'Some elements are not settled.'} ${report.note}</p>
<table><thead><tr><th scope="col">Element</th><th scope="col">Outcome</th><th scope="col">Details</th></tr></thead><tbody>
${report.elements.map((e) => html`<tr><td>${e.element}</td><td class="${e.status === 'verified' || e.status === 'relied-on-receipt' ? 'ok' : 'bad'}"><strong>${words[e.status]}</strong></td>
<td>${e.credentialId ? html`<code>${e.credentialId}</code>` : ''}${e.reliedOn ? ` on the receipt of ${e.reliedOn.verifier}, ${age(e.reliedOn.verifiedAt)}` : ''}${(e.failures ?? []).map((f) => html`<br>${f.check}: ${f.detail}`)}</td></tr>`)}
${report.notCoveredByMedcred.map((e) => html`<tr><td>${e}</td><td><strong>Cannot be verified by medcred</strong></td><td>Check it yourself from its primary source.</td></tr>`)}
</tbody></table></section>`
}

export function officeRoutes(router: Router, deps: PageDeps): void {
  router.get('/web/office', async (ctx) => {
    const hospital = institutionOf(ctx)
    sendPage(ctx, `${hospital.name}: credentialing office`, await officeHome(ctx, deps, hospital))
  })

  router.post('/web/office/requests', async (ctx) => {
    const hospital = institutionOf(ctx)
    const f = formOf(ctx)
    const purpose = parseOrThrow(z.enum(VERIFICATION_PURPOSES), f.purpose, { prefix: 'purpose' })
    const credentialTypes = REQUESTABLE.filter((t) => f[`type_${t}`] === 'on')
    if (credentialTypes.length === 0) throw new AppError('invalid-request', 'credentialTypes: tick at least one credential to ask for')
    const created = await deps.oid4vp.createRequest(hospital, { purpose, credentialTypes, acceptReceipts: f.acceptReceipts === 'on' })
    seeOther(ctx, `/web/office/requests/${created.id}`)
  })

  router.get('/web/office/requests/:id', async (ctx) => {
    const hospital = institutionOf(ctx)
    const view = await deps.oid4vp.get(hospital, ctx.params.id)
    if (!view) throw new AppError('not-found', `no presentation request ${ctx.params.id} of this hospital`)
    const reliedOn = view.acceptance?.reliedOn as { verifier: string; verifiedAt: string } | undefined
    const body =
      view.status === 'pending'
        ? html`<p role="status" data-poll="/web/office/requests/${view.id}/state">Waiting for the clinician's wallet… this page updates by itself when it answers.</p>
${await qrCode(view.request, 'QR code of the presentation request for the clinician\'s wallet')}
<p>Or open on the clinician's device: <code class="mono">${view.request}</code></p>
<noscript><p><a href="/web/office/requests/${view.id}">Refresh</a> to see whether the wallet answered.</p></noscript>
<p class="hint">Expires ${new Date(view.expiresAt).toUTCString()}.</p>`
        : html`<p>The request is <strong>${view.status}</strong>${view.holder ? html` (clinician <code>${view.holder}</code>)` : ''}.</p>
${reliedOn ? relianceNote(reliedOn, await verifierName(deps, reliedOn.verifier)) : ''}
${view.checks ? checkList(view.checks, view.status === 'verified' || view.status === 'accepted-on-receipt') : ''}
${view.receiptOffer ? html`<h2>Give the clinician the receipt</h2>${await qrCode(view.receiptOffer, 'QR code of the acceptance receipt offer for the clinician\'s wallet')}` : ''}`
    sendPage(ctx, 'Verification with a wallet', html`${body}<p><a href="/web/office">Back to the office</a></p>`)
  })

  /** What the page's script polls: just the state. */
  router.get('/web/office/requests/:id/state', async (ctx) => {
    const hospital = institutionOf(ctx)
    const view = await deps.oid4vp.get(hospital, ctx.params.id)
    if (!view) throw new AppError('not-found', `no presentation request ${ctx.params.id} of this hospital`)
    ctx.set('Cache-Control', 'no-store')
    ctx.body = { status: view.status }
    ctx.type = 'application/json'
  })

  router.post('/web/office/verify', async (ctx) => {
    const hospital = institutionOf(ctx)
    const form = parseOrThrow(PasteForm, formOf(ctx))
    const input = pasted(form.presentation, 'presentation')
    const kind = kindOf(input)
    if (form.receipt) {
      const credential = parseOrThrow(SignedCredentialSchema, input, { prefix: 'presentation' })
      const receipt = parseOrThrow(SignedCredentialSchema, pasted(form.receipt, 'receipt'), { prefix: 'receipt' })
      const outcome = await deps.acceptances.accept(hospital, { credential: credential as SignedInput, receipt: receipt as SignedInput })
      sendPage(ctx, 'Accept on a receipt', html`${outcome.reliedOn ? relianceNote(outcome.reliedOn, await verifierName(deps, outcome.reliedOn.verifier)) : ''}${checkList(outcome.checks, outcome.verified)}<p><a href="/web/office">Back to the office</a></p>`)
      return
    }
    if (!kind.presentation) {
      const credential = parseOrThrow(SignedCredentialSchema, input, { prefix: 'presentation' })
      const result = await verifyCredential(credential as SignedInput, deps.verifyContext)
      await recordVerification(ctx, deps, 'credential.verified', result.verified, failures(result.checks), { id: result.credential?.id, signedBy: result.signedBy })
      sendPage(ctx, 'Credential checked', html`<p class="hint">A credential on its own proves who issued it, not who holds it: to rely on it, verify the clinician's presentation.</p>${checkList(result.checks, result.verified)}<p><a href="/web/office">Back to the office</a></p>`)
      return
    }
    const verifiablePresentation = parseOrThrow(SignedPresentationSchema, input, { prefix: 'presentation' }) as SignedInput
    const binding = { challenge: form.challenge, domain: form.domain }
    if (form.file === 'on') {
      const report = await deps.credentialingFiles.create(hospital, { verifiablePresentation, ...binding, purpose: form.purpose as VerificationPurpose, elements: Object.keys(CREDENTIAL_ELEMENTS) })
      sendPage(ctx, 'Credentialing file', html`${checkList(report.presentation.checks, report.presentation.verified)}${fileReport(report)}<p><a href="/web/office">Back to the office</a></p>`)
      return
    }
    if (kind.holdsReceipt) {
      const outcome = await deps.acceptances.acceptPresentation(hospital, { verifiablePresentation, ...binding }, deps.challenges)
      sendPage(ctx, 'Accept on a receipt', html`${outcome.reliedOn ? relianceNote(outcome.reliedOn, await verifierName(deps, outcome.reliedOn.verifier)) : ''}${checkList(outcome.checks, outcome.verified)}<p><a href="/web/office">Back to the office</a></p>`)
      return
    }
    const { verification, verdict, receipts } = await deps.verifications.verify(hospital, { verifiablePresentation, ...binding, purpose: form.purpose as VerificationPurpose })
    const settled = verdict.credentials.filter((c) => c.reliedOn)
    sendPage(ctx, 'Presentation checked', html`${settled.map((c) => relianceNote(c.reliedOn!))}${checkList(verdict.checks, verdict.verified)}
<p>Recorded as verification <code>${verification.id}</code>${receipts.length ? `; ${receipts.length} acceptance receipt(s) signed` : ''}.</p>
<p><a href="/web/office">Back to the office</a></p>`)
  })
}
