import Router from '@koa/router'
import type { Context } from 'koa'
import type { ResolutionFailure } from '../../did/resolver.js'
import { didErrorType, negotiate, type Representation } from '../../did/representation.js'
import { PROBLEMS, type ProblemCode } from '../../errors.js'
import type { AppDeps } from '../app.js'
import { sendProblem } from '../problem.js'
import { json } from '../reply.js'
import { doc } from '../openapi/route-doc.js'
import { JsonObject } from '../openapi/replies.js'

const FAILURE_PROBLEM: Record<ResolutionFailure, ProblemCode> = {
  invalidDid: 'invalid-did',
  notFound: 'did-not-found',
  methodNotSupported: 'did-method-not-supported',
  // Not the client's fault and not "does not exist": the chain cannot be read now (retry later).
  unavailable: 'chain-unavailable',
}

/**
 * W3C DID Resolution over HTTP, `GET /1.0/identifiers/{did}` (also the DIF universal-resolver driver
 * path): content negotiation on Accept, `didResolutionMetadata.contentType` equal to the response's
 * Content-Type, errors as problem objects with the spec's `https://www.w3.org/ns/did#…` types.
 */
export function identifierRoutes(deps: AppDeps): Router {
  const router = new Router({ sensitive: true })

  doc(router, { method: 'get', path: '/1.0/identifiers/:did', tag: 'identifiers', summary: 'DID resolution (universal-resolver driver interface)', replies: { 200: { description: 'The DID resolution result', schema: JsonObject } }, problems: ['invalid-did', 'did-not-found', 'did-method-not-supported'] })
  router.get('/1.0/identifiers/:did', async (ctx) => {
    const representation = negotiate(ctx.get('accept'))
    if (!representation) {
      const detail = 'offered: application/did+json, application/did+ld+json, application/did-resolution, application/ld+json;profile="https://w3id.org/did-resolution"'
      return didProblem(ctx, 'did-representation-not-supported', didErrorType('representationNotSupported'), detail)
    }
    const resolution = await deps.resolver.resolveDid(ctx.params.did)
    if (!resolution.ok) return didProblem(ctx, FAILURE_PROBLEM[resolution.reason], didErrorType(resolution.reason), resolution.message)
    const { didDocument, didDocumentMetadata } = resolution.result
    // did:key's resolver reports the content type in the document metadata; it belongs to the resolution metadata.
    const { contentType: _misplaced, ...documentMetadata } = (didDocumentMetadata ?? {}) as Record<string, unknown>
    const status = documentMetadata.deactivated === true ? 410 : 200
    reply(ctx, status, representation, {
      didResolutionMetadata: { contentType: representation.contentType },
      didDocument,
      didDocumentMetadata: documentMetadata,
    })
  })

  return router
}

function reply(ctx: Context, status: number, representation: Representation, result: { didDocument: unknown } & Record<string, unknown>): void {
  json(ctx, status, representation.body === 'document' ? result.didDocument : result, representation.contentType)
}

/** A DID Resolution error: a problem (RFC 9457) whose type is the spec's, which is also a resolution result. */
function didProblem(ctx: Context, code: ProblemCode, type: string, detail: string): void {
  const error = { type, title: PROBLEMS[code].title, detail }
  sendProblem(ctx, code, detail, {
    type,
    didResolutionMetadata: { error, contentType: 'application/problem+json' },
    didDocument: null,
    didDocumentMetadata: {},
  })
}
