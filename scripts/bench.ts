/**
 * `npm run bench`: the figures the issues ask for, each beside its baseline measured in the same run, each
 * the median of several runs; also written to bench-results.json (name → {value, unit, baseline, ratio})
 * so two runs can be compared. In-process figures run against a service started here (SQLite, local
 * chain); HTTP figures against medcred in processes of its own, as `npm start` runs it.
 */
import os from 'node:os'
import { printFigures, startBenchService, writeResults, type Figure } from './bench/harness.js'
import { benchRawVerifiers, benchVerification } from './bench/verification.js'
import { benchIssuance } from './bench/issuance.js'
import { benchStatus } from './bench/status.js'
import { benchAudit } from './bench/audit.js'
import { benchGrowth } from './bench/growth.js'
import { benchHttp, benchReplicas } from './bench/http.js'

const started = Date.now()
const sections: Record<string, Figure[]> = {}
/** `npm run bench -- http` runs only the sections whose title holds that word (case-insensitive). */
const only = process.argv[2]?.toLowerCase()
const section = async (title: string, run: () => Promise<Figure[]>) => {
  if (only && !title.toLowerCase().includes(only)) return
  sections[title] = await run()
  printFigures(title, sections[title])
}
const machine = `${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown cpu'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`
console.log(`medcred bench, ${new Date().toISOString()}: ${machine}`)

const raw = await benchRawVerifiers()
sections['Signature math'] = raw.figures
printFigures('Signature math', raw.figures)

const ctx = await startBenchService({ AUDIT_ANCHOR_EVERY: '10000', AUDIT_ANCHOR_SECONDS: '86400' })
try {
  await section('Verification in process', () => benchVerification(ctx, raw.libsecp256k1))
  await section('Issuance in process', () => benchIssuance(ctx))
  await section('Status lists', () => benchStatus(ctx))
  await section('Audit trail', () => benchAudit(ctx))
  await section('Cost growth', () => benchGrowth(ctx))
} finally {
  await ctx.dispose()
}
const inProcess = sections['Verification in process']?.find((f) => f.name.startsWith('medcred full verification'))?.value ?? 0
await section('HTTP (own process, SQLite, 16 connections)', () => benchHttp(inProcess))
await section('Replicas (PostgreSQL)', () => benchReplicas(process.env.MEDCRED_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'))

writeResults('bench-results.json', sections, { date: new Date().toISOString(), machine, seconds: Math.round((Date.now() - started) / 1000) })
console.log(`\nwritten to bench-results.json in ${Math.round((Date.now() - started) / 1000)} s`)
