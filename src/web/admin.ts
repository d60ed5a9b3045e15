import type Router from '@koa/router'
import { z } from 'zod'
import { verifyEventProof } from '../audit/index.js'
import { DID, JURISDICTION } from '../credentials/identifiers.js'
import { INSTITUTION_KINDS } from '../institutions/institution.entity.js'
import { parseOrThrow } from '../validation.js'
import { formOf, pageContext, sendPage, seeOther, type PageDeps } from './context.js'
import { html } from './html.js'
import { auditContext } from '../api/audit-context.js'
import { csrfField } from './layout.js'

const AUDIT_PAGE = 30

const list = (s: string | undefined) => (s ?? '').split(',').map((x) => x.trim()).filter(Boolean)

const IssuerForm = z.strictObject({
  did: z.string().regex(DID, 'must be a DID'),
  credentialTypes: z.array(z.string().regex(/^[A-Za-z][A-Za-z0-9]{0,99}$/, 'must be a credential type name')).min(1, 'name at least one credential type').max(20),
  jurisdictions: z.array(z.string().regex(JURISDICTION, 'must be an ISO 3166-2 code such as US-TX')).max(100),
})
const InstitutionForm = z.strictObject({
  name: z.string().trim().min(1, 'must not be empty').max(200),
  kind: z.enum(INSTITUTION_KINDS as [string, ...string[]]),
  jurisdiction: z.string().regex(JURISDICTION, 'must be an ISO 3166-2 code such as US-TX').optional(),
})

