import http from 'node:http'
import https from 'node:https'

/**
 * A minimal JSON-RPC client for the hot path (the DID cache's `changed` check on every resolution).
 * ethers schedules each request behind a `setTimeout`, which costs about a millisecond per call in Node;
 * a plain keep-alive request costs a fifth of that.
 */
export class JsonRpcClient {
  private readonly agent: http.Agent
  private readonly url: URL
  private id = 0

  constructor(
    rpcUrl: string,
    private readonly timeoutMs = 10_000,
  ) {
    this.url = new URL(rpcUrl)
    this.agent = this.url.protocol === 'https:' ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true })
  }

  call(method: string, params: unknown[]): Promise<unknown> {
    const body = JSON.stringify({ jsonrpc: '2.0', id: ++this.id, method, params })
    const transport = this.url.protocol === 'https:' ? https : http
    return new Promise((resolve, reject) => {
      const req = transport.request(
        this.url,
        { method: 'POST', agent: this.agent, headers: { 'content-type': 'application/json' }, timeout: this.timeoutMs },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () => {
            try {
              const reply = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { result?: unknown; error?: { message?: string } }
              if (reply.error) reject(new Error(`JSON-RPC ${method}: ${reply.error.message ?? 'error'}`))
              else resolve(reply.result)
            } catch (e) {
              reject(new Error(`JSON-RPC ${method}: unreadable reply (HTTP ${res.statusCode})`, { cause: e }))
            }
          })
          res.on('error', reject)
        },
      )
      req.on('timeout', () => req.destroy(new Error(`JSON-RPC ${method}: no answer within ${this.timeoutMs} ms`)))
      req.on('error', reject)
      req.end(body)
    })
  }

  close(): void {
    this.agent.destroy()
  }
}
