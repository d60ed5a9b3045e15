import fc from 'fast-check'

/**
 * Generators for the property-based tests of the HTTP surface (test/properties.*.test.ts).
 *
 * A request body is modelled as a JSON *text* tree, not a JavaScript value, so that what JSON.stringify can
 * never write is still sent: duplicate keys, `__proto__` as an own key, numbers past a double (`1e400`),
 * lone surrogates escaped as `\ud800`. Each endpoint gives a valid template body; a case is that template
 * with a few mutations at random paths, or a hostile value in its place, sent in one of several encodings
 * and content types.
 */

/** How many runs and which seed: fixed in CI, `FC_RUNS=2000 FC_SEED=123 npx vitest run test/properties.*` for longer. */
export const FC_RUNS = Number(process.env.FC_RUNS ?? 30)
export const FC_SEED = Number(process.env.FC_SEED ?? 20261201)

/** A JSON text node: what the serializer below writes verbatim. */
export type JsonNode =
  | { t: 'raw'; text: string }
  | { t: 'str'; value: string }
  | { t: 'arr'; items: JsonNode[] }
  | { t: 'obj'; entries: [string, JsonNode][] }

/** JSON text of a string, escaping every non-ASCII UTF-16 unit (so a lone surrogate survives as `\udXXX`). */
function quote(s: string): string {
  let out = '"'
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 0x22) out += '\\"'
    else if (c === 0x5c) out += '\\\\'
    else if (c < 0x20 || c > 0x7e) out += `\\u${c.toString(16).padStart(4, '0')}`
    else out += s[i]
  }
  return out + '"'
}

export function serialize(n: JsonNode): string {
  switch (n.t) {
    case 'raw':
      return n.text
    case 'str':
      return quote(n.value)
    case 'arr':
      return `[${n.items.map(serialize).join(',')}]`
    case 'obj':
      return `{${n.entries.map(([k, v]) => `${quote(k)}:${serialize(v)}`).join(',')}}`
  }
}

/** The text tree of a plain JSON value (a template body). */
export function fromValue(v: unknown): JsonNode {
  if (typeof v === 'string') return { t: 'str', value: v }
  if (Array.isArray(v)) return { t: 'arr', items: v.map(fromValue) }
  if (v && typeof v === 'object') return { t: 'obj', entries: Object.entries(v).map(([k, x]) => [k, fromValue(x)]) }
  return { t: 'raw', text: JSON.stringify(v ?? null) }
}

/** Every path into a tree (the root is `[]`): each field of a template, at any depth. */
export function pathsOf(n: JsonNode, at: (string | number)[] = []): (string | number)[][] {
  const here = [at]
  if (n.t === 'arr') return here.concat(...n.items.map((c, i) => pathsOf(c, [...at, i])))
  if (n.t === 'obj') return here.concat(...n.entries.map(([, c], i) => pathsOf(c, [...at, i])))
  return here
}

function edit(n: JsonNode, path: (string | number)[], f: (n: JsonNode) => JsonNode | undefined): JsonNode | undefined {
  if (path.length === 0) return f(n)
  const [i, ...rest] = path as number[]
  if (n.t === 'arr') {
    const items = [...n.items]
    const changed = edit(items[i], rest, f)
    if (changed === undefined) items.splice(i, 1)
    else items[i] = changed
    return { t: 'arr', items }
  }
  if (n.t === 'obj') {
    const entries = [...n.entries]
    const changed = edit(entries[i][1], rest, f)
    if (changed === undefined) entries.splice(i, 1)
    else entries[i] = [entries[i][0], changed]
    return { t: 'obj', entries }
  }
  return n
}

