import type Router from '@koa/router'
import type { VerifiableCredential } from '@veramo/core'
import type { Context } from 'koa'
import { z } from 'zod'
import { auditContext } from '../api/audit-context.js'
import { UnsignedCredentialSchema } from '../credentials/w3c.js'
import type { InstitutionRow } from '../institutions/institution.entity.js'
import { STATUS_REASONS, type StatusReason, type StatusRequest } from '../status/service.js'
import { parseOrThrow } from '../validation.js'
import { formOf, sendPage, seeOther, type PageDeps } from './context.js'
import { institutionOf } from '../api/authorization.js'
import { html } from './html.js'
import { csrfField, type PageContext } from './layout.js'
import { pageContext } from './context.js'
import { qrCode } from './qr.js'
import { withIssueDefaults } from '../issuance/defaults.js'

const LICENSE_TYPES = ['MD', 'DO', 'RN', 'NP', 'PA', 'DDS', 'PharmD']

/** The license form's fields, as the API's issue body: the same schema checks them, then the same capability. */
function licenseFromForm(f: Record<string, string>, board: InstitutionRow) {
  const date = (f.expirationDate ?? '').trim()
  // A date input's day ends the license; a day no calendar has (2026-13-01, 2026-02-30) is left as typed for the schema to refuse.
  const endOfDay = /^\d{4}-\d{2}-\d{2}$/.test(date) ? new Date(`${date}T23:59:59Z`) : undefined
  const expirationDate = endOfDay && !Number.isNaN(endOfDay.getTime()) && endOfDay.toISOString().startsWith(date) ? endOfDay.toISOString() : date || undefined
  const subject = (f.subject ?? '').trim()
  const credential = {
    type: ['VerifiableCredential', 'ClinicianLicenseCredential'],
    ...(expirationDate ? { expirationDate } : {}),
    credentialSubject: {
      ...(subject ? { id: subject } : {}),
      name: f.name ?? '',
      npi: (f.npi ?? '').trim(),
      licenseNumber: f.licenseNumber ?? '',
      licenseType: f.licenseType ?? '',
      jurisdiction: (f.jurisdiction ?? board.jurisdiction ?? '').trim(),
      status: f.status ?? 'active',
    },
  }
  return { credential: parseOrThrow(UnsignedCredentialSchema, credential, { prefix: 'credential' }), offer: !subject, txCode: f.txCode === 'on' }
}

const StatusForm = z.strictObject({
  _csrf: z.string(),
  credentialId: z.string().min(1).max(300),
  action: z.enum(['revoke', 'suspend', 'reinstate']),
  reason: z.enum(STATUS_REASONS),
})

const ACTION_STATE: Record<z.infer<typeof StatusForm>['action'], StatusRequest['status']> = { revoke: 'revoked', suspend: 'suspended', reinstate: 'active' }

function issueForm(page: PageContext, board: InstitutionRow) {
  return html`<section aria-labelledby="issue-h"><h2 id="issue-h">Issue a license</h2>
<form method="post" action="/web/board/issue">
${csrfField(page)}
<fieldset><legend>Clinician</legend>
<label for="f-name">Full name</label><input id="f-name" name="name" type="text" required autocomplete="off">
<label for="f-npi">NPI <span class="hint">10 digits; the last is a check digit</span></label><input id="f-npi" name="npi" type="text" inputmode="numeric" required pattern="[0-9]{10}">
<label for="f-subject">Clinician's wallet DID <span class="hint">leave empty to show a QR code the clinician scans with their wallet instead</span></label><input id="f-subject" name="subject" type="text" autocomplete="off">
</fieldset>
<fieldset><legend>License</legend>
<label for="f-number">License number</label><input id="f-number" name="licenseNumber" type="text" required>
<label for="f-type">License type</label><select id="f-type" name="licenseType">${LICENSE_TYPES.map((t) => html`<option>${t}</option>`)}</select>
<label for="f-jur">Jurisdiction <span class="hint">ISO 3166-2, e.g. US-TX</span></label><input id="f-jur" name="jurisdiction" type="text" value="${board.jurisdiction ?? ''}" required>
<label for="f-status">Standing</label><select id="f-status" name="status"><option>active</option><option>probation</option><option>restricted</option></select>
<label for="f-exp">Expires on</label><input id="f-exp" name="expirationDate" type="date" required>
<label class="inline"><input type="checkbox" name="txCode"> Protect the wallet offer with a 6-digit code</label>
</fieldset>
<button type="submit">Issue license</button>
</form></section>`
}

