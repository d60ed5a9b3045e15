import type { Check } from '../verification/checks.js'

/** What each check medcred runs means, in words a credentialing coordinator uses. */
const WORDS: Record<string, string> = {
  proof: 'Signed by the issuer',
  issuerDid: "Issuer's identity found on the chain",
  format: 'Readable credential format',
  integrity: 'Not altered since it was signed',
  dates: 'Within its valid dates (not expired)',
  schema: 'Has every required field (NPI, license number, …)',
  trustedIssuer: 'Issuer is trusted by the consortium for this credential',
  status: 'Not revoked or suspended (live check with the issuer)',
  presentationProof: "Signed by the clinician's wallet",
  holderDid: "Clinician's identity resolved",
  challenge: 'Answers this hospital\'s one-time challenge',
  domain: 'Meant for this hospital',
  holderBinding: 'The credential belongs to the person presenting it',
  receiptProof: "The other hospital's receipt is genuinely signed",
  receiptSignerDid: "The other hospital's identity found on the chain",
  receiptFormat: 'The receipt is an acceptance receipt',
  receiptVerifier: 'The other hospital is a verifier whose receipts count',
  receiptSubject: 'The receipt is for this very credential',
  receiptAge: "The receipt is recent enough for this hospital's policy",
  receiptIntegrity: 'The receipt was not altered',
  receipt: 'One acceptance receipt alongside',
  state: 'The wallet answered this very request',
  credentialTypes: 'The requested credential types were presented',
  vpToken: 'The wallet sent a presentation',
}

/** One check in plain words: what it means, and its outcome with the reason. */
export function plainCheck(check: Check): { label: string; ok: boolean; detail: string } {
  const m = /^credentials\[(\d+)\]\.(.+)$/.exec(check.check)
  const name = m ? m[2] : check.check
  const words = WORDS[name] ?? name
  return {
    label: m ? `Credential ${Number(m[1]) + 1}: ${words}` : words,
    ok: check.ok,
    detail: check.detail ?? (check.ok ? 'passed' : 'failed'),
  }
}

/** "3 days ago", "5 hours ago": how old a verification is. */
export function age(iso: string, now = Date.now()): string {
  const ms = now - Date.parse(iso)
  if (!Number.isFinite(ms)) return 'at an unknown time'
  const minutes = Math.round(ms / 60_000)
  if (minutes < 60) return `${Math.max(minutes, 0)} minute${minutes === 1 ? '' : 's'} ago`
  const hours = Math.round(minutes / 60)
  if (hours < 48) return `${hours} hour${hours === 1 ? '' : 's'} ago`
  const days = Math.round(hours / 24)
  return `${days} days ago`
}
