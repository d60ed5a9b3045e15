import fs from 'node:fs'
import { CliError, EXIT } from './client.js'

export type VerifyInput =
  | { kind: 'credential'; body: { verifiableCredential: unknown } }
  | { kind: 'presentation'; body: { verifiablePresentation: unknown; options: { challenge: string; domain: string } } }

function jwtPayload(jwt: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(Buffer.from(jwt.split('~')[0].split('.')[1] ?? '', 'base64url').toString('utf8'))
  } catch {
    return undefined
  }
}

/**
 * What FILE holds: a credential (VC-JWT string, its JSON form with `proof.jwt`, or an SD-JWT) or a
 * presentation (VP-JWT, its JSON form, or an SD-JWT with a key-binding JWT). A presentation needs the
 * challenge and domain it was made for.
 */
export function readVerifyInput(file: string, opts: { challenge?: string; domain?: string }): VerifyInput {
  const raw = fs.readFileSync(file, 'utf8').trim()
  let value: unknown = raw
  if (raw.startsWith('{') || raw.startsWith('"')) {
    try {
      value = JSON.parse(raw)
    } catch (e) {
      throw new CliError(`${file} is not JSON: ${(e as Error).message}`, EXIT.usage)
    }
  }
  if (value && typeof value === 'object' && 'verifiableCredential' in value && !('proof' in value)) value = (value as { verifiableCredential: unknown }).verifiableCredential
  const isPresentation =
    typeof value === 'string'
      ? value.includes('~')
        ? !value.endsWith('~') // an SD-JWT ending in a KB-JWT is a presentation
        : Boolean(jwtPayload(value)?.vp)
      : Array.isArray((value as { type?: unknown })?.type) && ((value as { type: string[] }).type.includes('VerifiablePresentation'))
  if (!isPresentation) return { kind: 'credential', body: { verifiableCredential: value } }
  if (!opts.challenge || !opts.domain) throw new CliError('a presentation is verified against its challenge and domain: pass --challenge and --domain', EXIT.usage)
  return { kind: 'presentation', body: { verifiablePresentation: value, options: { challenge: opts.challenge, domain: opts.domain } } }
}

/** One ✓/✗ line per check, with its reason. */
export function checkLines(checks: { check: string; ok: boolean; detail?: string }[]): string[] {
  return checks.map((c) => `${c.ok ? '✓' : '✗'} ${c.check}${c.detail ? `: ${c.detail}` : ''}`)
}
