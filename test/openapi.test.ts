import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { z } from 'zod'
import { routersOf } from '../src/api/app.js'
import { PAGE_ROUTE, docsOf, type RouteDoc } from '../src/api/openapi/route-doc.js'
import { routeKeys } from '../src/api/authorization.js'
import { PROBLEMS, PROBLEM_TYPE_BASE } from '../src/errors.js'
import { HolderWallet } from '../src/holder/wallet.js'
import { licenseCredential, tamperJwt } from './helpers/fixtures.js'
import { startTestService, type Reply, type TestService } from './helpers/service.js'

/** GET /openapi.json against the routers the app really mounts, both ways, and real replies against it. */
describe('the OpenAPI document', () => {
  let svc: TestService
  let docs: RouteDoc[]
  let document: any
  beforeAll(async () => {
    svc = await startTestService()
    docs = routersOf(svc.app).flatMap(docsOf)
    document = (await svc.api.get('/openapi.json')).body
  })
  afterAll(async () => svc?.dispose())

  const toOpenApi = (p: string) => p.replace(/:([A-Za-z0-9_]+)/g, '{$1}')

  it('documents every route the app serves, and every documented route is served', () => {
    const served = new Set(routersOf(svc.app).flatMap(routeKeys).filter((r) => !PAGE_ROUTE.test(r)).map((r) => { const [m, p] = r.split(' '); return `${m.toLowerCase()} ${toOpenApi(p)}` }))
    const documented = new Set(Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`)))
    expect(served.size).toBeGreaterThan(45)
    expect([...served].filter((r) => !documented.has(r))).toEqual([])
    expect([...documented].filter((r) => !served.has(r))).toEqual([])
  })

  it('is OpenAPI 3.1 with auth, request bodies from the validating schemas, replies and problem types per operation', () => {
    expect(document.openapi).toBe('3.1.0')
    const issue = document.paths['/credentials/issue'].post
    expect(issue.security).toEqual([{ apiKey: [] }])
    const body = issue.requestBody.content['application/json'].schema
    expect(body.required).toContain('credential')
    expect(body.additionalProperties).toBe(false)
    expect(issue.responses['201'].content['application/json'].schema.properties.verifiableCredential).toBeDefined()
    expect(issue.responses['422'].content['application/problem+json'].schema.$ref).toBe('#/components/schemas/Problem')
    expect(issue.responses['401'].description).toContain('unauthorized')
    expect(document.paths['/institutions'].post.security).toEqual([{ adminToken: [] }])
    expect(document.paths['/institutions/{id}'].get.parameters[0]).toMatchObject({ name: 'id', in: 'path', required: true })
    expect(document.paths['/audit/events'].get.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['after', 'limit']))
    expect(document.components.schemas.Problem.properties.type.enum).toContain(`${PROBLEM_TYPE_BASE}verification-failed`)
    for (const [p, ops] of Object.entries(document.paths as Record<string, Record<string, any>>)) {
      for (const [m, op] of Object.entries(ops)) {
        expect(op.summary, `${m} ${p}`).toBeTruthy()
        expect(Object.keys(op.responses).length, `${m} ${p}`).toBeGreaterThan(0)
        expect(Array.isArray(op.security), `${m} ${p}`).toBe(true)
      }
    }
  })

  it('serves /docs and all its assets from the service itself (no CDN)', async () => {
    const page = await fetch(`${svc.url}/docs`)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toContain('text/html')
    const html = await page.text()
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1])
    expect(refs.length).toBeGreaterThanOrEqual(4)
    for (const ref of refs) {
      expect(ref.startsWith('/')).toBe(true)
      const asset = await fetch(`${svc.url}${ref}`)
      expect(asset.status, ref).toBe(200)
      expect((await asset.arrayBuffer()).byteLength, ref).toBeGreaterThan(100)
    }
    const csp = page.headers.get('content-security-policy')!
    expect(csp).toContain("script-src 'self'")
    expect(csp).not.toMatch(/https?:/)
    expect((await svc.api.get('/docs/assets/package.json')).status).toBe(404)
  })

  it('real replies match the documented schemas', async () => {
    const seen: { method: string; path: string; reply: Reply }[] = []
    const call = async (method: string, path: string, opts: { body?: unknown; token?: string } = {}) => {
      const reply = await svc.api.request(method, path, opts)
      seen.push({ method: method.toLowerCase(), path, reply })
      return reply
    }
    const admin = svc.secrets.adminToken
    await call('GET', '/health')
    await call('GET', '/health/live')
    await call('GET', '/health/ready')
    const board = (await call('POST', '/institutions', { body: { name: 'Doc Board', kind: 'board', jurisdiction: 'US-TX' }, token: admin })).body
    await call('GET', `/institutions/${board.id}`, { token: board.apiKey })
    await call('POST', '/trust/issuers', { body: { did: board.did, credentialTypes: ['ClinicianLicenseCredential'], jurisdictions: ['US-TX'] }, token: admin })
    await call('GET', '/trust/issuers', { token: admin })
    const holder = await HolderWallet.create()
    const issued = (await call('POST', '/credentials/issue', { body: { credential: { ...licenseCredential(holder.did), issuer: board.did } }, token: board.apiKey })).body
    await call('POST', '/credentials/verify', { body: { verifiableCredential: issued.verifiableCredential.proof.jwt } })
    await call('POST', '/credentials/verify', { body: { verifiableCredential: tamperJwt(issued.verifiableCredential.proof.jwt, 2) } })
    await call('POST', '/credentials/issue', { body: { credential: { ...licenseCredential(holder.did, { credentialSubject: { npi: '1' } }), issuer: board.did } }, token: board.apiKey })
    await call('GET', '/audit/events?limit=5', { token: admin })
    const { id: _id, ...subject } = licenseCredential(holder.did).credentialSubject
    await call('POST', '/oid4vci/offers', { body: { credential: { ...licenseCredential(holder.did), credentialSubject: subject } }, token: board.apiKey })
    await call('GET', '/institutions/nope', { token: admin })
    await call('GET', '/metrics')

    const match = (method: string, path: string) =>
      docs.find((d) => d.method === method && new RegExp(`^${d.path.replace(/:[A-Za-z0-9_]+/g, '[^/]+')}$`).test(path.split('?')[0]))
    let checkedBodies = 0
    for (const { method, path, reply } of seen) {
      const route = match(method, path)
      expect(route, `${method} ${path}`).toBeDefined()
      const documented = route!.replies[reply.status]
      if (documented) {
        expect(reply.type, `${method} ${path}`).toContain(documented.type ?? 'application/json')
        if (documented.schema) {
          const parsed = (documented.schema as z.ZodType).safeParse(reply.body)
          expect(parsed.success, `${method} ${path} ${reply.status}: ${parsed.error?.message}`).toBe(true)
          checkedBodies++
        }
        continue
      }
      // Not a documented success: a problem whose type is in the document and whose status is documented.
      expect(reply.type, `${method} ${path} ${reply.status}`).toBe('application/problem+json')
      const code = String(reply.body.type).slice(PROBLEM_TYPE_BASE.length) as keyof typeof PROBLEMS
      expect(PROBLEMS[code]?.status, `${method} ${path}`).toBe(reply.status)
      const op = (document.paths[toOpenApi(route!.path)] as Record<string, any>)[method]
      expect(op.responses[String(reply.status)], `${method} ${path} ${reply.status} documented`).toBeDefined()
    }
    expect(checkedBodies).toBeGreaterThanOrEqual(10)
  })
})
