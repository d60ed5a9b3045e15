import fs from 'node:fs'
import { Command, CommanderError, Option } from 'commander'
import QRCode from 'qrcode'
import { checkDeployment, describeTrail } from '../audit/check-deployment.js'
import { ConfigError, loadConfig } from '../config.js'
import { bulkIssue, progressPrinter } from './bulk.js'
import { ApiClient, CliError, EXIT } from './client.js'
import { checkLines, readVerifyInput } from './verify.js'

/** Where the CLI's output goes: human lines, or one JSON document for scripts (`--json`). */
interface Out {
  json: boolean
  /** Prints `human` lines, or `data` as JSON. */
  result(data: unknown, human: string[]): void
}

function readJson(file: string): unknown {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (e) {
    throw new CliError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, EXIT.usage)
  }
  try {
    return JSON.parse(text)
  } catch (e) {
    throw new CliError(`${file} is not JSON: ${(e as Error).message}`, EXIT.usage)
  }
}

const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean)

/**
 * The `medcred` command line: a client of the HTTP API at MEDCRED_URL with MEDCRED_TOKEN (an institution's
 * API key or the admin token), except `audit verify`, which reads the deployment's database and chain.
 * Exit codes: 0 ok, 1 not verified / failed, 2 usage, 3 service unreachable.
 */
