/**
 * @module The dashboard page's files, served by the admin listener at `/` (never on a traffic port).
 *
 * The page, its script and style ship in the package (`dashboard/`), the chart library (uPlot) is
 * resolved from node_modules: nothing comes from a CDN, so the page works offline. Each file is read
 * and gzipped once, on first request, and kept. The page runs under a strict Content-Security-Policy:
 * scripts and styles from this listener only, no inline script or style, fetches to this listener only.
 */
import { readFileSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'

/** The page's Content-Security-Policy. */
export const DASHBOARD_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

interface Asset {
  readonly type: string
  readonly body: Buffer
  readonly gzipped: Buffer
}

const require = createRequire(import.meta.url)
const dashboardFile = (name: string): string => fileURLToPath(new URL(`../../dashboard/${name}`, import.meta.url))

/** URL path → where the file is and its Content-Type. */
const FILES: Readonly<Record<string, { readonly path: () => string; readonly type: string }>> = {
  '/': { path: () => dashboardFile('index.html'), type: 'text/html; charset=utf-8' },
  '/dashboard.js': { path: () => dashboardFile('dashboard.js'), type: 'text/javascript; charset=utf-8' },
  '/dashboard.css': { path: () => dashboardFile('dashboard.css'), type: 'text/css; charset=utf-8' },
  '/uplot.js': { path: () => require.resolve('uplot/dist/uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  '/uplot.css': { path: () => require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8' },
}

/** Matches the paths of the dashboard's files. */
export const DASHBOARD_PATHS = /^\/(?:|dashboard\.js|dashboard\.css|uplot\.js|uplot\.css)$/

const cache = new Map<string, Asset>()

function assetFor(path: string): Asset {
  let asset = cache.get(path)
  if (asset === undefined) {
    const file = FILES[path] as (typeof FILES)[string]
    const body = readFileSync(file.path())
    asset = { type: file.type, body, gzipped: gzipSync(body, { level: 9 }) }
    cache.set(path, asset)
  }
  return asset
}

/** Serves one of the dashboard's files (`path` matched DASHBOARD_PATHS), gzipped when the client accepts it. */
export function serveDashboardFile(path: string, req: IncomingMessage, res: ServerResponse): void {
  const asset = assetFor(path)
  const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))
  const body = gzip ? asset.gzipped : asset.body
  res.writeHead(200, {
    'content-type': asset.type,
    'content-length': body.length,
    ...(gzip ? { 'content-encoding': 'gzip' } : {}),
    vary: 'Accept-Encoding',
    'cache-control': 'no-cache',
    'content-security-policy': DASHBOARD_CSP,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
  })
  res.end(req.method === 'HEAD' ? undefined : body)
}
