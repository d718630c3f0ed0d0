/**
 * @module The request pipeline, in order: check headers → parse target → route → body limits → body
 * buffering (request-body.ts) → forward.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { ProxyError } from '../errors/proxy-error.js'
import { loggableTarget } from '../observability/log-target.js'
import { Exchange } from './exchange.js'
import { isGrpcRequest } from './grpc-error-response.js'
import { forwardWithBody } from './request-body.js'
import { prepareRequestHeaders } from './request-headers.js'
import { parseRequestTarget } from './request-target.js'
import type { ProxyRuntime } from './runtime.js'

/** Holds the current runtime; a reload replaces `runtime`. */
export interface RuntimeHolder {
  runtime: ProxyRuntime
}

/**
 * Handles one request; `expectsContinue` is set for `Expect: 100-continue` requests. A bug never takes
 * the process down: it becomes a 500 ERR_INTERNAL (or a cut connection) and an error log with the stack.
 */
export function handleRequest(req: IncomingMessage, res: ServerResponse, runtime: ProxyRuntime, expectsContinue: boolean): void {
  const exchange = new Exchange(req, res, runtime)
  try {
    pipeline(exchange, req, res, runtime, expectsContinue)
  } catch (error) {
    runtime.logger.error({ reqId: exchange.requestId, err: error }, 'internal error while handling a request')
    exchange.fail(new ProxyError('ERR_INTERNAL', 'internal error; the log has the details', { cause: error }))
  }
}

function pipeline(exchange: Exchange, req: IncomingMessage, res: ServerResponse, runtime: ProxyRuntime, expectsContinue: boolean): void {
  const refused = prepareRequestHeaders(req, runtime.headerRules, exchange)
  if (refused !== undefined) return exchange.fail(refused)
  if (req.url === '*' && req.method === 'OPTIONS') return answerServerOptions(exchange)
  const parsed = parseRequestTarget(req.url ?? '/', exchange.hostHeader)
  if (parsed instanceof ProxyError) {
    exchange.logPath = loggableTarget(req.url ?? '')
    return exchange.fail(parsed)
  }
  exchange.logPath = parsed.path
  exchange.target = parsed.target
  const route = runtime.router.match(parsed.host, parsed.path, req, parsed.target)
  if (route === undefined) {
    return exchange.fail(new ProxyError('ERR_NO_ROUTE', `no route for host "${parsed.host}" and path "${parsed.path}"`))
  }
  exchange.routeDescription = route.description
  exchange.ruleId = route.target.action.id
  const rule = route.target
  // Gateway API filters (filters/route-filters.ts): a redirect or a rule without backends answers here.
  if (rule.filters !== undefined && rule.filters.applyToRequest(exchange, parsed.host, route.prefix)) return
  const target = rule.choose(exchange)
  if (target instanceof ProxyError) return exchange.fail(target)
  if (target.filters !== undefined && target.filters.applyToRequest(exchange, parsed.host, route.prefix)) return
  const limit = route.maxBodySize ?? target.pool.config.limits.maxBodySize ?? runtime.maxBodySize
  if (exchange.contentLength > limit) {
    return exchange.fail(new ProxyError('ERR_BODY_TOO_LARGE', `request body of ${exchange.contentLength} bytes exceeds the limit of ${limit} bytes`))
  }
  if (expectsContinue) res.writeContinue()
  if (exchange.contentLength > 0 || exchange.chunked) {
    // A gRPC stream's messages must flow as they come (a bidirectional call waits for answers between
    // them): no buffering, no minimum rate. Content-Length, when sent, was checked against the limit.
    if (target.pool.config.protocol !== 'http1' && isGrpcRequest(req)) {
      exchange.body = req
      return exchange.dispatch(target)
    }
    return forwardWithBody(exchange, target, limit, runtime.requestBody)
  }
  exchange.dispatch(target)
}

/** `OPTIONS *` asks about the server itself (RFC 9110 §9.3.7): Latch answers it, no upstream needed. */
function answerServerOptions(exchange: Exchange): void {
  exchange.status = 200
  exchange.logPath = '*'
  exchange.res.writeHead(200, ['allow', 'GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS', 'content-length', '0', exchange.runtime.headerRules.requestIdHeader, exchange.requestId])
  exchange.res.end()
}
