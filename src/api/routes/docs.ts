import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import Router from '@koa/router'
import { z } from 'zod'
import type { AppDeps } from '../app.js'
import { doc } from '../openapi/route-doc.js'
import { json } from '../reply.js'

/** Swagger UI's files, served from the installed package (never a CDN). */
const ASSET_DIR = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'))
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'application/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
}

/** The page's own policy: scripts and styles from this origin only (Swagger UI sets inline styles). */
const DOCS_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>medcred API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"><link rel="icon" href="/docs/assets/favicon-32x32.png"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
<script src="/docs/init.js"></script></body></html>
`
const INIT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: 'StandaloneLayout' })\n`

/** GET /openapi.json (built once from the routes' docs) and the browsable reference at /docs. */
export function docsRoutes(deps: AppDeps, document: () => Record<string, unknown>): Router {
  const router = new Router({ sensitive: true })
  const cacheable = 'public, max-age=300'

  doc(router, { method: 'get', path: '/openapi.json', tag: 'meta', summary: 'This OpenAPI 3.1 document', replies: { 200: { description: 'The document', schema: z.looseObject({ openapi: z.literal('3.1.0'), paths: z.record(z.string(), z.unknown()) }) } } })
  router.get('/openapi.json', (ctx) => {
    ctx.set('Cache-Control', cacheable)
    json(ctx, 200, document())
  })

  doc(router, { method: 'get', path: '/docs', tag: 'meta', summary: 'The browsable API reference (Swagger UI)', replies: { 200: { description: 'An HTML page', type: 'text/html' } } })
  router.get('/docs', (ctx) => {
    ctx.set('Content-Security-Policy', DOCS_CSP)
    ctx.set('Cache-Control', cacheable)
    ctx.body = PAGE
    ctx.type = 'text/html; charset=utf-8'
  })

  doc(router, { method: 'get', path: '/docs/init.js', tag: 'meta', summary: "The reference page's start script", replies: { 200: { description: 'JavaScript', type: 'application/javascript' } } })
  router.get('/docs/init.js', (ctx) => {
    ctx.set('Cache-Control', cacheable)
    ctx.body = INIT
    ctx.type = 'application/javascript; charset=utf-8'
  })

  doc(router, { method: 'get', path: '/docs/assets/:file', tag: 'meta', summary: 'Swagger UI assets, from the installed package', replies: { 200: { description: 'The file', type: 'application/octet-stream' } }, problems: ['not-found'] })
  router.get('/docs/assets/:file', (ctx) => {
    const type = ASSETS[ctx.params.file]
    if (!type) return
    ctx.set('Cache-Control', 'public, max-age=86400')
    ctx.body = fs.readFileSync(path.join(ASSET_DIR, ctx.params.file))
    ctx.type = type
  })

  void deps
  return router
}
