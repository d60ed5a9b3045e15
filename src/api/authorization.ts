import type Router from '@koa/router'
import type { Context, Next } from 'koa'
import { AppError } from '../errors.js'
import type { InstitutionKind, InstitutionRow } from '../institutions/institution.entity.js'
import { callerOf, patientBearerOf } from './auth.js'
import { PAGE_ROUTE } from './openapi/route-doc.js'

/**
 * Who may call a route, in one table: every route medcred serves (the API, the wallet protocols, FHIR,
 * the pages, operations) has exactly one entry, `createApp` puts each entry in front of its route's
 * handler (`enforceAccess`), and test/authorization.test.ts walks the whole table: every route × every
 * role × the caller's own and another institution's resource.
 *
 * Roles. `anyone` includes the anonymous. `admin` is the consortium admin token (or an admin's page
 * session). `board`, `hospital` and `identity-provider` are institutions, by their API key (or page
 * session). Three credentials are proven to the handler, not here, because only it can check them:
 * `patient` (a patient's signed single-use JWT), `wallet` (an OID4VCI access token) and `metrics-reader`
 * (METRICS_TOKEN or the admin token).
 */
export type Role = 'anyone' | 'admin' | InstitutionKind | 'patient' | 'wallet' | 'metrics-reader'

/**
 * Whose resource a route touches, and what another institution gets.
 * - `none`: nothing an institution owns (public data, the caller's own new things, the admin's registry).
 * - `path`: the path parameter names an institution; another's answers 403 (the admin may act on any).
 * - `body`: a body field names an institution (absent: the caller itself); another's answers 403.
 * - `lookup`: the handler looks the resource up among the caller's own; another's answers 404, exactly
 *   as an unknown one does (no existence oracle).
 * - `list`: the handler lists the caller's own only; another's never appear.
 */
export type Ownership =
  | { rule: 'none' }
  | { rule: 'path'; param: string }
  | { rule: 'body'; field: string }
  | { rule: 'lookup' }
  | { rule: 'list' }

export interface Access {
  roles: readonly Role[]
  own: Ownership
}

const INSTITUTIONS: readonly Role[] = ['board', 'hospital', 'identity-provider']
const none: Ownership = { rule: 'none' }
const lookup: Ownership = { rule: 'lookup' }
const list: Ownership = { rule: 'list' }
const pathInstitution = (param: string): Ownership => ({ rule: 'path', param })

const anyone: Access = { roles: ['anyone'], own: none }
const anyoneOrInstitution: Access = { roles: ['anyone', 'board', 'hospital', 'identity-provider'], own: none }
const admin: Access = { roles: ['admin'], own: none }
const institution = (own: Ownership = none): Access => ({ roles: INSTITUTIONS, own })
const hospital = (own: Ownership = none): Access => ({ roles: ['hospital'], own })
const board = (own: Ownership = none): Access => ({ roles: ['board'], own })
const adminOrInstitution = (own: Ownership = none): Access => ({ roles: ['admin', ...INSTITUTIONS], own })

