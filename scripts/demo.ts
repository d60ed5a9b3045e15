/**
 * `npm run demo`: walks medcred's core story against a running server (`npm start` in another terminal).
 * A board and two hospitals join, the consortium trusts the board and hospital A; the board issues a license
 * to a clinician's did:key; hospital A verifies the clinician's presentation against its own challenge and
 * signs a receipt; hospital B accepts the license on that receipt; the board revokes it; B's next
 * acceptance fails and both hospitals have the notice. It ends with the page URL and a one-time sign-in
 * link per demo institution (and the admin), to click through the same story in the browser.
 *
 * MEDCRED_URL (default http://localhost:3000); ADMIN_TOKEN, else read from DATA_DIR/secrets.json (default ./data).
 */
import fs from 'node:fs'
import path from 'node:path'
import { HolderWallet } from '../src/holder/wallet.js'

const base = (process.env.MEDCRED_URL ?? 'http://localhost:3000').replace(/\/$/, '')
const adminToken =
  process.env.ADMIN_TOKEN ??
  JSON.parse(fs.readFileSync(path.join(process.env.DATA_DIR ?? './data', 'secrets.json'), 'utf8')).adminToken

async function call(method: string, p: string, body?: unknown, token?: string): Promise<any> {
  const res = await fetch(base + p, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const json = await res.json()
  if (!res.ok) throw new Error(`${method} ${p} → ${res.status}: ${JSON.stringify(json, null, 2)}`)
  return json
}

const step = (n: number, text: string) => console.log(`\n${n}. ${text}`)

step(1, 'The consortium admin registers a board and two hospitals (DIDs anchored on chain)')
const board = await call('POST', '/institutions', { name: 'Texas Medical Board', kind: 'board', jurisdiction: 'US-TX' }, adminToken)
const hospital = await call('POST', '/institutions', { name: 'Mercy General Hospital', kind: 'hospital' }, adminToken)
const hospitalB = await call('POST', '/institutions', { name: "St. Luke's Hospital", kind: 'hospital' }, adminToken)
console.log(`   board      ${board.did}\n              anchored in tx ${board.anchorTx}`)
console.log(`   hospital A ${hospital.did}`)
console.log(`   hospital B ${hospitalB.did}`)
await call('POST', '/trust/issuers', { did: board.did, credentialTypes: ['ClinicianLicenseCredential'], jurisdictions: ['US-TX'] }, adminToken)
await call('POST', '/trust/verifiers', { did: hospital.did }, adminToken)
console.log('   trusted: the board for licenses in US-TX; hospital A as a verifier whose receipts count')

step(2, "The clinician's wallet makes a did:key")
const clinician = await HolderWallet.create()
console.log(`   clinician ${clinician.did}`)

step(3, 'The board issues a ClinicianLicenseCredential')
const { verifiableCredential: license } = await call(
  'POST',
  '/credentials/issue',
  {
    credential: {
      '@context': ['https://www.w3.org/2018/credentials/v1'],
      issuer: board.did,
      type: ['VerifiableCredential', 'ClinicianLicenseCredential'],
      expirationDate: new Date(Date.now() + 2 * 365 * 86400_000).toISOString(),
      credentialSubject: {
        id: clinician.did,
        name: 'Dr. Ada Rivera',
        npi: '1234567893',
        licenseNumber: 'Q-48211',
        licenseType: 'MD',
        jurisdiction: 'US-TX',
        status: 'active',
      },
    },
  },
  board.apiKey,
)
console.log(`   ${license.id}, expires ${license.expirationDate}`)

step(4, 'Hospital A asks the service for a challenge; the clinician presents the license bound to it')
const binding = await call('POST', '/verifications/challenges', {}, hospital.apiKey)
const presentation = await clinician.present([license], binding)

step(5, 'Hospital A verifies in full and signs an acceptance receipt')
const result = await call('POST', '/verifications', { verifiablePresentation: presentation, challenge: binding.challenge, domain: binding.domain, purpose: 'onboarding' }, hospital.apiKey)
for (const c of result.checks) console.log(`   ${c.ok ? 'ok  ' : 'FAIL'} ${c.check}${c.detail ? `: ${c.detail}` : ''}`)
const receipt = result.receipts[0]
console.log(`\n   verified: ${result.verified}; receipt ${receipt.id}`)

step(6, 'Replaying the same presentation fails: the challenge is single use')
const replay = await fetch(`${base}/verifications`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization: `Bearer ${hospital.apiKey}` },
  body: JSON.stringify({ verifiablePresentation: presentation, challenge: binding.challenge, domain: binding.domain, purpose: 'onboarding' }),
})
console.log(`   ${replay.status}: ${(await replay.json()).detail}`)

step(7, "Hospital B accepts the license on A's receipt: only status, expiry and issuer trust are checked live")
const accepted = await call('POST', '/acceptances', { verifiableCredential: license, receipt }, hospitalB.apiKey)
console.log(`   ${accepted.note}`)

step(8, 'The board revokes the license; B\'s next acceptance fails, and both hospitals have the notice')
await call('POST', '/credentials/status', { credentialId: license.id, credentialStatus: [{ type: 'StatusList2021Entry', status: 'revoked' }], reason: 'disciplinary-action' }, board.apiKey)
const refused = await fetch(`${base}/acceptances`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization: `Bearer ${hospitalB.apiKey}` },
  body: JSON.stringify({ verifiableCredential: license, receipt }),
})
console.log(`   ${refused.status}: ${(await refused.json()).detail}`)
for (const [name, h] of [['A', hospital], ['B', hospitalB]] as const) {
  const notices = await call('GET', '/notifications', undefined, h.apiKey)
  console.log(`   hospital ${name} notified: ${notices.items[0]?.event} ${notices.items[0]?.data?.credentialId}`)
}

step(9, 'Every step is in the audit trail')
const events = await call('GET', '/audit/events?limit=100', undefined, adminToken)
for (const e of events.events.slice(-8)) console.log(`   #${e.seq} ${e.action} ${e.outcome}`)

step(10, 'Click through the same story in the browser')
console.log(`   the page: ${base}/`)
console.log('   one-time sign-in links (each works once, for a few minutes):')
for (const [name, token] of [['Texas Medical Board', board.apiKey], ['Mercy General Hospital', hospital.apiKey], ["St. Luke's Hospital", hospitalB.apiKey], ['consortium admin', adminToken]] as const) {
  const link = await call('POST', '/sign-in-links', {}, token)
  console.log(`   ${name.padEnd(24)} ${link.url}`)
}
