import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { loadConfig } from '../../src/config.js'
import { silentLogger } from '../../src/log.js'
import { startMedcred, type Medcred } from '../../src/service.js'

/** One figure and the baseline it is compared with, both measured in the same run. */
export interface Row {
  name: string
  /** Mean milliseconds per operation. */
  ms: number
  baseline: string
  baselineMs: number
}

export interface BenchContext {
  medcred: Medcred
  url: string
  adminToken: string
  post(p: string, body: unknown, token?: string): Promise<{ status: number; body: any }>
}

/** Runs `fn` `warmup` times, then times `iterations` sequential runs; returns mean ms per run. */
export async function timeIt(fn: () => Promise<unknown>, iterations = 200, warmup = 20): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn()
  const start = process.hrtime.bigint()
  for (let i = 0; i < iterations; i++) await fn()
  return Number(process.hrtime.bigint() - start) / 1e6 / iterations
}

export async function startBenchService(env: Record<string, string> = {}): Promise<BenchContext & { dispose(): Promise<void> }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'medcred-bench-'))
  const medcred = await startMedcred(
    loadConfig({ PORT: '0', DATA_DIR: dataDir, RATE_LIMIT_PER_MINUTE: '100000000', ...env }),
    silentLogger,
  )
  const post = async (p: string, body: unknown, token?: string) => {
    const res = await fetch(medcred.url + p, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    })
    return { status: res.status, body: await res.json() }
  }
  return {
    medcred,
    url: medcred.url,
    adminToken: medcred.secrets.adminToken,
    post,
    async dispose() {
      await medcred.stop()
      fs.rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

export function printRows(title: string, rows: Row[]): void {
  console.log(`\n${title}`)
  for (const r of rows) {
    const ratio = r.baselineMs / r.ms
    console.log(
      `  ${r.name.padEnd(44)} ${r.ms.toFixed(2).padStart(8)} ms   vs ${r.baseline.padEnd(34)} ${r.baselineMs.toFixed(2).padStart(8)} ms   ratio ${ratio >= 1 ? `${ratio.toFixed(1)}x faster` : `${(1 / ratio).toFixed(2)}x the cost`}`,
    )
  }
}

/** Issues a one-year ClinicianLicenseCredential from `boardApiKey` to `holderDid`. */
export async function issueBenchLicense(ctx: BenchContext, boardApiKey: string, holderDid: string, licenseNumber = 'B-1') {
  const res = await ctx.post(
    '/credentials/issue',
    {
      credential: {
        type: ['VerifiableCredential', 'ClinicianLicenseCredential'],
        expirationDate: new Date(Date.now() + 365 * 86400_000).toISOString(),
        credentialSubject: { id: holderDid, name: 'Dr. Bench', npi: '1234567893', licenseNumber, licenseType: 'MD', jurisdiction: 'US-TX', status: 'active' },
      },
    },
    boardApiKey,
  )
  if (res.status !== 201) throw new Error(`bench issuance failed: ${JSON.stringify(res.body)}`)
  return res.body.verifiableCredential
}