/** Lone surrogates, NUL, controls, bidi and BOM characters, long and combining text. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('', ' ', '\u0000', 'a\u0000b', '\ud800', '\udfff', 'x\ud83d', '\ude00x', '\ufeff', '\u202e', '\u2028', 'null', 'true', '0', '-1', 'NaN'),
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'),
  fc.constantFrom('did:ethr:0x0', 'did:key:z', 'urn:uuid:', 'US-TX', 'US-tx', '1234567893', '1234567890', '2026-02-30', '9999-12-31T23:59:59Z', '0000-01-01T00:00:00Z'),
  fc.constantFrom('a.b.c', 'eyJhbGciOiJub25lIn0.e30.', 'eyJhbGciOiJFUzI1NksifQ.eyJpc3MiOjF9.AAAA', '../../etc/passwd', '%00', '<script>', "'; DROP TABLE x;--"),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.integer({ min: 100, max: 600_000 }).map((n) => 'A'.repeat(n)),
)

/** Numbers at and past every boundary, as raw JSON text (so `1e400`, `-0` and `1.0` reach the parser as written). */
export const hostileNumberText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('0', '-0', '1.0', '1e400', '-1e400', '1e-400', '9007199254740993', '-9007199254740993', '1e308', '123456789012345678901234567890', '0.1', '-1', '3650', '3651', '2147483648'),
  fc.double().filter(Number.isFinite).map((d) => JSON.stringify(d)),
  fc.integer().map(String),
)

/** Arrays or objects nested to around the body depth limit (32), and far past it. */
export const deepNode: fc.Arbitrary<JsonNode> = fc
  .tuple(fc.constantFrom(1, 30, 31, 32, 33, 200, 5_000), fc.boolean())
  .map(([depth, arrays]) => ({ t: 'raw', text: arrays ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth) }))

/** Keys that mean something to JavaScript or to medcred. */
export const hostileKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'then', 'id', 'type', 'proof', 'credentialStatus', 'iss', 'vc', '', '\u0000', '\ud800', '@context'),
  fc.string({ maxLength: 12 }),
)

/** Any hostile JSON value. */
export const hostileNode: fc.Arbitrary<JsonNode> = fc.letrec<{ node: JsonNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    hostileString.map((value): JsonNode => ({ t: 'str', value })),
    hostileNumberText.map((text): JsonNode => ({ t: 'raw', text })),
    fc.constantFrom<JsonNode>({ t: 'raw', text: 'null' }, { t: 'raw', text: 'true' }, { t: 'raw', text: 'false' }, { t: 'arr', items: [] }, { t: 'obj', entries: [] }),
    deepNode,
    fc.array(tie('node'), { maxLength: 4 }).map((items): JsonNode => ({ t: 'arr', items })),
    fc.array(fc.tuple(hostileKey, tie('node')), { maxLength: 4 }).map((entries): JsonNode => ({ t: 'obj', entries })),
  ),
})).node

/** One change to a template body. */
export type Mutation =
  | { kind: 'replace'; at: number; with: JsonNode }
  | { kind: 'delete'; at: number }
  | { kind: 'addKey'; at: number; key: string; value: JsonNode }
  | { kind: 'duplicate'; at: number; value: JsonNode }
  | { kind: 'wrap'; at: number }

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), with: hostileNode }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('addKey' as const), at: fc.nat(), key: hostileKey, value: hostileNode }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), value: hostileNode }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('wrap' as const), at: fc.nat() }), weight: 1 },
)

/** Applies `m` to `tree`; `at` picks one of the tree's paths (modulo their number). */
export function applyMutation(tree: JsonNode, m: Mutation): JsonNode {
  const paths = pathsOf(tree)
  const path = paths[m.at % paths.length]
  const parentPath = path.slice(0, -1)
  const index = path[path.length - 1] as number | undefined
  switch (m.kind) {
    case 'replace':
      return edit(tree, path, () => m.with) ?? tree
    case 'delete':
      return path.length ? (edit(tree, path, () => undefined) ?? tree) : tree
    case 'wrap':
      return edit(tree, path, (n) => ({ t: 'arr', items: [n] })) ?? tree
    case 'addKey':
      return edit(tree, path, (n) => (n.t === 'obj' ? { t: 'obj', entries: [...n.entries, [m.key, m.value]] } : n)) ?? tree
    case 'duplicate':
      // The same key again, later in the same object: JSON.parse keeps the last.
      if (index === undefined) return tree
      return (
        edit(tree, parentPath, (p) => (p.t === 'obj' && p.entries[index] ? { t: 'obj', entries: [...p.entries, [p.entries[index][0], m.value]] } : p)) ?? tree
      )
  }
}

/** How the body bytes are put on the wire, and under which Content-Type. */
export interface Encoding {
  charset: 'utf8' | 'latin1' | 'utf16le' | 'bom-utf8' | 'invalid-utf8'
  contentType: string | null
}