export function boardRoutes(router: Router, deps: PageDeps): void {
  router.get('/web/board', async (ctx) => {
    const board = institutionOf(ctx)
    const q = typeof ctx.query.q === 'string' ? ctx.query.q.slice(0, 200) : ''
    const found = await deps.issuance.search(board, q)
    const page = pageContext(ctx)
    sendPage(ctx, `${board.name}: licenses`, html`${issueForm(page, board)}
<section aria-labelledby="search-h"><h2 id="search-h">Issued credentials</h2>
<form method="get" action="/web/board" role="search"><label for="q">Search by name, NPI, license number, DID or id</label>
<input id="q" name="q" type="search" value="${q}"><button type="submit">Search</button></form>
<table><caption>${found.length} credential(s)${q ? ` matching “${q}”` : ''}, newest first</caption>
<thead><tr><th scope="col">Clinician</th><th scope="col">NPI</th><th scope="col">Type</th><th scope="col">Issued</th><th scope="col">Credential</th></tr></thead>
<tbody>${found.map((c) => html`<tr><td>${String(c.subject.name ?? '')}</td><td>${String(c.subject.npi ?? '')}</td><td>${c.type}</td><td>${c.issuedAt.slice(0, 10)}</td>
<td><a href="/web/board/credential?id=${encodeURIComponent(c.id)}">Status and history<span class="skip"> of ${c.id}</span></a></td></tr>`)}</tbody></table>
</section>`)
  })

  router.post('/web/board/issue', async (ctx) => {
    const board = institutionOf(ctx)
    const { credential, offer, txCode } = licenseFromForm(formOf(ctx), board)
    if (offer) {
      const created = await deps.oid4vci.createOffer(board, { credential, txCode }, auditContext(ctx).actor)
      sendPage(ctx, 'Show this to the clinician', html`<p>The license is ready. The clinician scans this code with their wallet, which then receives the license signed by ${board.name}.</p>
${await qrCode(created.offer, 'QR code of the credential offer for the clinician\'s wallet')}
<p>Or open this link on the clinician's device: <code class="mono">${created.offer}</code></p>
${created.txCode ? html`<p class="info">Tell the clinician this code separately (not with the QR code): <strong class="mono">${created.txCode}</strong></p>` : ''}
<p>The offer can be used once, until ${new Date(created.expiresAt).toUTCString()}.</p>
<p><a href="/web/board">Back to licenses</a></p>`, 201)
      return
    }
    // The default format (VC-JWT) answers with the credential object, never a bare SD-JWT string.
    // A convenience path: the page's license is VC 1.1, issued by the signed-in board (withIssueDefaults).
    const vc = (await deps.issuance.issue(board, withIssueDefaults(board.did, credential), auditContext(ctx))) as VerifiableCredential
    sendPage(ctx, 'License issued', html`<p class="ok verdict" role="status">Issued ${String(vc.id)} to ${String((vc.credentialSubject as { id?: string }).id)}.</p>
<p><a href="/web/board/credential?id=${encodeURIComponent(String(vc.id))}">Status and history of this license</a> · <a href="/web/board">Back to licenses</a></p>
<details><summary>The signed credential (VC-JWT)</summary><p><code class="mono">${String(vc.proof.jwt)}</code></p></details>`, 201)
  })

  router.get('/web/board/credential', async (ctx) => {
    const board = institutionOf(ctx)
    const id = typeof ctx.query.id === 'string' ? ctx.query.id : ''
    const status = await deps.status.statusOf(board, id)
    const page = pageContext(ctx)
    sendPage(ctx, 'License status', html`<p>Credential <code>${id}</code> is <strong class="${status.status === 'active' ? 'ok' : 'bad'}">${status.status}</strong>.</p>
<section aria-labelledby="change-h"><h2 id="change-h">Change its status</h2>
<form method="post" action="/web/board/status">${csrfField(page)}
<input type="hidden" name="credentialId" value="${id}">
<fieldset><legend>Action</legend><div class="inline">
<label><input type="radio" name="action" value="suspend" checked> Suspend</label>
<label><input type="radio" name="action" value="reinstate"> Reinstate</label>
<label><input type="radio" name="action" value="revoke"> Revoke (final)</label></div></fieldset>
<label for="reason">Reason</label><select id="reason" name="reason">${STATUS_REASONS.map((r) => html`<option>${r}</option>`)}</select>
<button type="submit">Apply</button></form></section>
<section aria-labelledby="hist-h"><h2 id="hist-h">Status history</h2>
${status.history.length === 0 ? html`<p>No change since it was issued.</p>` : html`<table><thead><tr><th scope="col">When</th><th scope="col">List</th><th scope="col">From</th><th scope="col">To</th><th scope="col">Reason</th></tr></thead>
<tbody>${status.history.map((h) => html`<tr><td>${h.at}</td><td>${h.purpose}</td><td>${h.from}</td><td>${h.to}</td><td>${h.reason}</td></tr>`)}</tbody></table>`}
</section><p><a href="/web/board">Back to licenses</a></p>`)
  })

  router.post('/web/board/status', async (ctx: Context) => {
    const board = institutionOf(ctx)
    const form = parseOrThrow(StatusForm, formOf(ctx))
    const reason: StatusReason = form.action === 'reinstate' && form.reason === 'unspecified' ? 'reinstated' : form.reason
    await deps.status.change(board, form.credentialId, [{ type: 'StatusList2021Entry', status: ACTION_STATE[form.action] }], reason, auditContext(ctx))
    seeOther(ctx, `/web/board/credential?id=${encodeURIComponent(form.credentialId)}`)
  })
}
