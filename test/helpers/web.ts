/**
 * The office and board pages without a browser: sign in with a secret (the admin token or an API key) the
 * way the sign-in form does, keep the session cookie, read a page's CSRF token, post a form.
 */

/** A signed-in page session: its cookie header and the CSRF token its forms carry. */
export interface PageSession {
  cookie: string
  csrf: string
}

/** The `medcred_session` value a reply sets, or ''. */
export function sessionCookieOf(res: Response): string {
  return /medcred_session=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1] ?? ''
}

/** Signs in through `POST /web/sign-in` and reads the CSRF token from the home page it redirects to. */
export async function signInPage(url: string, secret: string): Promise<PageSession> {
  const res = await fetch(`${url}/web/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: url },
    body: new URLSearchParams({ secret }).toString(),
  })
  const token = sessionCookieOf(res)
  if (res.status !== 303 || !token) throw new Error(`signing in failed: ${res.status} ${(await res.text()).slice(0, 300)}`)
  const cookie = `medcred_session=${token}`
  const home = await (await fetch(url + res.headers.get('location')!, { headers: { cookie } })).text()
  const csrf = /name="_csrf" value="([^"]+)"/.exec(home)?.[1]
  if (!csrf) throw new Error('the home page holds no CSRF token')
  return { cookie, csrf }
}

/** A page's HTML as `session` sees it. */
export async function pageHtml(url: string, path: string, session?: PageSession): Promise<string> {
  return (await fetch(url + path, { headers: session ? { cookie: session.cookie } : {} })).text()
}

/** Every `<form method="post">` on a page: its action and the names of its fields, in order. */
export function postForms(html: string): { action: string; fields: string[] }[] {
  const forms: { action: string; fields: string[] }[] = []
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)) {
    if (!/method="post"/i.test(m[1])) continue
    const action = /action="([^"]*)"/.exec(m[1])?.[1] ?? ''
    const fields = [...m[2].matchAll(/<(?:input|select|textarea)\b[^>]*\bname="([^"]+)"/g)].map((f) => f[1])
    forms.push({ action, fields: [...new Set(fields)] })
  }
  return forms
}
