import type { Server } from 'node:http'
import type { Duplex } from 'node:stream'
import { randomUUID } from 'node:crypto'
import { PROBLEMS, PROBLEM_TYPE_BASE, type ProblemCode } from '../errors.js'

/** Node's HTTP parser errors, by code, as our problems. Anything else it cannot parse is a plain 400. */
const PARSER_PROBLEMS: Record<string, ProblemCode> = {
  HPE_HEADER_OVERFLOW: 'headers-too-large',
  HPE_REQUEST_TIMEOUT: 'request-timeout',
}

const REASONS: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' }

/**
 * Answers requests that Node's HTTP parser refuses before Koa sees them (a request line or headers over
 * the limit, a malformed request) with the same problem+json and security headers as every other error,
 * instead of Node's bare status line.
 */
export function answerClientErrorsAsProblems(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy()
      return
    }
    const code = PARSER_PROBLEMS[err.code ?? ''] ?? 'malformed-request'
    const { status, title } = PROBLEMS[code]
    const requestId = randomUUID()
    const body = JSON.stringify({
      type: `${PROBLEM_TYPE_BASE}${code}`,
      title,
      status,
      detail: code === 'headers-too-large' ? 'the request line or headers exceed the server limit' : 'the request could not be parsed as HTTP',
      requestId,
    })
    socket.end(
      [
        `HTTP/1.1 ${status} ${REASONS[status] ?? 'Bad Request'}`,
        'Content-Type: application/problem+json',
        `Content-Length: ${Buffer.byteLength(body)}`,
        'X-Content-Type-Options: nosniff',
        'Cache-Control: no-store',
        `X-Request-Id: ${requestId}`,
        'Connection: close',
        '',
        body,
      ].join('\r\n'),
    )
  })
}
