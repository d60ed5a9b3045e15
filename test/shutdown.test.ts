import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from './helpers/database.js'

const GRACE_MS = 1500

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Opens a request whose body is sent only in part; `finish()` sends the rest and resolves to the reply's first line. */
function partialRequest(port: number, body: string): Promise<{ finish: () => Promise<string>; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(`POST /credentials/verify HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 5)}`)
      let reply = ''
      const answered = new Promise<string>((res) => {
        socket.on('data', (d) => (reply += d))
        socket.on('close', () => res(reply.split('\r\n')[0] ?? ''))
        socket.on('error', () => res(reply.split('\r\n')[0] ?? ''))
      })
      resolve({ socket, finish: () => (socket.write(body.slice(5)), answered) })
    })
    socket.once('error', reject)
  })
}

/** `npm start` as a process of its own, stopped with SIGTERM: in-flight requests finish, the rest is bounded, the chain stops last. */
describe('graceful shutdown on SIGTERM', () => {
  let child: ChildProcess | undefined
  let database: TestDatabase | undefined
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'medcred-stop-'))
  afterAll(async () => {
    if (child?.exitCode === null) child.kill('SIGKILL')
    await database?.drop()
    fs.rmSync(dataDir, { recursive: true, force: true })
  })

  it('stops accepting, finishes the request in flight, cuts a stuck one after the grace period, stops the local chain, exits 0', async () => {
    database = await createTestDatabase()
    child = spawn(path.resolve('node_modules/.bin/tsx'), ['src/main.ts'], {
      env: { PATH: process.env.PATH ?? '', PORT: '0', DATA_DIR: dataDir, SHUTDOWN_GRACE_MS: String(GRACE_MS), ...(database.url ? { DATABASE_URL: database.url, WEB_CONCURRENCY: '1' } : {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stderr!.on('data', (d) => (stderr += d))
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no start: ${stdout} ${stderr}`)), 60_000)
      child!.stdout!.on('data', (d) => {
        stdout += d
        const m = /listening on http:\/\/localhost:(\d+)/.exec(stdout)
        if (m && stdout.includes('ready in')) {
          clearTimeout(timer)
          resolve(Number(m[1]))
        }
      })
    })
    const exited = new Promise<{ code: number | null; at: number }>((resolve) => child!.on('exit', (code) => resolve({ code, at: Date.now() })))
    const anvil = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(child.pid)]).toString().split('\n').map((l) => l.trim().split(/\s+/)).find(([, comm]) => comm === 'anvil')
    const node = execFileSync('ps', ['-o', 'pid=', '--ppid', String(child.pid)]).toString().trim().split(/\s+/).map(Number)
    // tsx runs node as a child: the anvil is the grandchild then.
    const anvilPid = Number(anvil?.[0] ?? execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(node[0])]).toString().split('\n').map((l) => l.trim().split(/\s+/)).find(([, comm]) => comm === 'anvil')?.[0])
    expect(anvilPid).toBeGreaterThan(0)

    const body = JSON.stringify({ verifiableCredential: 'not-a-jwt' })
    const inFlight = await partialRequest(port, body)
    const stuck = await partialRequest(port, body)
    await new Promise((r) => setTimeout(r, 200))
    const stoppedAt = Date.now()
    child.kill('SIGTERM')
    await new Promise((r) => setTimeout(r, 300))

    // No new connections once stopping.
    const refused = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => (s.destroy(), resolve(false)))
      s.on('error', () => resolve(true))
    })
    expect(refused).toBe(true)
    // The request in flight is answered (a 4xx for this body: answered, not cut).
    expect(await inFlight.finish()).toMatch(/^HTTP\/1\.1 4\d\d/)
    expect(alive(anvilPid)).toBe(true)

    const { code, at } = await exited
    expect(code).toBe(0)
    expect(at - stoppedAt).toBeGreaterThanOrEqual(GRACE_MS - 100)
    expect(at - stoppedAt).toBeLessThan(GRACE_MS + 15_000)
    stuck.socket.destroy()
    expect(alive(anvilPid)).toBe(false)
    const lines = stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l))
    expect(lines.find((l) => l.message === 'stopped')).toMatchObject({ level: 'info', signal: 'SIGTERM' })
  }, 120_000)
})
