import { randomUUID } from 'node:crypto'
import { expect } from 'vitest'
import { HolderWallet } from '../../src/holder/wallet.js'
import { licenseCredential } from './fixtures.js'
import type { Reply, TestService } from './service.js'

/** A request not answered within this long is a hang, which a fault must never cause. */
const ANSWER_WITHIN_MS = 20_000

export type LoadKind = 'issue' | 'verify' | 'trust-list' | 'audit-page'
const KINDS: LoadKind[] = ['issue', 'verify', 'trust-list', 'audit-page']

/** One request of the mix and how it was answered. */
export interface Sent {
  kind: LoadKind
  /** Undefined when no answer came within ANSWER_WITHIN_MS (or the connection broke): `hang` says which. */
  res?: Reply
  hang?: string
  /** An issue's body and Idempotency-Key, to retry it as its client would. */
  issue?: { body: unknown; key: string }
}

/**
 * The mix the fault tests put on a service while the database fails under it: issue (each with its own
 * Idempotency-Key), verify, the trust list and an audit page, in turn, every request with a time bound.
 */
export class FaultLoad {
  private constructor(
    private readonly svc: TestService,
    readonly board: { id: string; did: string; apiKey: string },
    private readonly clinician: HolderWallet,
    /** A credential issued before the fault, for the verify requests. */
    readonly license: unknown,
  ) {}

  /** How many issues (each its own Idempotency-Key) `send` has sent. */
  issuesSent = 0

  static async prepare(svc: TestService): Promise<FaultLoad> {
    const board = await svc.api.createTrustedBoard('Board')
    const clinician = await HolderWallet.create()
    const issued = await svc.api.post('/credentials/issue', { credential: licenseCredential(clinician.did) }, board.apiKey)
    if (issued.status !== 201) throw new Error(`issuing the license to verify failed: ${issued.status} ${JSON.stringify(issued.body)}`)
    return new FaultLoad(svc, board, clinician, issued.body.verifiableCredential)
  }

  /** The `i`-th request of the mix (issue, verify, trust list, audit page, issue, …). */
  send(i: number): Promise<Sent> {
    const kind = KINDS[i % KINDS.length]
    switch (kind) {
      case 'issue': {
        const issue = { body: { credential: licenseCredential(this.clinician.did) }, key: `fault-${randomUUID()}` }
        this.issuesSent++
        return this.answer(kind, this.sendIssue(issue), issue)
      }
      case 'verify':
        return this.answer(kind, this.call('POST', '/credentials/verify', { verifiableCredential: this.license }))
      case 'trust-list':
        return this.answer(kind, this.call('GET', '/trust/issuers', undefined, this.board.apiKey))
      case 'audit-page':
        return this.answer(kind, this.call('GET', '/audit/events?limit=5', undefined, this.svc.api.adminToken))
    }
  }

  /** Sends (or resends, as a client retrying would) an issue under its Idempotency-Key. */
  sendIssue(issue: { body: unknown; key: string }): Promise<Reply> {
    return this.call('POST', '/credentials/issue', issue.body, this.board.apiKey, { 'idempotency-key': issue.key })
  }

  private call(method: string, p: string, body?: unknown, token?: string, headers?: Record<string, string>): Promise<Reply> {
    return this.svc.api.request(method, p, { body, token, headers, timeoutMs: ANSWER_WITHIN_MS })
  }

  private async answer(kind: LoadKind, reply: Promise<Reply>, issue?: Sent['issue']): Promise<Sent> {
    try {
      return { kind, res: await reply, issue }
    } catch (e) {
      return { kind, hang: `no answer to ${kind}: ${(e as Error).name}: ${(e as Error).message}`, issue }
    }
  }

  /**
   * Answered, and cleanly: a success, or a 503 `database-unavailable` problem+json with Retry-After and no
   * trace of the driver's error (the log line with the request id is the message when it is anything else).
   */
  expectClean(sent: Sent): void {
    expect(sent.hang).toBeUndefined()
    const res = sent.res!
    if (res.status < 400) return
    expect(res.type).toMatch(/^application\/problem\+json/)
    expect(res.body).toMatchObject({ type: expect.any(String), title: expect.any(String), status: res.status, detail: expect.any(String) })
    expect(JSON.stringify(res.body)).not.toMatch(/\bat .*\.(ts|js):\d+|QueryFailedError|terminating connection|ECONNREFUSED|starting up|shutting down/)
    const logged = this.svc.logs.filter((l) => l.includes(String(res.body.requestId))).join('').slice(0, 3000)
    expect(res.status, `${sent.kind}: ${JSON.stringify(res.body)} ${logged}`).toBe(503)
    expect(res.body.type).toBe('https://medcred.dev/problems/database-unavailable')
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0)
  }

  /** Every request of the mix succeeded (201 for an issue, 200 for the rest). */
  expectAllSucceeded(sent: Sent[]): void {
    expect(sent.map((s) => `${s.kind} ${s.res?.status ?? s.hang}`)).toEqual(sent.map((s) => `${s.kind} ${s.kind === 'issue' ? 201 : 200}`))
  }
}
