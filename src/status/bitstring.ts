import { gunzipSync, gzipSync } from 'node:zlib'

/**
 * The status list bitstring of W3C Status List 2021 / Bitstring Status List: index 0 is the left-most
 * (most significant) bit of the first byte; the list travels gzip-compressed and base64url-encoded
 * (Bitstring Status List adds the multibase prefix `u`).
 */
export class Bitstring {
  private constructor(readonly bytes: Uint8Array) {}

  static empty(length: number): Bitstring {
    if (length % 8 !== 0) throw new Error('a status list length must be a multiple of 8')
    return new Bitstring(new Uint8Array(length / 8))
  }

  static fromBytes(bytes: Uint8Array): Bitstring {
    return new Bitstring(Uint8Array.from(bytes))
  }

  /** Decodes `encodedList` (with or without the multibase `u`), bounded so a gzip bomb cannot exhaust memory. */
  static decode(encoded: string, maxBytes = 16 * 1024 * 1024): Bitstring {
    const b64 = encoded.startsWith('u') ? encoded.slice(1) : encoded
    return new Bitstring(new Uint8Array(gunzipSync(Buffer.from(b64, 'base64url'), { maxOutputLength: maxBytes })))
  }

  get length(): number {
    return this.bytes.length * 8
  }

  get(index: number): boolean {
    this.check(index)
    return (this.bytes[index >> 3] & (0x80 >> (index & 7))) !== 0
  }

  set(index: number, value: boolean): void {
    this.check(index)
    if (value) this.bytes[index >> 3] |= 0x80 >> (index & 7)
    else this.bytes[index >> 3] &= ~(0x80 >> (index & 7))
  }

  /** gzip + base64url, as `encodedList` of a StatusList2021 credential. */
  encode(): string {
    return gzipSync(this.bytes).toString('base64url')
  }

  private check(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) {
      throw new RangeError(`status index ${index} is outside the list (0..${this.length - 1})`)
    }
  }
}
