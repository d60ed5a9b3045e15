import QRCode from 'qrcode'
import { html, trusted, type SafeHtml } from './html.js'

/**
 * A QR code of `text` as inline SVG, drawn on the server (no script, no image request), labelled for
 * screen readers, with the text itself beside it for those who cannot scan.
 */
export async function qrCode(text: string, label: string): Promise<SafeHtml> {
  const svg = await QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 })
  const labelled = svg.replace('<svg ', `<svg role="img" aria-label="${label.replace(/[<>"&]/g, '')}" class="qr-svg" `)
  return html`<figure class="qr">${trusted(labelled)}<figcaption>${label}</figcaption></figure>`
}