export function adminRoutes(router: Router, deps: PageDeps): void {
  router.get('/web/admin', async (ctx) => {
    const page = pageContext(ctx)
    const last = await deps.audit.lastSeq()
    // A page of 30 events ending at `?upTo=` (default: the newest), newest first.
    const upTo = Math.min(parseOrThrow(z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(), ctx.query.upTo, { prefix: 'upTo' }) ?? last, last)
    const [issuers, verifiers, institutions, events] = await Promise.all([
      deps.trust.listIssuers(),
      deps.trust.listVerifiers(),
      deps.institutions.list(),
      deps.audit.list({ kind: 'admin' }, { after: Math.max(upTo - AUDIT_PAGE, 0), limit: AUDIT_PAGE }),
    ])
    const names = new Map(institutions.map((i) => [i.did, i.name]))
    const latest = events.filter((e) => e.seq <= upTo).reverse()
    const older = upTo - AUDIT_PAGE
    sendPage(ctx, 'Consortium administration', html`
<section aria-labelledby="iss-h"><h2 id="iss-h">Trusted issuers</h2>
<table><thead><tr><th scope="col">Issuer</th><th scope="col">Credential types</th><th scope="col">Jurisdictions</th><th scope="col">Action</th></tr></thead><tbody>
${issuers.map((i) => html`<tr><td>${names.get(i.did) ?? ''}<br><code>${i.did}</code></td><td>${i.credentialTypes.join(', ')}</td><td>${i.jurisdictions.join(', ') || 'any'}</td>
<td><form method="post" action="/web/admin/issuers/remove">${csrfField(page)}<input type="hidden" name="did" value="${i.did}"><button type="submit" class="secondary">Remove<span class="skip"> ${i.did}</span></button></form></td></tr>`)}
</tbody></table>
<form method="post" action="/web/admin/issuers">${csrfField(page)}<fieldset><legend>Trust an issuer</legend>
<label for="i-did">DID</label><input id="i-did" name="did" type="text" required>
<label for="i-types">Credential types <span class="hint">comma-separated</span></label><input id="i-types" name="credentialTypes" type="text" value="ClinicianLicenseCredential" required>
<label for="i-jur">Jurisdictions <span class="hint">comma-separated; empty for any</span></label><input id="i-jur" name="jurisdictions" type="text">
<button type="submit">Trust issuer</button></fieldset></form></section>
<section aria-labelledby="ver-h"><h2 id="ver-h">Trusted verifiers <span class="hint">whose acceptance receipts others may rely on</span></h2>
<table><thead><tr><th scope="col">Verifier</th><th scope="col">Since</th><th scope="col">Action</th></tr></thead><tbody>
${verifiers.map((v) => html`<tr><td>${names.get(v.did) ?? ''}<br><code>${v.did}</code></td><td>${v.createdAt.slice(0, 10)}</td>
<td><form method="post" action="/web/admin/verifiers/remove">${csrfField(page)}<input type="hidden" name="did" value="${v.did}"><button type="submit" class="secondary">Remove<span class="skip"> ${v.did}</span></button></form></td></tr>`)}
</tbody></table>
<form method="post" action="/web/admin/verifiers">${csrfField(page)}<label for="v-did">Verifier DID</label><input id="v-did" name="did" type="text" required><button type="submit">Trust verifier</button></form></section>
<section aria-labelledby="inst-h"><h2 id="inst-h">Institutions</h2>
<table><thead><tr><th scope="col">Name</th><th scope="col">Kind</th><th scope="col">Jurisdiction</th><th scope="col">DID</th><th scope="col">API key</th></tr></thead><tbody>
${institutions.map((i) => html`<tr><td>${i.name}</td><td>${i.kind}</td><td>${i.jurisdiction ?? ''}</td><td><code>${i.did}</code></td>
<td><form method="post" action="/web/admin/institutions/key">${csrfField(page)}<input type="hidden" name="id" value="${i.id}"><button type="submit" class="secondary">Replace<span class="skip"> the API key of ${i.name}</span></button></form></td></tr>`)}
</tbody></table>
<form method="post" action="/web/admin/institutions">${csrfField(page)}<fieldset><legend>Register an institution</legend>
<label for="n-name">Name</label><input id="n-name" name="name" type="text" required>
<label for="n-kind">Kind</label><select id="n-kind" name="kind">${INSTITUTION_KINDS.map((k) => html`<option>${k}</option>`)}</select>
<label for="n-jur">Jurisdiction <span class="hint">optional, e.g. US-TX</span></label><input id="n-jur" name="jurisdiction" type="text">
<button type="submit">Register</button></fieldset></form></section>
<section aria-labelledby="aud-h"><h2 id="aud-h">Audit trail <span class="hint">events ${Math.max(upTo - AUDIT_PAGE + 1, 1)}–${upTo} of ${last}, newest first</span></h2>
<table><thead><tr><th scope="col">#</th><th scope="col">When</th><th scope="col">What</th><th scope="col">Outcome</th><th scope="col">On chain</th></tr></thead><tbody>
${latest.map((e) => html`<tr><td>${e.seq}</td><td>${e.time}</td><td>${e.action}${e.subject ? html`<br><span class="hint">${e.subject.type} ${e.subject.id}</span>` : ''}</td><td>${e.outcome}</td>
<td><a class="button secondary" href="/web/admin/audit/${e.seq}">Verify<span class="skip"> event ${e.seq}</span></a></td></tr>`)}
</tbody></table>
${older > 0 ? html`<p><a href="/web/admin?upTo=${older}#aud-h">Older events</a></p>` : ''}</section>`)
  })

  router.get('/web/admin/audit/:seq', async (ctx) => {
    const { seq } = parseOrThrow(z.strictObject({ seq: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER) }), ctx.params)
    const proof = await deps.audit.proof({ kind: 'admin' }, seq)
    const verdict = await verifyEventProof(proof, deps.web.chainProvider)
    const a = proof.anchor
    sendPage(ctx, `Audit event ${seq}`, html`<p>${proof.event.action} (${proof.event.outcome}) at ${proof.event.time}.</p>
<p class="${verdict.ok ? 'ok' : 'bad'} verdict" role="status">${verdict.ok ? `Verified on chain: the event is in batch ${a!.fromSeq}–${a!.toSeq}, whose Merkle root is anchored in transaction ${verdict.txHash} (block ${verdict.blockNumber}).` : `Not verified on chain: ${verdict.detail}`}</p>
${a ? html`<table><tbody><tr><th scope="row">Root</th><td><code>${a.root}</code></td></tr><tr><th scope="row">Anchor DID</th><td><code>${a.did ?? 'pending'}</code></td></tr>
<tr><th scope="row">Registry</th><td><code>${a.registry}</code> on chain ${a.chainId}</td></tr><tr><th scope="row">Transaction</th><td><code>${a.txHash ?? 'pending'}</code></td></tr></tbody></table>` : ''}
<p>Event hash <code>${proof.event.hash}</code>.</p><p><a href="/web/admin">Back</a></p>`)
  })

  router.post('/web/admin/issuers', async (ctx) => {
    const f = formOf(ctx)
    const input = parseOrThrow(IssuerForm, { did: f.did?.trim(), credentialTypes: list(f.credentialTypes), jurisdictions: list(f.jurisdictions) })
    await deps.trust.addIssuer(input, auditContext(ctx))
    seeOther(ctx, '/web/admin')
  })
  router.post('/web/admin/issuers/remove', async (ctx) => {
    const did = formOf(ctx).did ?? ''
    await deps.trust.removeIssuer(did, auditContext(ctx))
    seeOther(ctx, '/web/admin')
  })
  router.post('/web/admin/verifiers', async (ctx) => {
    const { did } = parseOrThrow(z.strictObject({ did: z.string().regex(DID, 'must be a DID') }), { did: formOf(ctx).did?.trim() })
    await deps.trust.addVerifier(did, auditContext(ctx))
    seeOther(ctx, '/web/admin')
  })
  router.post('/web/admin/verifiers/remove', async (ctx) => {
    const did = formOf(ctx).did ?? ''
    await deps.trust.removeVerifier(did, auditContext(ctx))
    seeOther(ctx, '/web/admin')
  })
  /** A leaked key: the old one and its page sessions stop at once; the new one is shown this once. */
  router.post('/web/admin/institutions/key', async (ctx) => {
    const id = parseOrThrow(z.uuid('must be an institution id'), formOf(ctx).id, { prefix: 'id' })
    const { institution, apiKey } = await deps.institutions.replaceApiKey(id, auditContext(ctx))
    sendPage(ctx, 'API key replaced', html`<p>The old API key of ${institution.name} (${institution.kind}) no longer works, and every page session it opened has ended.</p>
<p class="info">Its new API key, shown this once (medcred keeps only its hash): <code class="mono">${apiKey}</code></p><p><a href="/web/admin">Back</a></p>`)
  })

  router.post('/web/admin/institutions', async (ctx) => {
    const f = formOf(ctx)
    const input = parseOrThrow(InstitutionForm, { name: f.name, kind: f.kind, ...(f.jurisdiction?.trim() ? { jurisdiction: f.jurisdiction.trim() } : {}) }) as z.infer<typeof InstitutionForm> & { kind: 'board' }
    const { institution, apiKey } = await deps.institutions.create(input, auditContext(ctx))
    sendPage(ctx, 'Institution registered', html`<p>${institution.name} (${institution.kind}) has the DID <code>${institution.did}</code>, anchored in transaction <code>${institution.anchorTx}</code>.</p>
<p class="info">Its API key, shown this once (medcred keeps only its hash): <code class="mono">${apiKey}</code></p><p><a href="/web/admin">Back</a></p>`, 201)
  })
}
