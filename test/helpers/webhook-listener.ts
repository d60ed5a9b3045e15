import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** One request the listener received, with the status it answered. */
export interface ReceivedRequest {
  path: string
  headers: IncomingHttpHeaders
  body: string
  answered: number
  at: number
}

/** How the listener answers: a status, or 'hang' to never answer (for timeouts). */
export type Answer = number | 'hang'

/**
 * A real HTTP server on 127.0.0.1 standing in for an institution's webhook receiver. Answers are scripted:
 * `answer(500, 500)` queues two 500s, after which it answers `fallback` (200 unless changed).
 */
export class WebhookListener {
  readonly requests: ReceivedRequest[] = []
  fallback: Answer = 200
  private readonly queue: Answer[] = []
  private readonly waiters: { test: () => boolean; resolve: () => void }[] = []

  private constructor(private readonly server: Server) {}

  static async start(): Promise<WebhookListener> {
    const server = createServer()
    const listener = new WebhookListener(server)
    server.on('request', (req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const answer = listener.queue.shift() ?? listener.fallback
        listener.requests.push({
          path: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          answered: answer === 'hang' ? 0 : answer,
          at: Date.now(),
        })
        listener.wake()
        if (answer === 'hang') return
        res.writeHead(answer, { 'content-type': 'text/plain' }).end(answer < 300 ? 'ok' : 'no')
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
    return listener
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.port}${path}`
  }

  answer(...answers: Answer[]): this {
    this.queue.push(...answers)
    return this
  }

  /** Requests answered with a 2xx. */
  get delivered(): ReceivedRequest[] {
    return this.requests.filter((r) => r.answered >= 200 && r.answered < 300)
  }

  /** Resolves once `test` holds (checked on every request), or rejects after `timeoutMs`. */
  waitUntil(test: (l: WebhookListener) => boolean, timeoutMs = 10_000): Promise<void> {
    if (test(this)) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`webhook listener: condition not met within ${timeoutMs} ms (${this.requests.length} requests)`)), timeoutMs)
      this.waiters.push({
        test: () => test(this),
        resolve: () => {
          clearTimeout(timer)
          resolve()
        },
      })
    })
  }

  /** Resolves with the first `n` requests once that many have arrived. */
  async waitForRequests(n: number, timeoutMs?: number): Promise<ReceivedRequest[]> {
    await this.waitUntil((l) => l.requests.length >= n, timeoutMs)
    return this.requests.slice(0, n)
  }

  async waitForDeliveries(n: number, timeoutMs?: number): Promise<ReceivedRequest[]> {
    await this.waitUntil((l) => l.delivered.length >= n, timeoutMs)
    return this.delivered.slice(0, n)
  }

  private wake(): void {
    for (const w of [...this.waiters]) {
      if (w.test()) {
        this.waiters.splice(this.waiters.indexOf(w), 1)
        w.resolve()
      }
    }
  }

  async close(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}
