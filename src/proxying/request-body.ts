/**
 * @module How a request body reaches its endpoint (`server.requestBody`): buffered before dispatch
 * up to `bufferSize`, then streamed under the minimum upload rate. Requests without a body never
 * come here.
 *
 * Retries are unchanged: a body read whole before dispatch could be replayed, but a request is only
 * retried when nothing reached an endpoint (connect failures), never a POST that an endpoint may
 * have seen.
 */
import type { PoolTarget } from './pool-target.js'
import { limitBody } from './body-limit.js'
import type { Exchange } from './exchange.js'
import { BufferOutcome, PendingBody } from './request-body-buffer.js'
import { StreamedUpload } from './request-body-rate.js'
import type { RequestBodyPolicy } from './request-body-policy.js'

/** Where a buffered body is taken up again: the exchange, its pool (with affinity) and its body limit. */
interface BodyOwner {
  readonly exchange: Exchange
  readonly target: PoolTarget
  readonly limit: number
  readonly policy: RequestBodyPolicy
}

/** Receives the body of `exchange` (it has one) as `policy` says, then dispatches it to `target`. */
export function forwardWithBody(exchange: Exchange, target: PoolTarget, limit: number, policy: RequestBodyPolicy): void {
  // Known before dispatch, so a request refused while its body is read is counted under its pool.
  exchange.pool = target.pool
  if (policy.bufferSize === 0) return streamBody(exchange, target, limit, policy, undefined)
  const deadline = policy.watch.clock() + policy.bufferTimeout
  const request = { contentLength: exchange.chunked ? -1 : exchange.contentLength, bufferSize: policy.bufferSize, limit, deadline }
  new PendingBody<BodyOwner>(exchange.req, { exchange, target, limit, policy }, request, bodyBuffered).start(policy.watch)
}

function bodyBuffered(pending: PendingBody<BodyOwner>): void {
  const { exchange, target, limit, policy } = pending.owner
  switch (pending.outcome) {
    case BufferOutcome.Whole:
      exchange.bufferedBytes = pending.received
      exchange.bodyBufferedWhole = true
      exchange.body = pending.body
      return dispatchUnlessRefused(exchange, target)
    case BufferOutcome.Prefix:
      exchange.bufferedBytes = pending.received
      return streamBody(exchange, target, limit, policy, pending.chunks)
    case BufferOutcome.Failed:
      return exchange.fail(pending.error as NonNullable<typeof pending.error>)
    default:
    // Gone: the client left (the exchange logs it) or Node refused the framing (and answered 400).
  }
}

/** Streams the body (after `prefix`, its buffered start) under the body limit and the minimum rate. */
function streamBody(exchange: Exchange, target: PoolTarget, limit: number, policy: RequestBodyPolicy, prefix: readonly Buffer[] | undefined): void {
  const req = exchange.req
  if (prefix === undefined && !exchange.chunked && policy.minRateBytes === 0) {
    // Nothing to count or limit: the client stream itself is the body, as before buffering existed.
    exchange.body = req
    return exchange.dispatch(target)
  }
  const body = limitBody(req, limit, prefix)
  exchange.body = body
  if (policy.minRateBytes > 0) policy.watch.add(new StreamedUpload(body, policy.minRateBytes, policy.minRateWindow, policy.watch.clock()))
  if (prefix !== undefined || !exchange.chunked) return dispatchUnlessRefused(exchange, target)
  // Node's parser reports a framing error in chunks that came in the same read as the head only
  // after the request handler returns (ticks run in between): wait for the end of the read, so such
  // a request never reaches an endpoint at all.
  setImmediate(dispatchUnlessRefused, exchange, target)
}

function dispatchUnlessRefused(exchange: Exchange, target: PoolTarget): void {
  const socket = exchange.socket
  if (!socket.destroyed && !socket.writableEnded) exchange.dispatch(target)
}
