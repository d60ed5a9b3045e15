import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { loadConfig, type Config } from '../../src/config.js'
import { jsonLogger } from '../../src/log.js'
import type { Logger } from '../../src/api/problem.js'
import { startMedcred, type Medcred } from '../../src/service.js'
import { createTestDatabase, type TestDatabase } from './database.js'

export interface TestService extends Medcred {
  dataDir: string
  database: TestDatabase
  api: ApiClient
  /** Every line the service logged (JSON, as `npm start` writes them), for tests that check what logs hold. */
  logs: string[]
  /** Stops the service and removes its data dir and database. */
  dispose(): Promise<void>
}

/**
 * Starts the real service through the same composition root as `npm start`: a local anvil node with the
 * registry deployed, a fresh SQLite file or PostgreSQL database, the Veramo agent from agent.yml.
 */
export async function startTestService(
  opts: { dataDir?: string; database?: TestDatabase; env?: Record<string, string> } = {},
): Promise<TestService> {
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'medcred-test-'))
  const database = opts.database ?? (await createTestDatabase())
  const config: Config = loadConfig({
    PORT: '0',
    DATA_DIR: dataDir,
    DATABASE_URL: database.url,
    RATE_LIMIT_PER_MINUTE: '100000',
    STATUS_LIST_ALLOW_LOOPBACK: '1',
    WEBHOOKS_ALLOW_LOOPBACK: '1',
    ...opts.env,
  })
  const logs: string[] = []
  const medcred = await startMedcred(config, capturingLogger(logs))
  return {
    ...medcred,
    dataDir,
    database,
    logs,
    api: new ApiClient(medcred.url, medcred.secrets.adminToken),
    async dispose() {
      await medcred.stop()
      await database.drop()
      fs.rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/** The service's own JSON logger, writing into `lines` instead of stderr. */
function capturingLogger(lines: string[]): Logger {
  return jsonLogger({ write: (chunk: string) => (lines.push(chunk), true) } as unknown as NodeJS.WritableStream)
}

export interface Reply<T = any> {
  status: number
  type: string
  body: T
  headers: Headers
}

/** A thin HTTP client for tests: JSON in, JSON out, status and content type kept. */
/** The DID of each institution a client created, by API key (kept across a restart of the service in a test). */
const didOfKey = new Map<string, string>()

export class ApiClient {
  constructor(
    readonly url: string,
    readonly adminToken: string,
  ) {}

  /**
   * Like the CLI, this client is a convenience path: a credential it sends to `POST /credentials/issue`
   * without an `issuer` names the calling institution (whose key it holds), the way a board's own client
   * would. The endpoint itself requires `issuer` and `@context`; `exact: true` sends the body as given.
   */
  async request<T = any>(
    method: string,
    p: string,
    opts: { body?: unknown; raw?: string; token?: string; headers?: Record<string, string>; exact?: boolean; timeoutMs?: number } = {},
  ): Promise<Reply<T>> {
    const headers: Record<string, string> = { ...opts.headers }
    if (opts.token) headers.authorization = `Bearer ${opts.token}`
    let body: string | undefined
    if (opts.raw !== undefined) body = opts.raw
    else if (opts.body !== undefined) body = JSON.stringify(opts.exact ? opts.body : this.withIssuer(p, opts.body, opts.token))
    if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json'
    // A request not answered within `timeoutMs` rejects (a TimeoutError), for tests that must tell a hang apart.
    const res = await fetch(this.url + p, { method, headers, body, signal: opts.timeoutMs ? AbortSignal.timeout(opts.timeoutMs) : undefined })
    const text = await res.text()
    let parsed: unknown = text
    try {
      parsed = text ? JSON.parse(text) : undefined
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: parsed as T, headers: res.headers }
  }

  private withIssuer(p: string, body: any, token?: string): unknown {
    const did = token && didOfKey.get(token)
    const credential = body?.credential
    if (p !== '/credentials/issue' || !did || !credential || typeof credential !== 'object' || Array.isArray(credential) || 'issuer' in credential) return body
    return { ...body, credential: { ...credential, issuer: did } }
  }

  post<T = any>(p: string, body: unknown, token?: string) {
    return this.request<T>('POST', p, { body, token })
  }

  get<T = any>(p: string, token?: string) {
    return this.request<T>('GET', p, { token })
  }

  /** Puts `did` in the trust registry for these credential types (and jurisdictions). */
  async trustIssuer(did: string, credentialTypes: string[], jurisdictions: string[] = []) {
    const res = await this.post('/trust/issuers', { did, credentialTypes, jurisdictions }, this.adminToken)
    if (res.status !== 201) throw new Error(`trusting ${did} failed: ${res.status} ${JSON.stringify(res.body)}`)
  }

  /** A board the consortium trusts for licenses, certifications and DEA registrations in its jurisdiction. */
  async createTrustedBoard(name: string, jurisdiction = 'US-TX') {
    const board = await this.createInstitution({ name, kind: 'board', jurisdiction })
    await this.trustIssuer(board.did, ['ClinicianLicenseCredential', 'BoardCertificationCredential', 'DEARegistrationCredential'], [jurisdiction])
    return board
  }

  /** An identity provider the consortium trusts to issue patients' identity credentials. */
  async createTrustedIdentityProvider(name: string) {
    const idp = await this.createInstitution({ name, kind: 'identity-provider' })
    await this.trustIssuer(idp.did, ['PatientIdentityCredential'])
    return idp
  }

  /** Hospital A, a verifier the consortium trusts (its receipts count), and hospital B, which relies on them. */
  async createHospitalPair() {
    const hospitalA = await this.createInstitution({ name: 'Hospital A', kind: 'hospital' })
    const hospitalB = await this.createInstitution({ name: 'Hospital B', kind: 'hospital' })
    const res = await this.post('/trust/verifiers', { did: hospitalA.did }, this.adminToken)
    if (res.status !== 201) throw new Error(`trusting ${hospitalA.did} as a verifier failed: ${res.status} ${JSON.stringify(res.body)}`)
    return { hospitalA, hospitalB }
  }

  /** Creates an institution with the admin token; returns its record and API key. */
  async createInstitution(input: { name: string; kind: string; jurisdiction?: string }) {
    const res = await this.post('/institutions', input, this.adminToken)
    if (res.status !== 201) throw new Error(`creating ${input.name} failed: ${res.status} ${JSON.stringify(res.body)}`)
    didOfKey.set(res.body.apiKey, res.body.did)
    return res.body as { id: string; did: string; apiKey: string; name: string; kind: string }
  }
}
