import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { createRequire } from 'node:module'

/** A local EVM node started by medcred, with its chain state kept in a file so it survives restarts. */
export interface LocalNode {
  rpcUrl: string
  chainId: number
  stop(): Promise<void>
}

const require = createRequire(import.meta.url)
export const LOCAL_CHAIN_ID = 31337

function anvilBinary(): string {
  const pkg = `@foundry-rs/anvil-${process.platform}-${process.arch === 'x64' ? 'amd64' : process.arch}`
  return path.join(path.dirname(require.resolve(`${pkg}/package.json`)), 'bin', 'anvil')
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo
      srv.close(() => resolve(port))
    })
  })
}

/**
 * A node left behind by a crashed earlier run would keep writing the same state file; stop it first.
 * The pid file names it, and /proc confirms it is still an anvil before we signal it.
 */
async function stopOrphan(pidFile: string): Promise<void> {
  if (!fs.existsSync(pidFile)) return
  const pid = Number(fs.readFileSync(pidFile, 'utf8'))
  fs.rmSync(pidFile, { force: true })
  fs.rmSync(path.join(path.dirname(pidFile), RPC_FILE), { force: true })
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    if (!cmdline.includes('anvil')) return
    process.kill(pid, 'SIGTERM')
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setTimeout(r, 20))
      process.kill(pid, 0)
    }
  } catch {
    // gone (or never ours): nothing to stop
  }
}

/** Written while a node runs, so other processes on the same DATA_DIR (the audit checker) use it, not a second node. */
const RPC_FILE = 'rpc.json'

async function answers(rpcUrl: string): Promise<boolean> {
  try {
    const res = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      signal: AbortSignal.timeout(2000),
    })
    return res.ok
  } catch {
    return false
  }
}

/**
 * The RPC URL of the node another process is running on `stateDir`, if there is one that still answers.
 * Starting a second node instead would be wrong twice: it would kill the first (stopOrphan) and both would
 * write the same state file.
 */
export async function findRunningNode(stateDir: string): Promise<{ rpcUrl: string; chainId: number } | undefined> {
  const file = path.join(stateDir, RPC_FILE)
  if (!fs.existsSync(file)) return undefined
  try {
    const { rpcUrl, pid } = JSON.parse(fs.readFileSync(file, 'utf8')) as { rpcUrl: string; pid: number }
    if (!fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('anvil')) return undefined
    return (await answers(rpcUrl)) ? { rpcUrl, chainId: LOCAL_CHAIN_ID } : undefined
  } catch {
    return undefined // stale file: its node is gone
  }
}

async function waitForRpc(rpcUrl: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`anvil exited early with code ${child.exitCode}`)
    try {
      const res = await fetch(rpcUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      })
      if (res.ok) return
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 25))
  }
  throw new Error(`anvil did not answer on ${rpcUrl} within ${timeoutMs} ms`)
}

/**
 * Starts anvil on a free loopback port with its state in `<stateDir>/state.json`.
 * `--state-interval 1` dumps state every second, so even a SIGKILL loses at most a second of blocks;
 * a clean stop (SIGTERM) dumps it in full.
 */
export async function startLocalNode(stateDir: string, opts: { port?: number } = {}): Promise<LocalNode> {
  fs.mkdirSync(stateDir, { recursive: true })
  const pidFile = path.join(stateDir, 'anvil.pid')
  await stopOrphan(pidFile)
  const port = opts.port ?? (await freePort())
  const child = spawn(
    anvilBinary(),
    [
      '--host', '127.0.0.1',
      '--port', String(port),
      '--chain-id', String(LOCAL_CHAIN_ID),
      '--state', path.join(stateDir, 'state.json'),
      '--state-interval', '1',
      '--silent',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let stderr = ''
  child.stderr?.on('data', (d) => (stderr = (stderr + d).slice(-2000)))
  fs.writeFileSync(pidFile, String(child.pid))
  const killOnExit = () => child.kill('SIGTERM')
  process.once('exit', killOnExit)

  const rpcUrl = `http://127.0.0.1:${port}`
  try {
    await waitForRpc(rpcUrl, child, 15_000)
  } catch (e) {
    child.kill('SIGKILL')
    throw new Error(`${(e as Error).message}${stderr ? `: ${stderr.trim()}` : ''}`)
  }
  const rpcFile = path.join(stateDir, RPC_FILE)
  fs.writeFileSync(rpcFile, JSON.stringify({ rpcUrl, pid: child.pid }) + '\n')

  return {
    rpcUrl,
    chainId: LOCAL_CHAIN_ID,
    async stop() {
      process.removeListener('exit', killOnExit)
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r))
        child.kill('SIGTERM')
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))])
        if (child.exitCode === null) child.kill('SIGKILL')
      }
      fs.rmSync(pidFile, { force: true })
      fs.rmSync(rpcFile, { force: true })
    },
  }
}
