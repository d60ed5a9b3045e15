import { spawn } from 'node:child_process'
import type { NewAuditEvent } from '../../src/audit/types.js'
import { verifyAuditTrail, type TrailReport } from '../../src/audit/verify-trail.js'
import { AuditAnchorEntity, type AuditAnchorRow } from '../../src/audit/audit-anchor.entity.js'
import type { TestService } from './service.js'

/** A plausible event; `i` makes it distinct. */
export function auditEvent(i: number, over: Partial<NewAuditEvent> = {}): NewAuditEvent {
  return {
    actor: { type: 'institution', id: 'inst-a', did: 'did:ethr:0x7a69:0x0000000000000000000000000000000000000001' },
    action: 'credential.issued',
    subject: { type: 'credential', id: `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, issuerInstitutionId: 'inst-a' },
    outcome: 'success',
    requestId: `req-${i}`,
    detail: { credentialType: 'ClinicianLicenseCredential' },
    ...over,
  }
}

/** Records `n` events one after the other. */
export async function recordEvents(svc: TestService, n: number, over: Partial<NewAuditEvent> = {}): Promise<void> {
  for (let i = 0; i < n; i++) await svc.audit.record(auditEvent(i, over))
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

export async function batches(svc: TestService): Promise<AuditAnchorRow[]> {
  return svc.db.getRepository(AuditAnchorEntity).find({ order: { fromSeq: 'ASC' } })
}

/** The checker, in process, against the service's database and chain. */
export function checkTrail(svc: TestService): Promise<TrailReport> {
  return verifyAuditTrail({ manager: svc.db.manager, provider: svc.chain.provider, registry: svc.chain.registry })
}

/** Runs `npm run audit:verify` as its own process, configured like the service. */
export function runAuditVerifyCli(svc: TestService, args: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string> = { ...process.env, DATA_DIR: svc.dataDir } as Record<string, string>
    if (svc.database.url) env.DATABASE_URL = svc.database.url
    else delete env.DATABASE_URL
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/audit-verify.ts', ...args], { env, cwd: process.cwd() })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.once('error', reject)
    child.once('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }))
  })
}