/** `METHOD path` (the router's pattern) → who may call it. */
export const ACCESS: Readonly<Record<string, Access>> = {
  // Institutions: created by the admin; each reads and changes only its own record.
  'POST /institutions': admin,
  'GET /institutions/:id': adminOrInstitution(pathInstitution('id')),
  'PATCH /institutions/:id/policy': adminOrInstitution(pathInstitution('id')),
  'POST /institutions/:id/keys/rotate': adminOrInstitution(pathInstitution('id')),
  'POST /institutions/:id/api-key': adminOrInstitution(pathInstitution('id')),

  // Credentials: issued and managed by their issuer; verified by anyone.
  'POST /credentials/issue': institution(),
  // An institution's key, when sent, names who verified (and, for a patient, the consent's grantee).
  'POST /credentials/verify': anyoneOrInstitution,
  'POST /credentials/status': institution(lookup),
  'GET /credentials/:id/status': institution(lookup),
  'GET /status/:listId': anyone,
  'GET /token-status/:listId': anyone,
  'GET /vct/:type': anyone,
  'POST /presentations/verify': anyoneOrInstitution,
  'GET /1.0/identifiers/:did': anyone,

  // Trust registry: read by every institution, kept by the admin.
  'GET /trust/issuers': adminOrInstitution(),
  'POST /trust/issuers': admin,
  'DELETE /trust/issuers/:did': admin,
  'GET /trust/verifiers': adminOrInstitution(),
  'POST /trust/verifiers': admin,
  'DELETE /trust/verifiers/:did': admin,

  // Accept once: hospitals verify, accept and keep files; receipts are public.
  'POST /verifications/challenges': hospital(),
  'POST /verifications': hospital(),
  'GET /verifications/:id': hospital(lookup),
  'GET /receipts/:id': anyone,
  'POST /acceptances': hospital(),
  'POST /credentialing-files': hospital(),
  'GET /credentialing-files/:id': hospital(lookup),

  // Consent: the patient's signature is the authority, whoever sends it.
  'POST /consents': anyone,
  'POST /consents/:id/revoke': anyone,
  'GET /consents': { roles: ['patient', ...INSTITUTIONS], own: list },

  // Notices and webhooks: each institution's own.
  'POST /webhooks': institution(),
  'GET /webhooks': institution(list),
  'DELETE /webhooks/:id': institution(lookup),
  'GET /notifications': institution(list),

  // The audit trail: the admin reads all; an institution its own acts and acts on what it issued.
  'GET /audit/events': adminOrInstitution(list),
  'GET /audit/events/:seq/proof': adminOrInstitution(lookup),

  // Pages' sign-in links: the admin for anyone, an institution for itself.
  'POST /sign-in-links': adminOrInstitution({ rule: 'body', field: 'institutionId' }),

  // OID4VCI: offers are the issuer's; the protocol endpoints are the wallet's.
  'POST /oid4vci/offers': institution(),
  'GET /oid4vci/offers/:id': institution(lookup),
  'GET /.well-known/openid-credential-issuer/oid4vci/:institutionId': anyone,
  'GET /.well-known/oauth-authorization-server/oid4vci/:institutionId': anyone,
  'GET /oid4vci/:institutionId/credential-offer/:code': anyone,
  'POST /oid4vci/:institutionId/token': anyone,
  'POST /oid4vci/:institutionId/nonce': anyone,
  'POST /oid4vci/:institutionId/credential': { roles: ['wallet'], own: none },

  // OID4VP: a hospital's requests; the wallet fetches the request object and posts its response.
  'POST /oid4vp/requests': hospital(),
  'GET /oid4vp/requests/:id': hospital(lookup),
  'GET /oid4vp/requests/:id/request-object': anyone,
  'POST /oid4vp/requests/:id/response': anyone,

  // FHIR facade.
  'GET /fhir/metadata': anyone,
  'POST /fhir/Practitioner/$issue-license': board(),
  'POST /fhir/Patient/$issue-identity': { roles: ['identity-provider', 'hospital'], own: none },
  'GET /fhir/VerificationResult/:id': hospital(lookup),
  'GET /fhir/VerificationResult': hospital(list),
  'GET /fhir/Consent': institution(list),

  // Operations and documentation.
  'GET /health': anyone,
  'GET /health/ready': anyone,
  'GET /health/live': anyone,
  'GET /metrics': { roles: ['metrics-reader'], own: none },
  'GET /openapi.json': anyone,
  'GET /docs': anyone,
  'GET /docs/init.js': anyone,
  'GET /docs/assets/:file': anyone,

  // The pages (a session cookie is the caller there; only there).
  'GET /': anyone,
  'POST /web/sign-in': anyone,
  'GET /web/sign-in-link': anyone,
  'POST /web/sign-in-link': anyone,
  'POST /web/sign-out': adminOrInstitution(),
  'GET /web/assets/:name': anyone,
  'GET /web/admin': admin,
  'GET /web/admin/audit/:seq': admin,
  'POST /web/admin/issuers': admin,
  'POST /web/admin/issuers/remove': admin,
  'POST /web/admin/verifiers': admin,
  'POST /web/admin/verifiers/remove': admin,
  'POST /web/admin/institutions': admin,
  'POST /web/admin/institutions/key': admin,
  'GET /web/board': board(),
  'POST /web/board/issue': board(),
  'GET /web/board/credential': board(lookup),
  'POST /web/board/status': board(lookup),
  'GET /web/office': hospital(),
  'POST /web/office/requests': hospital(),
  'GET /web/office/requests/:id': hospital(lookup),
  'GET /web/office/requests/:id/state': hospital(lookup),
  'POST /web/office/verify': hospital(),
}

/** Credentials the handler itself proves (see Role). */
const HANDLER_CHECKED: readonly Role[] = ['wallet', 'metrics-reader']

const NAMES: Record<Role, string> = {
  anyone: 'anyone',
  admin: 'the admin token',
  board: 'a board',
  hospital: 'a hospital',
  'identity-provider': 'an identity provider',
  patient: "a patient's signed token",
  wallet: 'an OID4VCI access token',
  'metrics-reader': 'the metrics token',
}

function needs(roles: readonly Role[]): string {
  const kinds = roles.filter((r) => INSTITUTIONS.includes(r))
  const named = roles.filter((r) => !INSTITUTIONS.includes(r)).map((r) => NAMES[r])
  if (kinds.length === INSTITUTIONS.length) named.push("an institution's API key")
  else if (kinds.length) named.push(`the API key of ${kinds.map((k) => NAMES[k]).join(' or ')}`)
  return named.join(' or ')
}

