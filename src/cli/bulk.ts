import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { problemText, type ApiClient } from './client.js'

export interface BulkLineFailure {
  line: number
  status?: number
  reason: string
}

export interface BulkReport {
  file: string
  lines: number
  issued: number
  /** Lines an earlier run already issued (from the progress file): skipped, nothing sent. */
  alreadyIssued: number
  failed: BulkLineFailure[]
  progressFile: string
}

/** Where a bulk run records the lines it issued, so the next run resumes after them. */
export function progressFileOf(file: string): string {
  return `${file}.medcred-progress.jsonl`
}

/**
 * The `Idempotency-Key` of one line: derived from the file's name and the line number, so a rerun (even
 * without the progress file) replays instead of issuing twice, and a line whose content changed since is
 * refused by the service (409) rather than issued again.
 */
export function lineKey(file: string, line: number): string {
  const fileId = createHash('sha256').update(path.basename(file)).digest('hex').slice(0, 24)
  return `medcred-bulk-${fileId}-${line}`
}

/**
 * Issues one credential per non-empty line of a JSON Lines file (each line what `POST /credentials/issue`
 * takes as `credential`), `concurrency` at a time, skipping lines the progress file says are done.
 */
export async function bulkIssue(
  api: ApiClient,
  file: string,
  opts: { concurrency: number; format?: string; progress: (done: number, total: number, failed: number) => void },
): Promise<BulkReport> {
  const text = fs.readFileSync(file, 'utf8')
  const lines = text.split('\n').map((l, i) => ({ line: i + 1, text: l.trim() })).filter((l) => l.text && !l.text.startsWith('#'))
  const progressFile = progressFileOf(file)
  const done = new Set<number>()
  if (fs.existsSync(progressFile)) {
    for (const l of fs.readFileSync(progressFile, 'utf8').split('\n')) {
      if (!l) continue
      try {
        done.add((JSON.parse(l) as { line: number }).line)
      } catch {
        // a torn last line of an interrupted run: that line is sent again under its idempotency key
      }
    }
  }
  const todo = lines.filter((l) => !done.has(l.line))
  const record = fs.openSync(progressFile, 'a')
  const failed: BulkLineFailure[] = []
  let issued = 0
  let next = 0
  const worker = async () => {
    while (next < todo.length) {
      const { line, text: raw } = todo[next++]
      let credential: unknown
      try {
        credential = JSON.parse(raw)
      } catch (e) {
        failed.push({ line, reason: `not JSON: ${(e as Error).message}` })
        opts.progress(issued + failed.length, todo.length, failed.length)
        continue
      }
      const reply = await api.call('POST', '/credentials/issue', { credential, ...(opts.format ? { options: { format: opts.format } } : {}) }, { 'idempotency-key': lineKey(file, line) })
      if (reply.status === 201) {
        issued++
        const vc = reply.body?.verifiableCredential
        const id = typeof vc === 'object' && vc ? vc.id : undefined
        fs.writeSync(record, JSON.stringify({ line, ...(id ? { id } : {}) }) + '\n')
      } else {
        failed.push({ line, status: reply.status, reason: problemText(reply) })
      }
      opts.progress(issued + failed.length, todo.length, failed.length)
    }
  }
  try {
    await Promise.all(Array.from({ length: Math.max(1, opts.concurrency) }, worker))
  } finally {
    fs.closeSync(record)
  }
  failed.sort((a, b) => a.line - b.line)
  return { file, lines: lines.length, issued, alreadyIssued: lines.length - todo.length, failed, progressFile }
}

/** A progress line: count, rate and ETA, redrawn in place on a terminal, every 10% otherwise. */
export function progressPrinter(out: NodeJS.WriteStream): (done: number, total: number, failed: number) => void {
  const started = Date.now()
  let lastDecile = -1
  return (done, total, failed) => {
    const seconds = (Date.now() - started) / 1000
    const rate = seconds > 0 ? done / seconds : 0
    const eta = rate > 0 ? Math.ceil((total - done) / rate) : 0
    const width = 30
    const filled = total ? Math.round((done / total) * width) : width
    const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} (${failed} failed) ${rate.toFixed(1)}/s ETA ${eta}s`
    if (out.isTTY) out.write(`\r${line}${done === total ? '\n' : ''}`)
    else {
      const decile = total ? Math.floor((done / total) * 10) : 10
      if (decile !== lastDecile) {
        lastDecile = decile
        out.write(line + '\n')
      }
    }
  }
}
