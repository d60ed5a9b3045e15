import { isIP } from 'node:net'

/**
 * Why an address is not a public unicast one, or undefined when it is. Webhook targets must be public so a
 * subscriber cannot make the service call into its own network (SSRF): loopback, private, link-local (cloud
 * metadata at 169.254.169.254), unique-local, multicast and the other special-purpose ranges
 * (IANA IPv4/IPv6 special-purpose registries) are all refused.
 */
export type AddressClass =
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'unique-local'
  | 'multicast'
  | 'unspecified'
  | 'shared'
  | 'documentation'
  | 'reserved'

type Range = readonly [prefix: string, bits: number, cls: AddressClass]

const V4: readonly Range[] = [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'shared'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, 'reserved'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
]

const V6: readonly Range[] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['::', 8, 'reserved'], // IPv4-compatible and other legacy forms; mapped/NAT64 addresses are unwrapped first
  ['64:ff9b:1::', 48, 'private'],
  ['100::', 64, 'reserved'],
  ['2001::', 23, 'reserved'],
  ['2001:db8::', 32, 'documentation'],
  ['2002::', 16, 'reserved'], // 6to4 can embed any IPv4 address, private ones included
  ['3fff::', 20, 'documentation'],
  ['5f00::', 16, 'reserved'],
  ['fc00::', 7, 'unique-local'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'link-local'],
  ['ff00::', 8, 'multicast'],
]

function v4Bytes(ip: string): number[] {
  return ip.split('.').map(Number)
}

function v6Bytes(ip: string): number[] {
  let text = ip
  const tail: number[] = []
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (dotted) {
    tail.push(...v4Bytes(dotted[1]))
    text = text.slice(0, -dotted[1].length) + '0:0'
  }
  const [head, rest] = text.split('::') as [string, string | undefined]
  const groups = (s: string) => (s ? s.split(':').map((g) => parseInt(g, 16)) : [])
  const h = groups(head)
  const r = rest === undefined ? [] : groups(rest)
  const all = rest === undefined ? h : [...h, ...new Array(8 - h.length - r.length).fill(0), ...r]
  const bytes = all.flatMap((g) => [g >> 8, g & 0xff])
  if (tail.length) bytes.splice(12, 4, ...tail)
  return bytes
}

function inRange(bytes: number[], prefix: number[], bits: number): boolean {
  for (let i = 0; i < bits; i += 8) {
    const take = Math.min(8, bits - i)
    const mask = (0xff << (8 - take)) & 0xff
    if ((bytes[i / 8] & mask) !== (prefix[i / 8] & mask)) return false
  }
  return true
}

function classifyBytes(bytes: number[], ranges: readonly Range[], parse: (s: string) => number[]): AddressClass | undefined {
  return ranges.find(([prefix, bits]) => inRange(bytes, parse(prefix), bits))?.[2]
}

/** The class of a non-public IP address, undefined for a public one; throws for a string that is not an IP. */
export function classifyAddress(address: string): AddressClass | undefined {
  const ip = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '')
  const family = isIP(ip)
  if (family === 4) return classifyBytes(v4Bytes(ip), V4, v4Bytes)
  if (family !== 6) throw new TypeError(`not an IP address: ${address}`)
  const bytes = v6Bytes(ip)
  // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) reach an IPv4 host: judge that host.
  const mapped = inRange(bytes, v6Bytes('::ffff:0:0'), 96) || inRange(bytes, v6Bytes('64:ff9b::'), 96)
  if (mapped) return classifyBytes(bytes.slice(12), V4, v4Bytes)
  return classifyBytes(bytes, V6, v6Bytes)
}
