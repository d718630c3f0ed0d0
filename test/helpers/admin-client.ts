/**
 * @module Calls a running latch's admin API and scrapes its metrics, for admin and metrics tests.
 */
import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http'
import { request } from 'undici'
import type { LatchProcess } from './latch-process.js'
import { parsePrometheusText, type MetricFamily } from './prometheus-text.js'

/** An admin reply: status, headers and the parsed JSON body. */
export interface AdminReply {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly body: Record<string, unknown>
}

/**
 * Sends one admin call; `token` becomes `Authorization: Bearer <token>`. A POST carries `X-Latch-Admin: 1`
 * like every admin client must (`adminHeader: false` leaves it out); `headers` are added last.
 */
export async function adminCall(latch: LatchProcess, method: string, path: string, options: { token?: string; authorization?: string; adminHeader?: boolean; headers?: Record<string, string> } = {}): Promise<AdminReply> {
  if (latch.adminUrl === undefined) throw new Error('this latch has no admin listener')
  const authorization = options.authorization ?? (options.token === undefined ? undefined : `Bearer ${options.token}`)
  const headers: Record<string, string> = method === 'POST' && options.adminHeader !== false ? { 'x-latch-admin': '1' } : {}
  if (authorization !== undefined) headers.authorization = authorization
  const response = await request(`${latch.adminUrl}${path}`, { method: method as 'GET', headers: { ...headers, ...options.headers } })
  const text = await response.body.text()
  return { status: response.statusCode, headers: response.headers, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) }
}

/** Drains, undrains or puts an endpoint in maintenance; expects 200. */
export async function endpointAction(latch: LatchProcess, pool: string, endpoint: string, action: string, token?: string): Promise<AdminReply> {
  const reply = await adminCall(latch, 'POST', `/pools/${pool}/endpoints/${encodeURIComponent(endpoint)}/${action}`, token === undefined ? {} : { token })
  if (reply.status !== 200) throw new Error(`${action} ${endpoint}: ${reply.status} ${JSON.stringify(reply.body)}`)
  return reply
}

/** Scrapes `/metrics` on the admin listener and parses it. */
export async function scrapeMetrics(latch: LatchProcess): Promise<{ contentType: string; text: string; families: Map<string, MetricFamily> }> {
  const response = await request(`${latch.adminUrl}/metrics`)
  const text = await response.body.text()
  if (response.statusCode !== 200) throw new Error(`/metrics answered ${response.statusCode}: ${text}`)
  return { contentType: String(response.headers['content-type']), text, families: parsePrometheusText(text) }
}

/** Sends one request to an admin listener at `baseUrl` with exactly these headers, Host included (what a browser would send). */
export function adminRequestAs(baseUrl: string, method: string, path: string, headers: OutgoingHttpHeaders, body?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const url = new URL(baseUrl)
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port, method, path, headers, agent: false, setHost: false }, (res) => {
      let text = ''
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk)).on('end', () => resolve({ status: res.statusCode ?? 0, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

