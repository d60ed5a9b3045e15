import { html, type SafeHtml } from './html.js'

export interface PageContext {
  /** Who is signed in, as shown in the header; undefined on the sign-in page. */
  who?: string
  csrf?: string
}

/** The page frame: landmarks, a skip link, the signed-in name and a sign-out button. */
export function layout(title: string, page: PageContext, body: SafeHtml): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · medcred</title>
<link rel="stylesheet" href="/web/assets/app.css">
<script src="/web/assets/app.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <span class="brand">medcred</span>
  ${page.who
    ? html`<form method="post" action="/web/sign-out" class="inline">
        <span>Signed in as <strong>${page.who}</strong></span>
        <input type="hidden" name="_csrf" value="${page.csrf}">
        <button type="submit" class="secondary">Sign out</button>
      </form>`
    : ''}
</header>
<main id="main">
<h1>${title}</h1>
${body}
</main>
</body>
</html>`
}

/** A hidden CSRF field for a form of this session. */
export function csrfField(page: PageContext): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${page.csrf}">`
}
