/**
 * `npm run demo`: walks medcred's core story against a running server (`npm start` in another terminal).
 * A board and a hospital join, the board issues a license to a clinician's did:key, the clinician presents
 * it bound to the hospital's challenge, the hospital verifies it.
 *
 * MEDCRED_URL (default http://localhost:3000); ADMIN_TOKEN, else read from DATA_DIR/secrets.json (default ./data).
 */
import { randomUUID } from 'node:crypto'
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

step(1, 'The consortium admin registers the Texas Medical Board and Mercy General (DIDs anchored on chain)')
const board = await call('POST', '/institutions', { name: 'Texas Medical Board', kind: 'board', jurisdiction: 'US-TX' }, adminToken)
const hospital = await call('POST', '/institutions', { name: 'Mercy General Hospital', kind: 'hospital' }, adminToken)
console.log(`   board    ${board.did}\n            anchored in tx ${board.anchorTx}`)
console.log(`   hospital ${hospital.did}`)

step(2, "The clinician's wallet makes a did:key")
const clinician = await HolderWallet.create()
console.log(`   clinician ${clinician.did}`)

step(3, 'The board issues a ClinicianLicenseCredential')
const { verifiableCredential: license } = await call(
  'POST',
  '/credentials/issue',
  {
    credential: {
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

step(4, "The clinician presents it, bound to the hospital's challenge and domain")
const binding = { challenge: randomUUID(), domain: 'mercy-general.example' }
const presentation = await clinician.present([license], binding)

step(5, 'The hospital verifies the presentation and the license inside it')
const result = await call('POST', '/presentations/verify', { verifiablePresentation: presentation, options: binding })
for (const c of result.checks) console.log(`   ${c.ok ? 'ok  ' : 'FAIL'} ${c.check}${c.detail ? `: ${c.detail}` : ''}`)
console.log(`\n   verified: ${result.verified}`)

step(6, 'A replay to another verifier (another domain) fails')
const replay = await fetch(`${base}/presentations/verify`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ verifiablePresentation: presentation, options: { ...binding, domain: 'other.example' } }),
})
console.log(`   ${replay.status}: ${(await replay.json()).detail}`)
