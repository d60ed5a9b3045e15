import Router from '@koa/router'
import { vctOf } from '../../credentials/sd-jwt-vc.js'
import { typeMetadata } from '../../credentials/type-metadata.js'
import { AppError } from '../../errors.js'
import type { AppDeps } from '../app.js'
import { json } from '../reply.js'
import { doc } from '../openapi/route-doc.js'
import { JsonObject } from '../openapi/replies.js'

/** SD-JWT VC Type Metadata at the `vct` URL of each type medcred issues as an SD-JWT VC. */
export function typeMetadataRoutes(deps: AppDeps): Router {
  const router = new Router({ sensitive: true })
  doc(router, { method: 'get', path: '/vct/:type', tag: 'credentials', summary: 'SD-JWT VC type metadata', replies: { 200: { description: 'Type metadata', schema: JsonObject } } })
  router.get('/vct/:type', async (ctx) => {
    const metadata = typeMetadata(vctOf(deps.publicUrl, ctx.params.type), ctx.params.type)
    if (!metadata) throw new AppError('not-found', `no type metadata for ${ctx.params.type.slice(0, 100)}`)
    json(ctx, 200, metadata)
  })
  return router
}
