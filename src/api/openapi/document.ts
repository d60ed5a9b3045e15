import { z } from 'zod'
import { PROBLEMS, PROBLEM_TYPE_BASE, type ProblemCode } from '../../errors.js'
import { ACCESS, type Access, type Role } from '../authorization.js'
import type { RouteDoc } from './route-doc.js'

const SCHEMES: Record<Exclude<Role, 'anyone'>, string[]> = {
  admin: ['adminToken'],
  board: ['apiKey'],
  hospital: ['apiKey'],
  'identity-provider': ['apiKey'],
  patient: ['patientToken'],
  wallet: ['walletAccessToken'],
  'metrics-reader': ['adminToken', 'metricsToken'],
}

function accessOf(route: RouteDoc): Access {
  const access = ACCESS[`${route.method.toUpperCase()} ${route.path}`]
  if (!access) throw new Error(`${route.method} ${route.path} has no entry in the authorization table`)
  return access
}

/** The operation's security, from the authorization table: each scheme that admits, `{}` when anyone may. */
function securityOf(access: Access): Record<string, string[]>[] {
  const schemes = [...new Set(access.roles.flatMap((r) => (r === 'anyone' ? [] : SCHEMES[r])))]
  const open = access.roles.includes('anyone')
  if (open && !schemes.length) return []
  return [...(open ? [{}] : []), ...schemes.map((s) => ({ [s]: [] }))]
}

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', unrepresentable: 'any', io }) as Record<string, unknown>
  return rest
}

/** Problem codes a route can answer: those its auth and body imply, the ones it names, and the edge's own. */
function problemsOf(route: RouteDoc): ProblemCode[] {
  const codes = new Set<ProblemCode>(['rate-limited', 'internal'])
  const { roles } = accessOf(route)
  if (!roles.includes('anyone')) codes.add('unauthorized')
  if (!roles.includes('anyone') && roles.some((r) => r === 'admin' || r === 'board' || r === 'hospital' || r === 'identity-provider')) codes.add('forbidden')
  if (route.body) for (const c of ['invalid-json', 'invalid-request', 'body-too-large', 'unsupported-media-type'] as const) codes.add(c)
  if (route.query) codes.add('invalid-request')
  if (route.path.includes(':')) codes.add('not-found')
  for (const c of route.problems ?? []) codes.add(c)
  return [...codes]
}

const ProblemSchema = {
  type: 'object',
  description: 'RFC 9457 problem details',
  required: ['type', 'title', 'status', 'detail'],
  properties: {
    type: { type: 'string', enum: Object.keys(PROBLEMS).map((c) => `${PROBLEM_TYPE_BASE}${c}`) },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    requestId: { type: 'string' },
    errors: { type: 'array', items: { type: 'object' } },
  },
}

/** The OpenAPI 3.1 document of every documented route, built from the routes' own zod schemas. */
export function openApiDocument(routes: RouteDoc[], publicUrl: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const route of routes) {
    const path = route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')
    const params = [...route.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }))
    const query = route.query ? Object.entries((jsonSchema(route.query, 'input').properties ?? {}) as Record<string, unknown>).map(([name, schema]) => ({ name, in: 'query', required: false, schema })) : []
    const responses: Record<string, unknown> = {}
    for (const [status, reply] of Object.entries(route.replies)) {
      responses[status] = {
        description: reply.description,
        ...(reply.schema || reply.type ? { content: { [reply.type ?? 'application/json']: reply.schema ? { schema: jsonSchema(reply.schema, 'output') } : {} } } : {}),
      }
    }
    const byStatus = new Map<number, ProblemCode[]>()
    for (const code of problemsOf(route)) byStatus.set(PROBLEMS[code].status, [...(byStatus.get(PROBLEMS[code].status) ?? []), code])
    for (const [status, codes] of byStatus) {
      if (responses[status]) continue
      responses[status] = {
        description: codes.map((c) => `${c}: ${PROBLEMS[c].title}`).join('; '),
        content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
      }
    }
    paths[path] ??= {}
    paths[path][route.method] = {
      summary: route.summary,
      tags: [route.tag],
      operationId: `${route.method}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      security: securityOf(accessOf(route)),
      ...(params.length || query.length ? { parameters: [...params, ...query] } : {}),
      ...(route.body
        ? { requestBody: { required: true, content: { [route.form ? 'application/x-www-form-urlencoded' : 'application/json']: { schema: jsonSchema(route.body, 'input') } } } }
        : {}),
      responses,
    }
  }
  return {
    openapi: '3.1.0',
    info: { title: 'medcred', version: '0.1.0', description: 'Credentialing trust layer for healthcare. Errors are RFC 9457 problem+json; idempotent writes take an Idempotency-Key header.' },
    servers: [{ url: publicUrl }],
    paths,
    components: {
      securitySchemes: {
        adminToken: { type: 'http', scheme: 'bearer', description: 'The consortium admin token' },
        apiKey: { type: 'http', scheme: 'bearer', description: "An institution's API key (mck_…)" },
        metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN: reads /metrics only' },
        walletAccessToken: { type: 'http', scheme: 'bearer', description: 'An OID4VCI access token from the token endpoint' },
        patientToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: "A patient's signed, single-use token" },
      },
      schemas: { Problem: ProblemSchema },
    },
  }
}
