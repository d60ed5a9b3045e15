import type { Logger } from './api/problem.js'

/** One JSON line per event on stderr. Never log JWTs, keys or patient data. */
export function jsonLogger(out: NodeJS.WritableStream = process.stderr): Logger {
  const write = (level: string, message: string, fields?: Record<string, unknown>) =>
    out.write(JSON.stringify({ time: new Date().toISOString(), level, message, ...fields }) + '\n')
  return {
    info: (m, f) => write('info', m, f),
    error: (m, f) => write('error', m, f),
  }
}

export const silentLogger: Logger = { info: () => {}, error: () => {} }
