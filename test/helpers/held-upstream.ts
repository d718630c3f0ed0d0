/**
 * @module Makes a test upstream hold requests whose path contains `/slow` until the test releases them.
 */
import type { ServerResponse } from 'node:http'
import type { TestUpstream } from './upstream.js'

/** The requests an upstream is holding. */
export interface HeldRequests {
  readonly held: ServerResponse[]
  /** Answers every held request with 200 and `x-upstream`. */
  releaseAll(): void
}

/**
 * Switches `upstream` to hold requests whose path contains `/slow`, answer a path ending in
 * `/status/NNN` with that status, and answer anything else at once with a small JSON echo.
 */
export function holdSlowPaths(upstream: TestUpstream): HeldRequests {
  const held: ServerResponse[] = []
  upstream.mode = {
    kind: 'custom',
    handle(req, res) {
      const url = req.url ?? '/'
      if (url.includes('/slow')) {
        held.push(res)
        return
      }
      const status = /\/status\/(\d{3})$/.exec(url)
      res.writeHead(status === null ? 200 : Number(status[1]), { 'x-upstream': upstream.name, 'content-type': 'application/json' })
      res.end(JSON.stringify({ upstream: upstream.name, method: req.method, url: req.url }))
    },
  }
  return {
    held,
    releaseAll() {
      for (const res of held.splice(0)) {
        res.writeHead(200, { 'x-upstream': upstream.name, 'content-type': 'text/plain' })
        res.end('slow done')
      }
    },
  }
}
