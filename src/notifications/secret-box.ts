import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'

const VERSION = 'v1'

/**
 * AES-256-GCM for secrets the service must use again (a webhook's signing secret cannot be hashed: the
 * service signs with it). The key is derived with HKDF from the KMS secret and a purpose label, so it is
 * never stored and differs from the key that protects the private keys. `context` (e.g. the row id) is bound
 * as associated data, so a ciphertext copied onto another row does not decrypt.
 */
export class SecretBox {
  private readonly key: Buffer

  constructor(kmsSecretKeyHex: string, purpose: string) {
    const ikm = Buffer.from(kmsSecretKeyHex.replace(/^0x/, ''), 'hex')
    if (ikm.length < 32) throw new Error('the KMS secret must be at least 32 bytes')
    this.key = Buffer.from(hkdfSync('sha256', ikm, Buffer.from('medcred'), Buffer.from(`medcred/${purpose}/${VERSION}`), 32))
  }

  /** `v1.<iv>.<ciphertext>.<tag>`, each base64url. */
  seal(plaintext: string, context: string): string {
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', this.key, iv)
    cipher.setAAD(Buffer.from(context, 'utf8'))
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
    return [VERSION, iv, ct, cipher.getAuthTag()].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.')
  }

  /** Throws when the value was not sealed by this key for this context. */
  open(sealed: string, context: string): string {
    const [version, iv, ct, tag] = sealed.split('.')
    if (version !== VERSION || !iv || !ct || !tag) throw new Error('not a sealed secret')
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'))
    decipher.setAAD(Buffer.from(context, 'utf8'))
    decipher.setAuthTag(Buffer.from(tag, 'base64url'))
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8')
  }
}