export const encoding: fc.Arbitrary<Encoding> = fc.oneof(
  { arbitrary: fc.constant<Encoding>({ charset: 'utf8', contentType: 'application/json' }), weight: 12 },
  {
    arbitrary: fc.record({
      charset: fc.constantFrom('utf8', 'latin1', 'utf16le', 'bom-utf8', 'invalid-utf8') as fc.Arbitrary<Encoding['charset']>,
      contentType: fc.constantFrom(
        'application/json',
        'application/json; charset=utf-8',
        'application/json; charset=utf-16',
        'application/json; charset=latin1',
        'application/ld+json',
        'application/problem+json',
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/xml',
        'application/json, text/html',
        null,
      ),
    }),
    weight: 4,
  },
)

/** The bytes of `text` in `enc`. */
export function encode(text: string, enc: Encoding): Buffer {
  switch (enc.charset) {
    case 'utf8':
      return Buffer.from(text, 'utf8')
    case 'latin1':
      return Buffer.from(text.replace(/"([^"]*)"/, '"$1\u00e9\u00ff"'), 'latin1')
    case 'utf16le':
      return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')])
    case 'bom-utf8':
      return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')])
    case 'invalid-utf8': {
      // An overlong NUL and a stray continuation byte inside the first string.
      const b = Buffer.from(text, 'utf8')
      const q = b.indexOf(0x22)
      return q < 0 ? Buffer.concat([b, Buffer.from([0xc0, 0x80])]) : Buffer.concat([b.subarray(0, q + 1), Buffer.from([0xc0, 0x80, 0x80, 0xfe]), b.subarray(q + 1)])
    }
  }
}

/** A case for an endpoint: a few mutations of its template, or a wholly hostile body, in some encoding. */
export interface BodyCase {
  body: { kind: 'mutated'; mutations: Mutation[] } | { kind: 'hostile'; node: JsonNode } | { kind: 'none' }
  encoding: Encoding
}

export const bodyCase: fc.Arbitrary<BodyCase> = fc.record({
  body: fc.oneof(
    { arbitrary: fc.record({ kind: fc.constant('mutated' as const), mutations: fc.array(mutation, { minLength: 0, maxLength: 3 }) }), weight: 8 },
    { arbitrary: fc.record({ kind: fc.constant('hostile' as const), node: hostileNode }), weight: 2 },
    { arbitrary: fc.constant({ kind: 'none' as const }), weight: 1 },
  ),
  encoding,
})

/** The bytes (or none) a case sends, given the endpoint's template. */
export function bodyBytes(template: unknown, c: BodyCase): Buffer | undefined {
  if (c.body.kind === 'none') return undefined
  const tree = c.body.kind === 'hostile' ? c.body.node : c.body.mutations.reduce(applyMutation, fromValue(template))
  return encode(serialize(tree), c.encoding)
}

/** Path segments for `:id`-style parameters. */
export const hostilePathSegment: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('x', '0', '-1', '00000000-0000-4000-8000-000000000000', '%00', '%ud800', '%ED%A0%80', '%FF', '..', '__proto__', 'constructor', '%2F', 'a'.repeat(5000), 'did%3Aethr%3A0x1'),
  hostileString.filter((s) => s.length > 0 && s.length < 300).map((s) => encodeURIComponent(s.isWellFormed() ? s : s.toWellFormed())),
)

/** Query strings for list endpoints. */
export const hostileQuery: fc.Arbitrary<string> = fc
  .array(fc.tuple(fc.constantFrom('after', 'limit', 'x', '__proto__', 'after[]', 'target', 'patient', 'subject', 'assuranceLevel', 'offer'), fc.oneof(hostileNumberText, hostileString.filter((s) => s.length < 200))), { maxLength: 3 })
  .map((pairs) => pairs.map(([k, v]) => `${k}=${encodeURIComponent(v.isWellFormed() ? v : v.toWellFormed())}`).join('&'))

/** fast-check's report, cut short: a counterexample may hold a 600 kB string. */
export function shortReport<T>(details: fc.RunDetails<T>): void {
  if (details.failed) throw new Error(`${fc.defaultReportMessage(details)?.slice(0, 4000)}\n${String((details.errorInstance as Error)?.message ?? '').slice(0, 4000)}`)
}

