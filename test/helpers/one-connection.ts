import http from 'node:http'
import net from 'node:net'

/** An answer on a connection of its own; `status` 0 when the connection broke (e.g. a killed server). */
export interface Answer {
  status: number
  /** Which HTTP worker answered (`X-Medcred-Worker`), when several serve. */
  worker?: string
  body: any
}

/**
 * One request on a connection of its own (no keep-alive), so that node:cluster hands each to the next
 * worker in turn, and a server killed mid-request shows as status 0 rather than an exception.
 */
export function callOnce(port: number, method: string, p: string, body?: unknown, token?: string): Promise<Answer> {
  return new Promise((resolve) => {
    const data = body === undefined ? undefined : JSON.stringify(body)
    const req = http.request(
      { host: '127.0.0.1', port, method, path: p, agent: false, headers: { ...(data ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) } },
      (res) => {
        let text = ''
        res.on('data', (d) => (text += d))
        res.on('end', () => resolve({ status: res.statusCode!, worker: res.headers['x-medcred-worker'] as string | undefined, body: text ? JSON.parse(text) : undefined }))
        res.on('error', () => resolve({ status: 0, body: undefined }))
      },
    )
    req.on('error', () => resolve({ status: 0, body: undefined }))
    req.end(data)
  })
}

/** A TCP port free on loopback right now. */
export async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const { port } = server.address() as net.AddressInfo
  await new Promise((r) => server.close(r))
  return port
}
