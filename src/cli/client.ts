/** Exit codes of the `medcred` CLI (README "CLI"). */
export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const

/** A CLI failure with the exit code it ends the process with. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    readonly problem?: unknown,
  ) {
    super(message)
    this.name = 'CliError'
  }
}

export interface Reply<T = any> {
  status: number
  body: T
}

/** The HTTP API as the CLI calls it: JSON in and out, the bearer token on every call. */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string | undefined,
    private readonly timeoutMs = 60_000,
  ) {}

  /** Any reply, problems included; only a service that does not answer throws (exit 3). */
  async call<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply<T>> {
    let res: Response
    try {
      res = await fetch(new URL(path, this.baseUrl), {
        method,
        headers: {
          accept: 'application/json',
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      })
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause
      throw new CliError(`medcred at ${this.baseUrl} is unreachable: ${cause?.code ?? cause?.message ?? (e as Error).message}`, EXIT.unreachable)
    }
    const text = await res.text()
    let parsed: unknown = text
    try {
      parsed = text ? JSON.parse(text) : undefined
    } catch {
      // a non-JSON reply stays text
    }
    return { status: res.status, body: parsed as T }
  }

  /** A call that must succeed with one of `ok`; anything else becomes a CliError naming the problem. */
  async expect<T = any>(ok: number[], method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<T> {
    const reply = await this.call<T>(method, path, body, headers)
    if (!ok.includes(reply.status)) throw new CliError(problemText(reply), reply.status >= 500 && reply.status !== 501 ? EXIT.unreachable : EXIT.failed, reply.body)
    return reply.body
  }
}

/** One line saying what a problem reply says: status, title, detail. */
export function problemText(reply: Reply): string {
  const p = reply.body as { title?: string; detail?: string } | string | undefined
  if (!p || typeof p === 'string') return `HTTP ${reply.status}${p ? `: ${String(p).slice(0, 200)}` : ''}`
  return `HTTP ${reply.status} ${p.title ?? ''}: ${p.detail ?? ''}`
}
