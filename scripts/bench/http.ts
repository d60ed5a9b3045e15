import { randomUUID } from 'node:crypto'
import autocannon from 'autocannon'
import pg from 'pg'
import { HolderWallet } from '../../src/holder/wallet.js'
import { benchLicense, issueBenchLicense, median, RUNS, trustedBenchBoard, type Figure } from './harness.js'
import { startServiceProcess, type ServiceProcess } from './service-process.js'

const CONNECTIONS = 16
const SECONDS = 4

interface Load {
  rps: number
  p50: number
  p99: number
}

/** RUNS autocannon runs at 16 connections; the median of each measure. Any non-2xx answer fails the bench. */
async function load(url: string, requests: autocannon.Request[], expectStatus: number): Promise<Load> {
  const runs: Load[] = []
  for (let i = 0; i < RUNS; i++) {
    const r = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS, requests })
    const wrong = (r.statusCodeStats as Record<string, { count: number }>)
    const other = Object.entries(wrong).filter(([code]) => Number(code) !== expectStatus)
    if (other.length || r.errors || r.timeouts) throw new Error(`load run answered ${JSON.stringify(wrong)}, ${r.errors} errors, ${r.timeouts} timeouts`)
    runs.push({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99 })
  }
  return { rps: median(runs.map((x) => x.rps)), p50: median(runs.map((x) => x.p50)), p99: median(runs.map((x) => x.p99)) }
}

async function setUp(svc: ServiceProcess) {
  const board = await trustedBenchBoard(svc)
  const holder = await HolderWallet.create()
  const license = await issueBenchLicense(svc, board, holder.did)
  return { board, holder, license }
}

const verifyRequest = (license: unknown): autocannon.Request[] => [
  { method: 'POST', path: '/credentials/verify', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ verifiableCredential: license }) },
]
const issueRequest = (board: { apiKey: string; did: string }, holderDid: string): autocannon.Request[] => [
  {
    method: 'POST',
    path: '/credentials/issue',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${board.apiKey}` },
    setupRequest: (req) => ({ ...req, body: JSON.stringify({ credential: { ...benchLicense(holderDid, board.did), id: `urn:uuid:${randomUUID()}` } }) }),
  },
]

/** Over HTTP, medcred as `npm start` runs it (its own process, SQLite, local chain), at 16 connections. */
export async function benchHttp(inProcessVerifyRate: number): Promise<Figure[]> {
  const svc = await startServiceProcess()
  try {
    const { board, holder, license } = await setUp(svc)
    const verify = await load(svc.url, verifyRequest(license), 200)
    const issue = await load(svc.url, issueRequest(board, holder.did), 201)
    return [
      { name: 'POST /credentials/verify, 16 connections, one process: throughput', value: verify.rps, unit: 'req/s', baseline: { name: 'in-process verification', value: inProcessVerifyRate }, target: '≥ 3,000 req/s on both cores' },
      { name: 'POST /credentials/verify, 16 connections: p50 latency', value: verify.p50, unit: 'ms' },
      { name: 'POST /credentials/verify, 16 connections: p99 latency', value: verify.p99, unit: 'ms', target: '< 20 ms' },
      { name: 'POST /credentials/issue, 16 connections: throughput', value: issue.rps, unit: 'req/s', baseline: { name: 'POST /credentials/verify', value: verify.rps } },
      { name: 'POST /credentials/issue, 16 connections: p99 latency', value: issue.p99, unit: 'ms', target: '< 30 ms' },
    ]
  } finally {
    await svc.stop()
  }
}

/**
 * One process against two on one PostgreSQL (WEB_CONCURRENCY=1 and 2: replicas in every sense, behind
 * node:cluster's port). Skipped, saying so, when PostgreSQL is not reachable.
 */
export async function benchReplicas(adminUrl: string): Promise<Figure[]> {
  const reachable = await withClient(adminUrl, async () => true).catch(() => false)
  if (!reachable) {
    console.log(`  (PostgreSQL at ${adminUrl} is not reachable: one process against two is not measured)`)
    return []
  }
  const rates: Record<number, Load> = {}
  for (const workers of [1, 2]) {
    const name = `medcred_bench_${randomUUID().replace(/-/g, '').slice(0, 12)}`
    await withClient(adminUrl, (c) => c.query(`CREATE DATABASE ${name}`))
    const url = new URL(adminUrl)
    url.pathname = `/${name}`
    const svc = await startServiceProcess({ DATABASE_URL: url.toString(), WEB_CONCURRENCY: String(workers) })
    try {
      const { license } = await setUp(svc)
      rates[workers] = await load(svc.url, verifyRequest(license), 200)
    } finally {
      await svc.stop()
      await withClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))
    }
  }
  return [
    { name: 'POST /credentials/verify on PostgreSQL, two workers', value: rates[2].rps, unit: 'req/s', baseline: { name: 'one worker', value: rates[1].rps }, target: '≥ 1.6× where the load generator leaves room' },
    { name: 'POST /credentials/verify on PostgreSQL, two workers: p99', value: rates[2].p99, unit: 'ms', baseline: { name: 'one worker', value: rates[1].p99 } },
  ]
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}
