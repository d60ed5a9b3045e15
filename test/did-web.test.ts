import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestService, type TestService } from './helpers/service.js'

/** A self-signed certificate for localhost, made for this test only with openssl. */
function selfSignedCert(dir: string): { key: string; cert: string; certFile: string } {
  const keyFile = path.join(dir, 'key.pem')
  const certFile = path.join(dir, 'cert.pem')
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' })
  return { key: fs.readFileSync(keyFile, 'utf8'), cert: fs.readFileSync(certFile, 'utf8'), certFile }
}

describe('did:web resolves over https under the fetch policy (loopback only with the development flag)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'medcred-didweb-'))
  let server: https.Server
  let did: string
  let pathDid: string
  let dev: TestService
  let prod: TestService
  let untrusted: TestService
  beforeAll(async () => {
    const tls = selfSignedCert(dir)
    server = https.createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
      const docs: Record<string, unknown> = {
        '/.well-known/did.json': { '@context': ['https://www.w3.org/ns/did/v1'], id: did, verificationMethod: [] },
        '/users/alice/did.json': { '@context': ['https://www.w3.org/ns/did/v1'], id: pathDid },
      }
      const doc = docs[req.url ?? '']
      res.writeHead(doc ? 200 : 404, { 'content-type': 'application/did+json' })
      res.end(doc ? JSON.stringify(doc) : '')
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
    const { port } = server.address() as AddressInfo
    did = `did:web:localhost%3A${port}`
    pathDid = `did:web:localhost%3A${port}:users:alice`
    ;[dev, prod, untrusted] = await Promise.all([
      startTestService({ env: { DID_WEB_ALLOW_LOOPBACK: '1', DID_WEB_CA_FILE: tls.certFile } }),
      startTestService({ env: { DID_WEB_CA_FILE: tls.certFile } }),
      startTestService({ env: { DID_WEB_ALLOW_LOOPBACK: '1' } }),
    ])
  })
  afterAll(async () => {
    await Promise.all([dev?.dispose(), prod?.dispose(), untrusted?.dispose()])
    await new Promise((r) => server?.close(r))
    fs.rmSync(dir, { recursive: true, force: true })
  })
  const resolve = (svc: TestService, d: string) => svc.api.get(`/1.0/identifiers/${encodeURIComponent(d)}`)

  it('resolves did:web (host with port, and a path) from a local https server trusted through the explicit CA', async () => {
    const res = await resolve(dev, did)
    expect(res.status).toBe(200)
    expect(res.body.didDocument.id).toBe(did)
    expect(res.body.didResolutionMetadata.contentType).toBe(res.type)
    const byPath = await resolve(dev, pathDid)
    expect(byPath.status).toBe(200)
    expect(byPath.body.didDocument.id).toBe(pathDid)
  })

  it('refuses loopback without the development flag', async () => {
    const res = await resolve(prod, did)
    expect(res.status).toBe(404)
    expect(res.body.type).toBe('https://www.w3.org/ns/did#NOT_FOUND')
    expect(res.body.detail).toMatch(/not an allowed host/)
  })

  it('does not trust the self-signed certificate without the CA option (TLS checks stay on)', async () => {
    const res = await resolve(untrusted, did)
    expect(res.status).toBe(404)
    expect(res.body.detail).toMatch(/could not be fetched/)
  })

  it('refuses a document whose id is another DID, and a DID with no document', async () => {
    const wrong = await resolve(dev, `${did}:users:bob`)
    expect(wrong.status).toBe(404)
    const other = await resolve(dev, did.replace('localhost', '127.0.0.1'))
    expect(other.status).toBe(404)
  })
})
