import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Bench } from 'tinybench'
import { loadConfig } from '../../src/config.js'
import { silentLogger } from '../../src/log.js'
import { startMedcred, type Medcred } from '../../src/service.js'

/** Runs per figure; each figure is the median of these. */
export const RUNS = 3

/**
 * One figure and the baseline it is compared with, both measured in the same run. `ratio` is how many
 * times better the figure is than its baseline (for `higher` units: value / baseline; for `lower`, the
 * other way round), so above 1 always means "better than the baseline".
 */
export interface Figure {
  name: string
  value: number
  unit: 'ops/s' | 'req/s' | 'ms'
  baseline?: { name: string; value: number }
  /** A target from the issue, printed beside the figure. */
  target?: string
}

export const higherIsBetter = (unit: Figure['unit']) => unit !== 'ms'

export function ratioOf(f: Figure): number | undefined {
  if (!f.baseline || f.baseline.value === 0 || f.value === 0) return undefined
  return higherIsBetter(f.unit) ? f.value / f.baseline.value : f.baseline.value / f.value
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** Operations per second of `fn` (sequential, awaited), the median of RUNS tinybench runs of `timeMs` each. */
export async function opsPerSecond(fn: () => unknown, timeMs = 700): Promise<number> {
  const rates: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const bench = new Bench({ time: timeMs, warmupTime: 150 })
    bench.add('op', async () => {
      await fn()
    })
    await bench.run()
    const result = bench.tasks[0].result as unknown as { latency?: { mean: number }; error?: unknown }
    if (result.error) throw result.error
    rates.push(1000 / result.latency!.mean)
  }
  return median(rates)
}

/** Milliseconds per operation of `fn`, the median of RUNS runs of `iterations` each (for slow operations). */
export async function msPerOp(fn: () => Promise<unknown>, iterations = 30): Promise<number> {
  const runs: number[] = []
  await fn()
  for (let r = 0; r < RUNS; r++) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < iterations; i++) await fn()
    runs.push(Number(process.hrtime.bigint() - start) / 1e6 / iterations)
  }
  return median(runs)
}

export interface BenchContext {
  medcred: Medcred
  url: string
  adminToken: string
  post(p: string, body: unknown, token?: string): Promise<{ status: number; body: any }>
}

export async function startBenchService(env: Record<string, string> = {}): Promise<BenchContext & { dispose(): Promise<void> }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'medcred-bench-'))
  const medcred = await startMedcred(
    loadConfig({ PORT: '0', DATA_DIR: dataDir, RATE_LIMIT_PER_MINUTE: '100000000', ...env }),
    silentLogger,
  )
  return {
    medcred,
    url: medcred.url,
    adminToken: medcred.secrets.adminToken,
    post: (p, body, token) => postJson(medcred.url, p, body, token),
    async dispose() {
      await medcred.stop()
      fs.rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

export async function postJson(base: string, p: string, body: unknown, token?: string): Promise<{ status: number; body: any }> {
  const res = await fetch(base + p, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  })
  return { status: res.status, body: await res.json() }
}

/** The license body the bench issues, from a board of US-TX (`issuerDid`), stating its data model and issuer as the VC API asks. */
export function benchLicense(holderDid: string, issuerDid: string, licenseNumber = 'B-1') {
  return {
    '@context': ['https://www.w3.org/2018/credentials/v1'],
    issuer: issuerDid,
    type: ['VerifiableCredential', 'ClinicianLicenseCredential'],
    expirationDate: new Date(Date.now() + 365 * 86400_000).toISOString(),
    credentialSubject: { id: holderDid, name: 'Dr. Bench', npi: '1234567893', licenseNumber, licenseType: 'MD', jurisdiction: 'US-TX', status: 'active' },
  }
}

/** Issues a one-year ClinicianLicenseCredential from `board` to `holderDid`. */
export async function issueBenchLicense(ctx: Pick<BenchContext, 'post'>, board: { apiKey: string; did: string }, holderDid: string, licenseNumber = 'B-1') {
  const res = await ctx.post('/credentials/issue', { credential: benchLicense(holderDid, board.did, licenseNumber) }, board.apiKey)
  if (res.status !== 201) throw new Error(`bench issuance failed: ${JSON.stringify(res.body)}`)
  return res.body.verifiableCredential
}

/** A board trusted for licenses in US-TX, created through the API. */
export async function trustedBenchBoard(ctx: Pick<BenchContext, 'post' | 'adminToken'>, name = 'Bench Board') {
  const board = (await ctx.post('/institutions', { name, kind: 'board', jurisdiction: 'US-TX' }, ctx.adminToken)).body
  await ctx.post('/trust/issuers', { did: board.did, credentialTypes: ['ClinicianLicenseCredential'], jurisdictions: ['US-TX'] }, ctx.adminToken)
  return board as { id: string; did: string; apiKey: string }
}

export function printFigures(title: string, figures: Figure[]): void {
  console.log(`\n${title}`)
  for (const f of figures) {
    const value = `${format(f.value)} ${f.unit}`
    const ratio = ratioOf(f)
    const against = f.baseline ? `  vs ${f.baseline.name}: ${format(f.baseline.value)} ${f.unit}  → ${ratio === undefined ? 'n/a' : `${ratio.toFixed(2)}×`}` : ''
    console.log(`  ${f.name.padEnd(58)} ${value.padStart(14)}${against}${f.target ? `   (target ${f.target})` : ''}`)
  }
}

function format(v: number): string {
  return v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(v >= 10 ? 1 : 3)
}

/** `bench-results.json`: name → {value, unit, baseline, ratio}, so that two runs can be compared. */
export function writeResults(file: string, sections: Record<string, Figure[]>, meta: Record<string, unknown>): void {
  const results: Record<string, unknown> = {}
  for (const [section, figures] of Object.entries(sections)) {
    for (const f of figures) {
      results[`${section}: ${f.name}`] = {
        value: round(f.value),
        unit: f.unit,
        baseline: f.baseline ? { name: f.baseline.name, value: round(f.baseline.value) } : null,
        ratio: ratioOf(f) === undefined ? null : round(ratioOf(f)!),
        ...(f.target ? { target: f.target } : {}),
      }
    }
  }
  fs.writeFileSync(file, JSON.stringify({ ...meta, results }, null, 2) + '\n')
}

const round = (v: number) => Math.round(v * 1000) / 1000