export function buildProgram(env: Record<string, string | undefined>, io: { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream }): Command {
  const program = new Command('medcred')
    .description('medcred from the command line: institutions, issuance (one or bulk), offers, status, verification, acceptance, trust, audit')
    .option('--json', 'print one JSON document (for scripts) instead of lines for people')
    .option('--url <url>', 'the service (default: $MEDCRED_URL or http://localhost:3000)')
    .addHelpText('after', '\nEnvironment: MEDCRED_URL, MEDCRED_TOKEN (API key or admin token).\nExit codes: 0 ok, 1 not verified or failed, 2 usage, 3 service unreachable.')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
  const api = () => new ApiClient(program.opts().url ?? env.MEDCRED_URL ?? 'http://localhost:3000', env.MEDCRED_TOKEN)
  const out = (): Out => {
    const json = Boolean(program.opts().json)
    return { json, result: (data, human) => io.stdout.write(json ? JSON.stringify(data, null, 2) + '\n' : human.join('\n') + '\n') }
  }

  const institution = program.command('institution').description('institutions (admin token; replace-key: also the institution itself)')
  institution
    .command('create')
    .description('create an institution with its did:ethr and API key')
    .requiredOption('--name <name>', 'its name')
    .addOption(new Option('--kind <kind>', 'what it is').choices(['board', 'hospital', 'identity-provider']).makeOptionMandatory())
    .option('--jurisdiction <code>', 'ISO 3166-2, e.g. US-TX')
    .action(async (o: { name: string; kind: string; jurisdiction?: string }) => {
      const created = await api().expect([201], 'POST', '/institutions', { name: o.name, kind: o.kind, ...(o.jurisdiction ? { jurisdiction: o.jurisdiction } : {}) })
      out().result(created, [`✓ created ${created.kind} ${created.name}`, `  id:      ${created.id}`, `  did:     ${created.did}`, `  API key: ${created.apiKey}  (shown once: keep it)`])
    })

  institution
    .command('replace-key')
    .description('replace a leaked API key: the old key and its page sessions stop at once; the new key is shown once')
    .argument('<id>', "the institution's id")
    .action(async (id: string) => {
      const replaced = await api().expect([200], 'POST', `/institutions/${encodeURIComponent(id)}/api-key`, {})
      out().result(replaced, [`✓ replaced the API key of ${replaced.kind} ${replaced.name}`, `  API key: ${replaced.apiKey}  (shown once: keep it; the old key no longer works)`])
    })

  program
    .command('issue')
    .description('issue one credential from FILE (what POST /credentials/issue takes as `credential`), or with --bulk one per JSON line')
    .argument('<file>', 'a JSON file, or JSON Lines with --bulk')
    .option('--bulk', 'FILE is JSON Lines: issue one credential per line, resumably')
    .option('--concurrency <n>', 'requests at once with --bulk', (v) => Number.parseInt(v, 10), 8)
    .option('--format <format>', 'jwt_vc_json (default), vc+jwt or dc+sd-jwt')
    .option('--idempotency-key <key>', 'for one credential: a retry with the same key replays the first reply')
    .action(async (file: string, o: { bulk?: boolean; concurrency: number; format?: string; idempotencyKey?: string }) => {
      if (o.bulk) {
        if (!fs.existsSync(file)) throw new CliError(`cannot read ${file}`, EXIT.usage)
        if (!Number.isInteger(o.concurrency) || o.concurrency < 1 || o.concurrency > 64) throw new CliError('--concurrency must be 1 to 64', EXIT.usage)
        const report = await bulkIssue(api(), file, { concurrency: o.concurrency, format: o.format, progress: progressPrinter(io.stderr) })
        out().result(report, [
          `issued ${report.issued} new; ${report.alreadyIssued} already issued by an earlier run; ${report.failed.length} failed (of ${report.lines} lines)`,
          ...report.failed.map((f) => `✗ line ${f.line}: ${f.reason}`),
          `progress kept in ${report.progressFile} (a rerun skips the issued lines)`,
        ])
        if (report.failed.length) process.exitCode = EXIT.failed
        return
      }
      const credential = readJson(file)
      const reply = await api().expect([201], 'POST', '/credentials/issue', { credential, ...(o.format ? { options: { format: o.format } } : {}) }, o.idempotencyKey ? { 'idempotency-key': o.idempotencyKey } : {})
      const vc = reply.verifiableCredential
      out().result(reply, [typeof vc === 'string' ? vc : JSON.stringify(vc, null, 2)])
    })

  program
    .command('offer')
    .description('offer the credential in FILE to a wallet (OID4VCI): prints the offer URI and its QR code')
    .argument('<file>', 'a JSON file: what POST /credentials/issue takes as `credential`')
    .option('--format <format>', 'jwt_vc_json (default) or dc+sd-jwt')
    .option('--tx-code', 'protect the offer with a transaction code (give it to the holder apart)')
    .action(async (file: string, o: { format?: string; txCode?: boolean }) => {
      const created = await api().expect([201], 'POST', '/oid4vci/offers', { credential: readJson(file), ...(o.format ? { format: o.format } : {}), ...(o.txCode ? { txCode: true } : {}) })
      const qr = out().json ? '' : await QRCode.toString(created.offer, { type: 'terminal', small: true })
      out().result(created, [`✓ offer ${created.id} (until ${created.expiresAt})`, created.offer, ...(created.txCode ? [`transaction code: ${created.txCode}`] : []), qr])
    })

  for (const [name, status, what] of [['revoke', 'revoked', 'revoke (final)'], ['suspend', 'suspended', 'suspend'], ['reinstate', 'active', 'reinstate (lift a suspension)']] as const) {
    program
      .command(name)
      .description(`${what} a credential this institution issued`)
      .argument('<credential-id>', 'the credential id (urn:uuid:…)')
      .option('--reason <reason>', 'e.g. disciplinary-action, license-surrendered')
      .action(async (credentialId: string, o: { reason?: string }) => {
        const client = api()
        const current = await client.expect([200], 'GET', `/credentials/${encodeURIComponent(credentialId)}/status`)
        const type = current.entries?.length ? 'StatusList2021Entry' : 'TokenStatusList'
        const result = await client.expect([200], 'POST', '/credentials/status', { credentialId, credentialStatus: [{ type, status }], ...(o.reason ? { reason: o.reason } : {}) })
        out().result(result, [`✓ ${credentialId}: ${result.status ?? status}`])
      })
  }

  program
    .command('verify')
    .description('verify a credential, presentation or SD-JWT in FILE; prints each check')
    .argument('<file>', 'a JWT, SD-JWT, or JSON credential/presentation')
    .option('--challenge <challenge>', 'for a presentation: the challenge it answers')
    .option('--domain <domain>', 'for a presentation: the verifier domain it is bound to')
    .action(async (file: string, o: { challenge?: string; domain?: string }) => {
      if (!fs.existsSync(file)) throw new CliError(`cannot read ${file}`, EXIT.usage)
      const input = readVerifyInput(file, o)
      const reply = await api().call('POST', input.kind === 'credential' ? '/credentials/verify' : '/presentations/verify', input.body)
      if (reply.status !== 200 && !(reply.status === 400 && reply.body?.verified === false)) throw new CliError(`${reply.status}: ${reply.body?.detail ?? 'verification could not run'}`, reply.status >= 500 ? EXIT.unreachable : EXIT.failed, reply.body)
      const verified = reply.body.verified === true
      out().result({ kind: input.kind, ...reply.body }, [...checkLines(reply.body.checks ?? []), verified ? `VERIFIED ${input.kind}` : `NOT VERIFIED: ${reply.body.detail}`])
      if (!verified) process.exitCode = EXIT.failed
    })

  program
    .command('accept')
    .description("accept a credential on another institution's acceptance receipt (hospital API key)")
    .requiredOption('--credential <file>', 'the credential (JWT or JSON)')
    .requiredOption('--receipt <file>', 'the acceptance receipt it was verified under')
    .action(async (o: { credential: string; receipt: string }) => {
      const read = (f: string) => {
        const t = fs.readFileSync(f, 'utf8').trim()
        return t.startsWith('{') ? JSON.parse(t) : t
      }
      const reply = await api().call('POST', '/acceptances', { verifiableCredential: read(o.credential), receipt: read(o.receipt) })
      if (reply.status === 201) {
        out().result(reply.body, [...checkLines(reply.body.checks ?? []), `ACCEPTED ${reply.body.acceptanceId}: ${reply.body.note}`])
        return
      }
      if (reply.body?.checks) out().result(reply.body, [...checkLines(reply.body.checks), `NOT ACCEPTED: ${reply.body.detail}`])
      else throw new CliError(`${reply.status}: ${reply.body?.detail ?? 'not accepted'}`, reply.status >= 500 ? EXIT.unreachable : EXIT.failed, reply.body)
      process.exitCode = EXIT.failed
    })

  const trust = program.command('trust').description('the trust registry (admin token)')
  trust
    .command('add')
    .description('trust an issuer DID for credential types (and jurisdictions)')
    .argument('<did>', 'the issuer DID')
    .requiredOption('--types <types>', 'comma-separated credential types', list)
    .option('--jurisdictions <codes>', 'comma-separated ISO 3166-2 codes', list)
    .action(async (did: string, o: { types: string[]; jurisdictions?: string[] }) => {
      const added = await api().expect([201], 'POST', '/trust/issuers', { did, credentialTypes: o.types, ...(o.jurisdictions ? { jurisdictions: o.jurisdictions } : {}) })
      out().result(added, [`✓ trusted ${did} for ${o.types.join(', ')}${o.jurisdictions ? ` in ${o.jurisdictions.join(', ')}` : ''}`])
    })
  trust
    .command('list')
    .description('the trusted issuers')
    .action(async () => {
      const listed = await api().expect([200], 'GET', '/trust/issuers')
      const issuers: { did: string; credentialTypes: string[]; jurisdictions?: string[] }[] = Array.isArray(listed) ? listed : (listed.issuers ?? [])
      out().result(listed, issuers.length ? issuers.map((i) => `${i.did}  ${i.credentialTypes.join(',')}  ${(i.jurisdictions ?? []).join(',') || '(any jurisdiction)'}`) : ['(no trusted issuers)'])
    })

  program
    .command('audit')
    .description('the audit trail')
    .command('verify')
    .description("re-walk the deployment's audit trail against the chain (the deployment's own env: DATA_DIR, DATABASE_URL, ETHR_*)")
    .option('--did <did>', 'the audit DID recorded at the deployment start')
    .action(async (o: { did?: string }) => {
      let config
      try {
        config = loadConfig(env)
      } catch (e) {
        if (e instanceof ConfigError) throw new CliError(e.message, EXIT.usage)
        throw e
      }
      const checked = await checkDeployment(config, o.did)
      if (checked.outcome === 'unavailable') throw new CliError(checked.message, EXIT.unreachable)
      out().result(checked.report, describeTrail(checked.report, checked.where))
      if (checked.outcome === 'broken') process.exitCode = EXIT.failed
    })

  return program
}

/** Runs the CLI on `argv`; resolves to the exit code. */
export async function runCli(argv: string[], env: Record<string, string | undefined>, io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const program = buildProgram(env, io)
  try {
    await program.parseAsync(argv, { from: 'user' })
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok
  } catch (e) {
    if (e instanceof CommanderError) return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help' ? EXIT.ok : EXIT.usage
    if (e instanceof CliError) {
      if (program.opts().json) io.stdout.write(JSON.stringify({ error: e.message, exitCode: e.exitCode, ...(e.problem ? { problem: e.problem } : {}) }) + '\n')
      io.stderr.write(`medcred: ${e.message}\n`)
      return e.exitCode
    }
    io.stderr.write(`medcred: ${(e as Error)?.message ?? e}\n`)
    return EXIT.failed
  }
}
