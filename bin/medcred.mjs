#!/usr/bin/env node
// The `medcred` CLI (src/cli/main.ts), run through tsx so a clone needs no build step.
import { register } from 'tsx/esm/api'

register()
// A closed pipe (`medcred … | head`) ends the output, not with a stack trace.
process.stdout.on('error', (e) => process.exit(e.code === 'EPIPE' ? 0 : 1))
const { runCli } = await import('../src/cli/main.ts')
process.exitCode = await runCli(process.argv.slice(2), process.env)