/** The caller's role on this request (a patient's token counts only where the table names patients). */
function roleOf(ctx: Context): Role | 'anonymous' {
  const caller = callerOf(ctx)
  if (caller.kind === 'admin') return 'admin'
  if (caller.kind === 'institution') return caller.institution.kind
  return patientBearerOf(ctx) ? 'patient' : 'anonymous'
}

function who(role: Role, ctx: Context): string {
  const caller = callerOf(ctx)
  return caller.kind === 'institution' ? `${NAMES[role]} (${caller.institution.name})` : NAMES[role]
}

/** The pages say it in a person's words (they are shown to clerks, not to programs). */
const PAGE_NAMES: Partial<Record<Role, string>> = { admin: 'the consortium admin' }

/** Refuses a caller the entry does not admit: 401 when nobody is signed in, else 403; then the own/other rule. */
export function authorize(ctx: Context, route: string, access: Access): void {
  const { roles, own } = access
  if (roles.includes('anyone') || roles.some((r) => HANDLER_CHECKED.includes(r))) return
  const role = roleOf(ctx)
  if (!roles.includes(role as Role)) {
    const signedIn = role !== 'anonymous' && (role !== 'patient' || roles.includes('patient'))
    if (PAGE_ROUTE.test(route)) {
      if (!signedIn) throw new AppError('unauthorized', 'sign in first')
      const page = roles.map((r) => PAGE_NAMES[r] ?? NAMES[r]).join(' or ')
      throw new AppError('forbidden', `this page is for ${page}; you are signed in as ${who(role as Role, ctx)}`)
    }
    const detail = `${route} needs ${needs(roles)}`
    if (!signedIn) throw new AppError('unauthorized', detail)
    throw new AppError('forbidden', `${detail}; the caller is ${who(role as Role, ctx)}`)
  }
  const caller = callerOf(ctx)
  if (caller.kind !== 'institution') return
  const named = own.rule === 'path' ? ctx.params?.[own.param] : own.rule === 'body' ? (ctx.state.body as Record<string, unknown> | undefined)?.[own.field] : undefined
  if (named !== undefined && named !== caller.institution.id) {
    throw new AppError('forbidden', `an institution may act here only on itself: ${route} names another institution`)
  }
}

/** The calling institution on a route the table admits only institutions to (so it is there). */
export function institutionOf(ctx: Context): InstitutionRow {
  const caller = callerOf(ctx)
  if (caller.kind !== 'institution') throw new Error('institutionOf on a route that admits more than institutions: see ACCESS')
  return caller.institution
}

type Layer = { methods: string[]; path: string; stack: ((ctx: Context, next: Next) => unknown)[] }

/** `METHOD path` of every route `router` serves (HEAD, which Koa adds to every GET, left out). */
export function routeKeys(router: Router): string[] {
  return (router.stack as unknown as Layer[]).flatMap((layer) => layer.methods.filter((m) => m !== 'HEAD').map((m) => `${m} ${unescaped(layer.path)}`))
}

// A literal `$` is escaped in the router's pattern (`/Practitioner/\\$issue-license`).
const unescaped = (path: string) => path.replace(/\\/g, '')

/**
 * Puts each route's entry of ACCESS in front of its handler. A route without an entry, or an entry
 * without a route, stops the service at start: nobody can add a route and forget who may call it.
 */
export function enforceAccess(routers: Router[], table: Readonly<Record<string, Access>> = ACCESS): void {
  const served = new Set<string>()
  for (const router of routers) {
    // A path matched regardless of case would slip past every rule keyed by the path (the pages' and the
    // wallet protocols' own bearer and error rules): routers match exactly, as URLs are meant.
    if (!(router as unknown as { opts: { sensitive?: boolean } }).opts.sensitive) throw new Error(`a router of ${routeKeys(router)[0] ?? 'no route'} matches paths regardless of case: create it with { sensitive: true }`)
    for (const layer of router.stack as unknown as Layer[]) {
      // Each method's entry, looked up once here (HEAD is answered as GET).
      const byMethod = new Map<string, { route: string; access: Access }>()
      for (const method of layer.methods.filter((m) => m !== 'HEAD')) {
        const route = `${method} ${unescaped(layer.path)}`
        const access = table[route]
        if (!access) throw new Error(`route ${route} has no entry in the authorization table (src/api/authorization.ts)`)
        served.add(route)
        byMethod.set(method, { route, access })
      }
      layer.stack.unshift((ctx: Context, next: Next) => {
        const { route, access } = byMethod.get(ctx.method === 'HEAD' ? 'GET' : ctx.method)!
        authorize(ctx, route, access)
        return next()
      })
    }
  }
  const stale = Object.keys(table).filter((k) => !served.has(k))
  if (stale.length) throw new Error(`the authorization table names routes nobody serves: ${stale.join(', ')}`)
}
