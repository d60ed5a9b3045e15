import type { Check } from '../../verification/checks.js'
import { html, type SafeHtml } from '../html.js'
import { age, plainCheck } from '../plain-words.js'

/** Every check as pass or fail, in plain words with its reason; the overall verdict first. */
export function checkList(checks: Check[], verified: boolean): SafeHtml {
  return html`<p class="${verified ? 'ok' : 'bad'} verdict" role="status">${verified ? 'Verified: every check passed.' : `Not verified: ${checks.filter((c) => !c.ok).length} check(s) failed.`}</p>
<ul class="checks" aria-label="Checks">
${checks.map((c) => {
  const p = plainCheck(c)
  return html`<li class="${p.ok ? 'pass' : 'fail'}"><span class="verdict">${p.ok ? 'Pass' : 'Fail'}</span>: ${p.label}<br><span class="hint">${p.detail} <code>(${c.check})</code></span></li>`
})}
</ul>`
}

/** "Settled on another hospital's receipt": whose, when it was verified, and how old that is. */
export function relianceNote(reliedOn: { verifier: string; verifiedAt: string; receipt?: string; purpose?: string }, verifierName?: string): SafeHtml {
  return html`<p class="info">Settled on the acceptance receipt of <strong>${verifierName ?? reliedOn.verifier}</strong>
${verifierName ? html`(<code>${reliedOn.verifier}</code>)` : ''}: its primary-source verification of
${new Date(reliedOn.verifiedAt).toUTCString()} (${age(reliedOn.verifiedAt)}) was relied on; the signature, status, expiry
and issuer trust were checked live just now.</p>`
}

export function fieldErrors(errors: unknown): SafeHtml {
  if (!Array.isArray(errors) || errors.length === 0) return html``
  return html`<ul>${errors.map((e: { field?: string; message?: string; fhirPath?: string; detail?: string }) => html`<li><code>${e.field ?? e.fhirPath ?? ''}</code>: ${e.message ?? e.detail ?? ''}</li>`)}</ul>`
}
