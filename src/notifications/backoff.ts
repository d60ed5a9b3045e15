/**
 * How long to wait before attempt `attempt + 1`, after `attempt` failed ones: exponential from `baseMs`, capped
 * at `maxMs`, with "equal jitter" (half fixed, half random) so a receiver that was down is not hit by every
 * queued delivery in the same instant when it comes back.
 */
export function retryDelayMs(attempt: number, opts: { baseMs: number; maxMs: number }, random: () => number = Math.random): number {
  const exponential = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.max(0, attempt - 1))
  return Math.round(exponential / 2 + random() * (exponential / 2))
}
