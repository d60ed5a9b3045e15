import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

export interface Secrets {
  kmsSecretKey: string
  adminToken: string
  /** Where the generated secrets live, or undefined when both came from the environment. */
  file?: string
  /** True when this call generated the admin token (first start). */
  adminTokenGenerated: boolean
}

/**
 * Returns the KMS secret and admin token: from the environment when given, else generated once into
 * `<dataDir>/secrets.json` (mode 0600) and read back on every later start, so keys stay decryptable.
 */
export function ensureSecrets(dataDir: string, given: { kmsSecretKey?: string; adminToken?: string }): Secrets {
  if (given.kmsSecretKey && given.adminToken) {
    return { kmsSecretKey: given.kmsSecretKey, adminToken: given.adminToken, adminTokenGenerated: false }
  }
  const file = path.join(dataDir, 'secrets.json')
  const stored: Partial<Record<'kmsSecretKey' | 'adminToken', string>> = fs.existsSync(file)
    ? JSON.parse(fs.readFileSync(file, 'utf8'))
    : {}
  const adminTokenGenerated = !given.adminToken && !stored.adminToken
  const next = {
    kmsSecretKey: stored.kmsSecretKey ?? randomBytes(32).toString('hex'),
    adminToken: stored.adminToken ?? `mca_${randomBytes(32).toString('base64url')}`,
  }
  if (next.kmsSecretKey !== stored.kmsSecretKey || next.adminToken !== stored.adminToken) {
    fs.mkdirSync(dataDir, { recursive: true })
    const tmp = `${file}.${process.pid}.tmp`
    fs.writeFileSync(tmp, JSON.stringify(next, null, 2) + '\n', { mode: 0o600 })
    fs.renameSync(tmp, file)
  }
  return {
    kmsSecretKey: given.kmsSecretKey ?? next.kmsSecretKey,
    adminToken: given.adminToken ?? next.adminToken,
    file,
    adminTokenGenerated,
  }
}
