import type { Context } from 'koa'
import type { Verdict } from '../../verification/checks.js'
import { sendProblem } from '../problem.js'
import { json } from '../reply.js'

/** A verification answer: 200 `{verified: true, checks, warnings}`, or a 400 problem naming the failed checks. */
export function sendVerdict(
  ctx: Context,
  result: Verdict,
  what: 'credential' | 'presentation',
  errors: { check: string; detail: string }[],
  extra: Record<string, unknown> = {},
): void {
  if (result.verified) {
    json(ctx, 200, { verified: true, checks: result.checks, warnings: [], ...extra })
    return
  }
  const first = errors[0]
  sendProblem(ctx, 'verification-failed', `the ${what} is not verified: ${first ? `${first.check}: ${first.detail}` : 'no checks ran'}`, {
    verified: false,
    checks: result.checks,
    errors,
    ...extra,
  })
}