/*
 * Forms (`application/x-www-form-urlencoded`, the pages under /web). A form is a list of fields in order, so
 * that what a browser never sends is still sent: a key given twice, a key with no value, a value no
 * percent-encoding of well-formed text can produce.
 */

/** A form's fields in order; a key may repeat. */
export type FormFields = [string, string][]

/**
 * Any hostile field value: the hostile strings, numbers at every boundary written as text, and what a form's
 * own controls send, out of place: a date input's `YYYY-MM-DD` that is no date, a checkbox's `on`, other
 * options of the pages' selects.
 */
export const hostileFormValue: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: hostileString, weight: 4 },
  { arbitrary: hostileNumberText, weight: 1 },
  { arbitrary: fc.constantFrom('2026-13-01', '2026-00-10', '2026-02-29', '0000-00-00', '9999-99-99', '2026-1-1', '+275760-09-13', 'on', 'off', 'revoke', 'reinstate', 'board', 'admin', 'DO'), weight: 1 },
)

/** One change to a template form. */
export type FormMutation =
  | { kind: 'replace'; at: number; with: string }
  | { kind: 'delete'; at: number }
  | { kind: 'add'; key: string; value: string }
  | { kind: 'repeat'; at: number; value: string }

export const formMutation: fc.Arbitrary<FormMutation> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), with: hostileFormValue }), weight: 5 },
  { arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('add' as const), key: hostileKey, value: hostileFormValue }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), value: hostileFormValue }), weight: 1 },
)

/** Applies `m` to `fields`; `at` picks a field (modulo their number). */
export function applyFormMutation(fields: FormFields, m: FormMutation): FormFields {
  if (m.kind === 'add') return [...fields, [m.key, m.value]]
  if (fields.length === 0) return fields
  const i = m.at % fields.length
  switch (m.kind) {
    case 'replace':
      return fields.map((f, j) => (j === i ? [f[0], m.with] : f))
    case 'delete':
      return fields.filter((_, j) => j !== i)
    case 'repeat':
      return [...fields, [fields[i][0], m.value]]
  }
}

/**
 * How a form's text becomes bytes. `standard`: percent-encoded UTF-8, a lone surrogate as its WTF-8 bytes
 * (`%ED%A0%80`, what no UTF-8 decoder accepts); `plus`: the same with spaces as `+`; `raw-utf8` and
 * `latin1`: unescaped bytes (only `&`, `=`, `%` and `+` escaped); `bad-percent`: standard, with a broken
 * escape (`%`, `%G1`, a truncated sequence) spliced into each value.
 */
export interface FormEncoding {
  style: 'standard' | 'plus' | 'raw-utf8' | 'latin1' | 'bad-percent'
  contentType: string | null
}

export const FORM_TYPE = 'application/x-www-form-urlencoded'

export const formEncoding: fc.Arbitrary<FormEncoding> = fc.oneof(
  { arbitrary: fc.constant<FormEncoding>({ style: 'standard', contentType: FORM_TYPE }), weight: 10 },
  {
    arbitrary: fc.record({
      style: fc.constantFrom('standard', 'plus', 'raw-utf8', 'latin1', 'bad-percent') as fc.Arbitrary<FormEncoding['style']>,
      contentType: fc.constantFrom(
        FORM_TYPE,
        `${FORM_TYPE}; charset=utf-8`,
        `${FORM_TYPE}; charset=iso-8859-1`,
        `${FORM_TYPE}; charset=utf-16`,
        'APPLICATION/X-WWW-FORM-URLENCODED',
        'text/plain',
        'application/json',
        'multipart/form-data; boundary=x',
        'text/html',
        `${FORM_TYPE}, text/html`,
        null,
      ),
    }),
    weight: 4,
  },
)

/** UTF-8 bytes of one code point, also of a lone surrogate (WTF-8: what `Buffer.from` would replace). */
function wtf8(cp: number): number[] {
  if (cp < 0x80) return [cp]
  if (cp < 0x800) return [0xc0 | (cp >> 6), 0x80 | (cp & 63)]
  if (cp < 0x10000) return [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)]
  return [0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)]
}

