import Router from '@koa/router'
import type { ResolutionFailure } from '../../did/resolver.js'
import type { ProblemCode } from '../../errors.js'
import type { AppDeps } from '../app.js'
import { sendProblem } from '../problem.js'
import { json } from '../reply.js'
import { doc } from '../openapi/route-doc.js'
import { JsonObject } from '../openapi/replies.js'

const RESOLUTION_RESULT_TYPE = 'application/ld+json;profile="https://w3id.org/did-resolution"'

const FAILURE_PROBLEM: Record<ResolutionFailure, ProblemCode> = {
  invalidDid: 'invalid-did',
  notFound: 'did-not-found',
  methodNotSupported: 'did-method-not-supported',
  unavailable: 'chain-unavailable',
}

/** DID resolution as a DIF universal-resolver driver: `GET /1.0/identifiers/{did}`. */
export function identifierRoutes(deps: AppDeps): Router {
  const router = new Router()

  doc(router, { method: 'get', path: '/1.0/identifiers/:did', tag: 'identifiers', summary: 'DID resolution (universal-resolver driver interface)', auth: 'none', replies: { 200: { description: 'The DID resolution result', schema: JsonObject } }, problems: ['invalid-did', 'did-not-found', 'did-method-not-supported'] })
  router.get('/1.0/identifiers/:did', async (ctx) => {
    const resolution = await deps.resolver.resolveDid(ctx.params.did)
    if (resolution.ok) {
      json(ctx, 200, resolution.result, RESOLUTION_RESULT_TYPE)
      return
    }
    // A problem that is also a resolution result, so driver clients find `didResolutionMetadata.error`.
    sendProblem(ctx, FAILURE_PROBLEM[resolution.reason], resolution.message, {
      didResolutionMetadata: { error: resolution.reason, message: resolution.message },
      didDocument: null,
      didDocumentMetadata: {},
    })
  })

  return router
}
