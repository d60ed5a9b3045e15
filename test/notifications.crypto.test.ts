import { describe, expect, it } from 'vitest'
import { retryDelayMs } from '../src/notifications/backoff.js'
import { SecretBox } from '../src/notifications/secret-box.js'
import { generateWebhookSecret, signPayload, verifySignature } from '../src/notifications/signature.js'

const KMS = 'ab'.repeat(32)

describe('SecretBox', () => {
  it('round-trips a secret bound to its row', () => {
    const box = new SecretBox(KMS, 'webhook-secret')
    const sealed = box.seal('whsec_abc', 'row-1')
    expect(sealed).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/)
    expect(sealed).not.toContain('whsec_abc')
    expect(box.open(sealed, 'row-1')).toBe('whsec_abc')
  })

  it('uses a fresh IV each time', () => {
    const box = new SecretBox(KMS, 'webhook-secret')
    expect(box.seal('same', 'r')).not.toBe(box.seal('same', 'r'))
  })

  it('refuses a ciphertext moved to another row, another purpose or another KMS secret', () => {
    const sealed = new SecretBox(KMS, 'webhook-secret').seal('whsec_abc', 'row-1')
    expect(() => new SecretBox(KMS, 'webhook-secret').open(sealed, 'row-2')).toThrow()
    expect(() => new SecretBox(KMS, 'other-purpose').open(sealed, 'row-1')).toThrow()
    expect(() => new SecretBox('cd'.repeat(32), 'webhook-secret').open(sealed, 'row-1')).toThrow()
  })

  it('refuses a tampered ciphertext and a malformed value', () => {
    const box = new SecretBox(KMS, 'webhook-secret')
    const [v, iv, ct, tag] = box.seal('whsec_abc', 'r').split('.')
    const flipped = (ct[0] === 'A' ? 'B' : 'A') + ct.slice(1)
    expect(() => box.open([v, iv, flipped, tag].join('.'), 'r')).toThrow()
    expect(() => box.open('whsec_abc', 'r')).toThrow(/not a sealed secret/)
  })

  it('refuses a KMS secret shorter than 32 bytes', () => {
    expect(() => new SecretBox('abcd', 'p')).toThrow(/32 bytes/)
  })
})

describe('webhook signatures', () => {
  const secret = generateWebhookSecret()
  const body = '{"id":"n1","event":"credential.revoked"}'

  it('verifies a fresh signature of the exact body', () => {
    expect(secret).toMatch(/^whsec_[\w-]{43}$/)
    const header = signPayload(secret, body)
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/)
    expect(verifySignature(secret, body, header)).toBe(true)
  })

  it.each([
    ['another body', (h: string) => [secret, body.replace('n1', 'n2'), h]],
    ['another secret', (h: string) => [generateWebhookSecret(), body, h]],
    ['a changed timestamp', (h: string) => [secret, body, h.replace(/t=(\d+)/, (_, t) => `t=${Number(t) - 1}`)]],
    ['no v1 part', (h: string) => [secret, body, h.split(',')[0]]],
    ['garbage', () => [secret, body, 'nonsense']],
  ])('rejects %s', (_name, make) => {
    const [s, b, h] = make(signPayload(secret, body)) as [string, string, string]
    expect(verifySignature(s, b, h)).toBe(false)
  })

  it('rejects a signature older than the tolerance (replay)', () => {
    const old = Math.floor(Date.now() / 1000) - 600
    expect(verifySignature(secret, body, signPayload(secret, body, old))).toBe(false)
    expect(verifySignature(secret, body, signPayload(secret, body, old), 900)).toBe(true)
  })
})

describe('retryDelayMs', () => {
  const opts = { baseMs: 100, maxMs: 1000 }
  it('doubles per attempt within [half, full] of the exponential, capped', () => {
    expect(retryDelayMs(1, opts, () => 0)).toBe(50)
    expect(retryDelayMs(1, opts, () => 1)).toBe(100)
    expect(retryDelayMs(3, opts, () => 0)).toBe(200)
    expect(retryDelayMs(3, opts, () => 1)).toBe(400)
    expect(retryDelayMs(10, opts, () => 1)).toBe(1000)
    expect(retryDelayMs(60, opts, () => 0.5)).toBe(750)
  })
})
