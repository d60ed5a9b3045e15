import http from 'node:http'
import type { AddressInfo } from 'node:net'

/** A real HTTP server on 127.0.0.1 whose answer the test sets; records the requests it got. */
export async function startStubServer(): Promise<{
  url: string
  respond: (status: number, body: string, type?: string) => void
  requests: { path: string; headers: http.IncomingHttpHeaders; body: string }[]
  close: () => Promise<void>
}> {
  let reply = { status: 404, body: '', type: 'text/plain' }
  const requests: { path: string; headers: http.IncomingHttpHeaders; body: string }[] = []
  const server = http.createServer((req, res) => {
    let body = ''
    req.on('data', (c) => (body += c))
    req.on('end', () => {
      requests.push({ path: req.url ?? '', headers: req.headers, body })
      res.writeHead(reply.status, { 'content-type': reply.type })
      res.end(reply.body)
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    respond: (status, body, type = 'application/vc+jwt') => (reply = { status, body, type }),
    requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  }
}

/** A loopback port with nothing listening on it. */
export async function closedPort(): Promise<number> {
  const server = http.createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((r) => server.close(() => r()))
  return port
}