const UNRESERVED = /^[A-Za-z0-9\-._~]$/
const BROKEN_ESCAPES = ['%', '%G1', '%E2%82', '%ED%A0%80', '%C0%80', '%FF', '%%41', '%u00e9']

function encodeFormText(s: string, style: FormEncoding['style'], salt: number): Buffer {
  if (style === 'raw-utf8' || style === 'latin1') {
    return Buffer.from(s.replace(/[%&=+]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`), style === 'latin1' ? 'latin1' : 'utf8')
  }
  let out = ''
  for (const ch of s) {
    if (UNRESERVED.test(ch)) out += ch
    else if (ch === ' ' && style === 'plus') out += '+'
    else out += wtf8(ch.codePointAt(0)!).map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('')
  }
  if (style === 'bad-percent') {
    const at = salt % (out.length + 1)
    out = out.slice(0, at) + BROKEN_ESCAPES[salt % BROKEN_ESCAPES.length] + out.slice(at)
  }
  return Buffer.from(out, 'latin1')
}

/** The bytes of a form in `enc`. */
export function encodeForm(fields: FormFields, enc: FormEncoding): Buffer {
  const parts: Buffer[] = []
  fields.forEach(([k, v], i) => {
    if (i) parts.push(Buffer.from('&'))
    parts.push(encodeFormText(k, enc.style, i * 7 + k.length), Buffer.from('='), encodeFormText(v, enc.style, i * 13 + v.length))
  })
  return Buffer.concat(parts)
}

/** Bodies no form produces: broken escapes, stray separators, bare keys, arbitrary bytes. */
export const rawFormBody: fc.Arbitrary<Buffer> = fc.oneof(
  fc
    .constantFrom('%', '%%', '%zz=1', '=', '&&&', '=&=&', 'a', '==a==', '%E0%A4', '%ED%A0%80=x', 'x=%C0%80', '%00=%00', 'x=%FF%FE', '+%2B+=+', 'a=1;b=2', '_csrf', '_csrf=', '_csrf&_csrf', '__proto__=1', 'constructor[prototype][x]=1', 'a[]=1&a[]=2', 'a=%26%3D%25', '\r\n\r\n', '{"a":1}')
    .map((s) => Buffer.from(s, 'latin1')),
  fc.string({ unit: 'binary', maxLength: 200 }).map((s) => Buffer.from(s, 'utf8')),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
  fc.integer({ min: 1_000, max: 600_000 }).map((n) => Buffer.from(`x=${'%41'.repeat(Math.floor(n / 3))}`, 'latin1')),
)

/** A case for a form: its template mutated a few times, or a raw body (with the CSRF token spliced in, or not). */
export interface FormCase {
  body: { kind: 'mutated'; mutations: FormMutation[] } | { kind: 'raw'; bytes: Buffer; csrf: 'before' | 'after' | 'none' } | { kind: 'none' }
  encoding: FormEncoding
}

export const formCase: fc.Arbitrary<FormCase> = fc.record({
  body: fc.oneof(
    { arbitrary: fc.record({ kind: fc.constant('mutated' as const), mutations: fc.array(formMutation, { minLength: 0, maxLength: 3 }) }), weight: 8 },
    { arbitrary: fc.record({ kind: fc.constant('raw' as const), bytes: rawFormBody, csrf: fc.constantFrom('before' as const, 'after' as const, 'none' as const) }), weight: 3 },
    { arbitrary: fc.constant({ kind: 'none' as const }), weight: 1 },
  ),
  encoding: formEncoding,
})

/** The bytes (or none) a case sends, given the form's template fields and the session's CSRF token. */
export function formBytes(template: FormFields, c: FormCase, csrf: string): Buffer | undefined {
  switch (c.body.kind) {
    case 'none':
      return undefined
    case 'mutated':
      return encodeForm(c.body.mutations.reduce(applyFormMutation, template), c.encoding)
    case 'raw': {
      const token = Buffer.from(`_csrf=${encodeURIComponent(csrf)}`)
      if (c.body.csrf === 'none') return c.body.bytes
      return c.body.csrf === 'before' ? Buffer.concat([token, Buffer.from('&'), c.body.bytes]) : Buffer.concat([c.body.bytes, Buffer.from('&'), token])
    }
  }
}
