/**
 * @module The admin listener: a plain node:http server that dispatches through a small route table.
 *
 * It runs on its own address (never a traffic port). Every call must come from no web page but the
 * listener's own (Host and Origin, see request-guard.ts); reads are then open to whoever can reach it;
 * mutating calls also need `X-Latch-Admin: 1`, and `Authorization: Bearer <admin.token>` when a token
 * is configured (and the config refuses a non-loopback admin address without one).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { AdminError, sendAdminError } from './admin-error.js'
import { ADMIN_ROUTES, ROUTE_SUMMARY, type AdminContext } from './admin-routes.js'
import { bearerTokenCheck } from './bearer-token.js'
import { requestGuard, type RequestGuard } from './request-guard.js'

/** Creates (does not bind) the admin server. */
export function createAdminServer(context: AdminContext): Server {
  const checkToken = context.token === undefined ? undefined : bearerTokenCheck(context.token)
  const guard = requestGuard(context.allowedHosts ?? [])
  const server = createServer({ headersTimeout: 10_000, requestTimeout: 30_000, maxHeaderSize: 16_384 }, (req, res) => {
    // Request bodies are never read; consume them so the connection stays usable.
    req.resume()
    dispatch(context, checkToken, guard, req, res).catch((error: unknown) => fail(context, res, error))
  })
  server.on('listening', () => guard.listening(boundAddress(server)))
  server.setTimeout(60_000)
  return server
}

async function dispatch(context: AdminContext, checkToken: ((header: string | undefined) => boolean) | undefined, guard: RequestGuard, req: IncomingMessage, res: ServerResponse): Promise<void> {
  guard.check(req)
  const method = req.method ?? 'GET'
  const path = pathOf(req.url)
  const route = ADMIN_ROUTES.find((candidate) => candidate.pattern.test(path))
  if (route === undefined) throw new AdminError('ERR_ADMIN_NOT_FOUND', `no admin route "${method} ${path}" — routes: ${ROUTE_SUMMARY}`)
  if (!route.methods.includes(method)) {
    const allow = route.methods.join(', ')
    throw new AdminError('ERR_ADMIN_METHOD_NOT_ALLOWED', `${method} is not allowed on ${path} — use ${allow}`, { allow })
  }
  if (route.mutating) guard.checkMutation(req)
  if (route.mutating && checkToken !== undefined && !checkToken(req.headers.authorization)) {
    const why = req.headers.authorization === undefined ? 'missing Authorization header' : 'wrong bearer token'
    throw new AdminError('ERR_ADMIN_UNAUTHORIZED', `${why} — this call needs "Authorization: Bearer <admin.token>"`, { 'www-authenticate': 'Bearer realm="latch-admin"' })
  }
  const params = (route.pattern.exec(path) as RegExpExecArray).slice(1).map(decodeParam)
  await route.handle(context, { req, res, params })
}

/** The address the server is bound to (0.0.0.0 or :: when it listens on every interface). */
function boundAddress(server: Server): string {
  const address = server.address()
  return typeof address === 'object' && address !== null ? address.address : ''
}

/** The path of a request target (origin- or absolute-form), without the query. */
function pathOf(url: string | undefined): string {
  try {
    return new URL(url ?? '/', 'http://admin').pathname
  } catch {
    throw new AdminError('ERR_ADMIN_BAD_REQUEST', 'the request target is not a valid URL path')
  }
}

function decodeParam(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    throw new AdminError('ERR_ADMIN_BAD_REQUEST', `"${segment}" is not valid percent-encoding`)
  }
}

function fail(context: AdminContext, res: ServerResponse, error: unknown): void {
  const adminError = error instanceof AdminError ? error : new AdminError('ERR_ADMIN_INTERNAL', 'internal error in the admin API; the log has details')
  if (!(error instanceof AdminError)) context.logger.error({ err: error }, 'admin API call failed')
  if (res.headersSent) res.destroy()
  else sendAdminError(res, adminError)
}
