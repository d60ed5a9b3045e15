import fs from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { parse } from 'yaml'

/**
 * Builds objects from a Veramo-style agent.yml. Supported conventions:
 * - `$require: 'module#Export?t=object|function|class&p=/prop'` (also `module?t=…#Export`, as Veramo writes it),
 *   where a module path starting with `./` is relative to the agent.yml file,
 *   with `$args: [...]`: a class is constructed with `new`, a function called, an object taken as is;
 *   `p` then picks a property path of the result.
 * - `$ref: /json/pointer` to another node of the same document.
 * - `$env: NAME` resolved from the `values` medcred passes in (its validated config and runtime objects),
 *   so no module here reads `process.env`.
 */
export async function loadAgentConfig(file: string, pointer: string, values: Record<string, unknown>): Promise<unknown> {
  const doc = parse(fs.readFileSync(file, 'utf8')) as unknown
  const cache = new Map<string, unknown>()

  async function resolve(node: unknown, at: string): Promise<unknown> {
    if (Array.isArray(node)) {
      const out = []
      for (let i = 0; i < node.length; i++) out.push(await resolve(node[i], `${at}/${i}`))
      return out
    }
    if (node === null || typeof node !== 'object') return node
    const obj = node as Record<string, unknown>
    if ('$ref' in obj) return resolvePointer(String(obj.$ref))
    if ('$env' in obj) {
      const name = String(obj.$env)
      if (!(name in values)) throw new Error(`agent.yml ${at}: no value was given for $env ${name}`)
      return values[name]
    }
    if ('$require' in obj) {
      const args = obj.$args === undefined ? [] : ((await resolve(obj.$args, `${at}/$args`)) as unknown[])
      return instantiate(String(obj.$require), args, at, path.dirname(file))
    }
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(obj)) out[k] = await resolve(v, `${at}/${k}`)
    return out
  }

  async function resolvePointer(ptr: string): Promise<unknown> {
    if (cache.has(ptr)) return cache.get(ptr)
    let node: unknown = doc
    for (const part of ptr.split('/').filter(Boolean)) {
      if (node === null || typeof node !== 'object' || !(part in (node as object))) {
        throw new Error(`agent.yml: $ref ${ptr} points nowhere`)
      }
      node = (node as Record<string, unknown>)[part]
    }
    const value = await resolve(node, ptr)
    cache.set(ptr, value)
    return value
  }

  return resolvePointer(pointer)
}

async function instantiate(spec: string, args: unknown[], at: string, dir: string): Promise<unknown> {
  const hashAt = spec.indexOf('#')
  const [modulePart, exportPart] = hashAt < 0 ? [spec, 'default'] : [spec.slice(0, hashAt), spec.slice(hashAt + 1)]
  const [moduleName, moduleQuery = ''] = modulePart.split('?')
  const [exportName, exportQuery = ''] = exportPart.split('?')
  const query = new URLSearchParams(moduleQuery || exportQuery)
  const mod = (await import(moduleName.startsWith('./') ? pathToFileURL(path.resolve(dir, moduleName)).href : moduleName)) as Record<string, unknown>
  const exported = mod[exportName]
  if (exported === undefined) throw new Error(`agent.yml ${at}: ${moduleName} has no export ${exportName}`)
  const kind = query.get('t') ?? 'class'
  let value: unknown
  if (kind === 'object') value = exported
  else if (kind === 'function') value = (exported as (...a: unknown[]) => unknown)(...args)
  else value = new (exported as new (...a: unknown[]) => unknown)(...args)
  for (const prop of (query.get('p') ?? '').split('/').filter(Boolean)) {
    value = (value as Record<string, unknown>)[prop]
  }
  return value
}
