import cluster, { type Worker } from 'node:cluster'
import type { Logger } from './api/problem.js'
import { connectChain, type Chain } from './chain/chain.js'
import type { ChainConfig, Config } from './config.js'
import { openDatabase } from './db/data-source.js'
import { ensureSecrets } from './secrets.js'

/** What the primary hands each worker: its index, and the chain it already started or checked. */
export interface WorkerAssignment {
  index: number
  /** Whether the chain is the local node the primary started. */
  localNode: boolean
  chain: Required<Pick<ChainConfig, 'rpcUrl' | 'registry' | 'chainId' | 'network' | 'operatorPrivateKey'>>
}

const ASSIGNMENT_ENV = 'MEDCRED_WORKER_ASSIGNMENT'
const STOP_GRACE_MS = 30_000

/** The assignment of this process when it is a worker started by `superviseWorkers`. */
export function workerAssignment(): WorkerAssignment | undefined {
  const raw = cluster.isWorker ? process.env[ASSIGNMENT_ENV] : undefined
  return raw ? (JSON.parse(raw) as WorkerAssignment) : undefined
}

/** The config a worker runs with: the primary's chain, as an external chain it does not own. */
export function workerConfig(config: Config, assignment: WorkerAssignment): Config {
  return { ...config, chain: { ...config.chain, ...assignment.chain } }
}

/**
 * The primary of `WEB_CONCURRENCY` HTTP workers (`node:cluster`, which shares the port between them).
 * It does once what must not race: the secrets, the chain (a local node is started here and outlives
 * every worker) and the migrations; then it forks the workers, each a full replica on the shared
 * PostgreSQL, worker 0 also running the background jobs. A worker that dies is started again. On SIGTERM
 * or SIGINT the workers drain and stop, then the local chain stops, last.
 */
export async function superviseWorkers(config: Config, log: Logger): Promise<void> {
  const secrets = ensureSecrets(config.dataDir, config)
  if (secrets.adminTokenGenerated) console.log(`generated a new admin token: ${secrets.adminToken}`)
  const chain = await connectChain(config.chain, config.dataDir)
  try {
    await (await openDatabase(config)).destroy()
  } catch (e) {
    await chain.stop()
    throw e
  }
  const assignment = (index: number): WorkerAssignment => ({ index, localNode: chain.local, chain: chainOf(chain) })
  let stopping = false
  const workers = new Map<number, Worker>()
  const fork = (index: number) => {
    const worker = cluster.fork({ [ASSIGNMENT_ENV]: JSON.stringify(assignment(index)) })
    workers.set(index, worker)
    worker.on('exit', (code, signal) => {
      if (workers.get(index) === worker) workers.delete(index)
      if (stopping) return
      log.error('worker exited; starting it again', { worker: index, code, signal })
      setTimeout(() => fork(index), 1000).unref()
    })
  }
  const listening = new Set<number>()
  cluster.on('listening', (worker) => {
    listening.add(worker.id)
    if (listening.size === config.webConcurrency) console.log(`  all ${config.webConcurrency} workers serving`)
  })
  for (let i = 0; i < config.webConcurrency; i++) fork(i)
  log.info('workers started', { workers: config.webConcurrency, chain: chain.rpcUrl })

  const shutdown = async (signal: string) => {
    if (stopping) return
    stopping = true
    log.info('stopping workers', { signal })
    const exited = [...workers.values()].map((w) => new Promise<void>((resolve) => (w.isDead() ? resolve() : w.once('exit', () => resolve()))))
    for (const w of workers.values()) w.process.kill('SIGTERM')
    const grace = setTimeout(() => {
      for (const w of workers.values()) w.process.kill('SIGKILL')
    }, STOP_GRACE_MS)
    await Promise.all(exited)
    clearTimeout(grace)
    await chain.stop()
    process.exit(0)
  }
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
  process.on('SIGINT', () => void shutdown('SIGINT'))
}

function chainOf(chain: Chain): WorkerAssignment['chain'] {
  return { rpcUrl: chain.rpcUrl, registry: chain.registry, chainId: chain.chainId, network: chain.network, operatorPrivateKey: chain.operator.privateKey }
}
