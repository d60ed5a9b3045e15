import Router from '@koa/router'
import { z } from 'zod'
import type { WebDeps } from '../../web/context.js'
import { parseOrThrow } from '../../validation.js'
import { callerOf } from '../auth.js'
import type { AppDeps } from '../app.js'
import { doc } from '../openapi/route-doc.js'
import { json } from '../reply.js'

const LinkRequest = z.strictObject({ institutionId: z.uuid().optional() })

/**
 * One-time sign-in links for the web page (what `npm run demo` prints): an institution's key makes one for
 * itself; the admin token one for the admin, or for `institutionId`. Single use, short-lived, stored hashed.
 */
export function signInLinkRoutes(deps: AppDeps & { web: WebDeps }): Router {
  const router = new Router({ sensitive: true })
  doc(router, { method: 'post', path: '/sign-in-links', tag: 'pages', summary: 'A one-time sign-in link for the pages (institution: itself; admin: itself or institutionId)', body: LinkRequest, replies: { 201: { description: 'The link', schema: z.object({ url: z.string(), expiresAt: z.string() }) } } })
  router.post('/sign-in-links', async (ctx) => {
    const caller = callerOf(ctx)
    const { institutionId } = parseOrThrow(LinkRequest, ctx.state.body ?? {})
    // An institution's link is made only while the key that asks is still its key (see createSignInLink).
    const target = caller.kind === 'institution' ? { id: caller.institution.id, apiKeyHash: caller.institution.apiKeyHash } : institutionId ? { id: (await deps.institutions.get(institutionId)).id } : null
    const link = await deps.web.sessions.createSignInLink(target ? 'institution' : 'admin', target)
    ctx.set('Cache-Control', 'no-store')
    json(ctx, 201, { url: `${deps.web.publicUrl}/web/sign-in-link?token=${link.token}`, expiresAt: link.expiresAt })
  })
  return router
}
