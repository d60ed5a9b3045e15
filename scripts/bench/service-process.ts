import { spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { postJson } from './harness.js'

export interface ServiceProcess {
  url: string
  adminToken: string
  post(p: string, body: unknown, token?: string): Promise<{ status: number; body: any }>
  stop(): Promise<void>
}

/**
 * medcred as `npm start` runs it, in a process of its own, so that a load generator in this process
 * does not share its event loop. `env` adds to a fresh DATA_DIR (SQLite, local chain) unless it says otherwise.
 */
export async function startServiceProcess(env: Record<string, string> = {}): Promise<ServiceProcess> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'medcred-bench-proc-'))
  const port = await freePort()
  const workers = Number(env.WEB_CONCURRENCY ?? 1)
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: process.cwd(),
    env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), RATE_LIMIT_PER_MINUTE: '100000000', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout!.on('data', (d) => (output += d))
  child.stderr!.on('data', (d) => (output += d))
  const deadline = Date.now() + 60_000
  while (!/ready in \d+ ms/.test(output) || (workers > 1 && !new RegExp(`all ${workers} workers serving`).test(output))) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`medcred did not start:\n${output}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  const adminToken = JSON.parse(fs.readFileSync(path.join(dataDir, 'secrets.json'), 'utf8')).adminToken as string
  const url = `http://127.0.0.1:${port}`
  return {
    url,
    adminToken,
    post: (p, body, token) => postJson(url, p, body, token),
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
      fs.rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const { port } = server.address() as net.AddressInfo
  await new Promise((r) => server.close(r))
  return port
}
