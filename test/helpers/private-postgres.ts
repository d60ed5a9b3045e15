import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { freePort } from './one-connection.js'

/**
 * A PostgreSQL server of a test's own, for faults that would disturb every other test on the shared one
 * (stopping it). It runs from the machine's binaries (`/usr/lib/postgresql/<version>/bin`) as the
 * `postgres` OS user, since PostgreSQL refuses to run as root and the tests run as root; trust auth on
 * 127.0.0.1 and a free port, its data dir and unix socket in one temp dir.
 */
export interface PrivatePostgres {
  port: number
  /** A connection URL for `database` (default `postgres`, which initdb creates). */
  url(database?: string): string
  /** Fast shutdown (SIGINT: sessions are terminated, a checkpoint is written); resolves once it has exited. */
  stop(): Promise<void>
  /** Starts it again on the same port and data dir; resolves once it accepts connections. */
  start(): Promise<void>
  /** Whether the server process is running now. */
  readonly running: boolean
  /** What the server logged (for a failing test's message). */
  log(): string
  /** Stops it and removes its temp dir. */
  dispose(): Promise<void>
}

interface Setup {
  bin: string
  uid: number
  gid: number
}

/** Why a private server cannot run here, or undefined when it can (then `startPrivatePostgres` works). */
export function privatePostgresUnavailable(): string | undefined {
  const found = setup()
  return typeof found === 'string' ? found : undefined
}

function setup(): Setup | string {
  if (process.getuid?.() !== 0) return 'not running as root: cannot start PostgreSQL as the postgres user'
  const root = '/usr/lib/postgresql'
  const versions = fs.existsSync(root) ? fs.readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : []
  const bin = versions.map((v) => path.join(root, v, 'bin')).find((b) => fs.existsSync(path.join(b, 'postgres')) && fs.existsSync(path.join(b, 'initdb')))
  if (!bin) return `no PostgreSQL server binaries (initdb, postgres) under ${root}/<version>/bin`
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim())
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim())
    return { bin, uid, gid }
  } catch {
    return 'no postgres OS user to run PostgreSQL as'
  }
}

/** Creates a data dir (initdb) and starts a server on it; resolves once it accepts connections. */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const found = setup()
  if (typeof found === 'string') throw new Error(`a private PostgreSQL cannot run here: ${found}`)
  const { bin, uid, gid } = found
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'medcred-pg-'))
  fs.chownSync(dir, uid, gid)
  const dataDir = path.join(dir, 'data')
  const port = await freePort()
  const logged: string[] = []
  const asPostgres = { uid, gid, cwd: dir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' } }

  await run(spawn(path.join(bin, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '--no-instructions', '-E', 'UTF8', '--locale=C'], asPostgres), logged, 'initdb')

  let server: ChildProcess | undefined
  let exited: Promise<void> = Promise.resolve()
  // A test process that dies must not leave its server behind (SIGQUIT: immediate shutdown).
  const killOnExit = () => server?.kill('SIGQUIT')
  process.once('exit', killOnExit)

  const url = (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`

  async function start(): Promise<void> {
    if (server) throw new Error('the private PostgreSQL is already running')
    const child = spawn(
      path.join(bin, 'postgres'),
      ['-D', dataDir, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'full_page_writes=off'],
      { ...asPostgres, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    server = child
    child.stdout!.on('data', (d) => logged.push(String(d)))
    child.stderr!.on('data', (d) => logged.push(String(d)))
    exited = new Promise((resolve) => child.once('exit', () => resolve()))
    void exited.then(() => {
      if (server === child) server = undefined
    })
    await acceptsConnections(url(), exited, logged)
  }

  async function stop(): Promise<void> {
    if (!server) return
    server.kill('SIGINT')
    await exited
  }

  await start()
  return {
    port,
    url,
    start,
    stop,
    get running() {
      return server !== undefined
    },
    log: () => logged.join(''),
    async dispose() {
      await stop()
      process.off('exit', killOnExit)
      fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Waits for a one-shot command to finish; throws with its output when it fails. */
function run(child: ChildProcess, logged: string[], what: string): Promise<void> {
  child.stdout?.on('data', (d) => logged.push(String(d)))
  child.stderr?.on('data', (d) => logged.push(String(d)))
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${what} exited with ${code}:\n${logged.join('')}`))))
  })
}

/** Polls until a connection succeeds; fails if the server exits first or takes longer than 30 s. */
async function acceptsConnections(url: string, exited: Promise<void>, logged: string[]): Promise<void> {
  let gone = false
  void exited.then(() => (gone = true))
  const deadline = Date.now() + 30_000
  for (;;) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 })
    const ok = await client.connect().then(
      () => true,
      () => false,
    )
    await client.end().catch(() => undefined)
    if (ok) return
    if (gone) throw new Error(`the private PostgreSQL exited while starting:\n${logged.join('')}`)
    if (Date.now() > deadline) throw new Error(`the private PostgreSQL did not accept connections within 30 s:\n${logged.join('')}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
