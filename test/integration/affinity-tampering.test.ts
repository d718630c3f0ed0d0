/**
 * Sticky-session tokens that a client tampered with, forged, reused elsewhere or kept too long, in
 * `cookie` and `header` mode, through the real CLI: each is treated as absent (normal round-robin
 * pick, a new token, `X-Latch-Affinity: invalid` or `expired`, counted in
 * `latch_affinity_requests_total` and the access log), is never forwarded upstream, and never lets
 * the client choose its endpoint. No token Latch hands out names an address or a port. Secret
 * rotation: the first secret signs, all verify, and a secret removed from the list stops verifying.
 */
import { writeFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { scrapeMetrics } from '../helpers/admin-client.js'
import { send, type SimpleResponse } from '../helpers/http-client.js'
import { accessLines, startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { samplesOf } from '../helpers/prometheus-text.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { waitFor } from '../helpers/wait.js'

const OLD_SECRET = 'old-secret-0123456789abcdef'
const NEW_SECRET = 'new-secret-fedcba9876543210'
/** A token is 43 bytes in base64url. */
const TOKEN = /^[A-Za-z0-9_-]{58}$/

let upstreams: TestUpstream[]
let latch: LatchProcess
/** Every Set-Cookie value and token header Latch sent in this file. */
const handedOut: string[] = []

function prefix(path: string, pool: string): object {
  return { path, pathType: 'Prefix', backend: { service: { name: pool } } }
}

function config(secrets: readonly string[], endpoints: readonly TestUpstream[], webExtras: object = {}): object {
  const urls = endpoints.map((upstream) => upstream.url)
  const pool = (name: string, affinity: object): object => ({ name, endpoints: urls, drainTimeout: '1s', affinity: { responseHeader: true, ...affinity }, ...(name === 'web' ? webExtras : {}) })
  return {
    listen: '127.0.0.1:0',
    admin: { listen: '127.0.0.1:0' },
    log: { level: 'info', access: 'stdout' },
    shutdown: { drainDelay: '0s', drainTimeout: '3s' },
    sessionSecrets: secrets,
    pools: [
      pool('web', { mode: 'cookie' }),
      pool('other', { mode: 'cookie' }),
      pool('api', { mode: 'header' }),
      pool('short', { mode: 'cookie', cookie: { maxAge: '1s' } }),
      pool('idle', { mode: 'cookie', cookie: { idleTimeout: '2s' } }),
      pool('hidle', { mode: 'header', header: { idleTimeout: '2s' } }),
    ],
    routes: { rules: [{ http: { paths: [prefix('/', 'web'), prefix('/other', 'other'), prefix('/api', 'api'), prefix('/short', 'short'), prefix('/idle', 'idle'), prefix('/hidle', 'hidle')] } }] },
  }
}

beforeAll(async () => {
  upstreams = await Promise.all(['a', 'b', 'c'].map((name) => startUpstream(name)))
  latch = await startLatch({ config: config([OLD_SECRET], upstreams) })
})

afterAll(async () => {
  await latch.stop()
  await Promise.all(upstreams.map((upstream) => upstream.stop()))
})

interface Answer {
  readonly upstream: string
  readonly outcome: string | undefined
  /** The `latch` cookie value Latch set, if any. */
  readonly cookie: string | undefined
  /** The whole Set-Cookie header values. */
  readonly setCookies: readonly string[]
  /** The `x-latch-session` token Latch returned, if any. */
  readonly token: string | undefined
  /** The Cookie header the upstream received. */
  readonly upstreamCookie: string | undefined
  /** The x-latch-session header the upstream received. */
  readonly upstreamToken: string | undefined
  readonly response: SimpleResponse
}

async function get(path: string, headers: Record<string, string | string[]> | string[] = {}): Promise<Answer> {
  const response = await send({ port: latch.port, path, headers })
  expect(response.status, response.body).toBe(200)
  const setCookies = response.headers['set-cookie'] ?? []
  handedOut.push(...setCookies)
  const token = response.headers['x-latch-session'] as string | undefined
  if (token !== undefined) handedOut.push(token)
  const ours = setCookies.find((line) => line.startsWith('latch='))
  const echoed = response.json as { headers: Record<string, string | undefined> }
  return {
    upstream: String(response.headers['x-upstream']),
    outcome: response.headers['x-latch-affinity'] as string | undefined,
    cookie: ours === undefined ? undefined : (ours.split(';')[0] as string).slice('latch='.length),
    setCookies,
    token,
    upstreamCookie: echoed.headers.cookie,
    upstreamToken: echoed.headers['x-latch-session'],
    response,
  }
}

/** A token for a new session of `path`'s pool (cookie or header mode). */
async function freshToken(path: string, mode: 'cookie' | 'header'): Promise<{ token: string; upstream: string }> {
  const answer = await get(path)
  expect(answer.outcome).toBe('new')
  const token = mode === 'cookie' ? answer.cookie : answer.token
  expect(token).toMatch(TOKEN)
  return { token: token as string, upstream: answer.upstream }
}

/** The same token with one character in the middle of the MAC changed. */
function flipped(token: string): string {
  const at = 45
  const replacement = token[at] === 'A' ? 'B' : 'A'
  return token.slice(0, at) + replacement + token.slice(at + 1)
}

/**
 * 43 bytes take 58 base64url characters whose last one carries only 2 bits: changing its 4 low bits
 * gives another text that decodes to the very same bytes. Such a text is not the token Latch issued.
 */
function lowBitsChanged(token: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  const last = alphabet.indexOf(token.at(-1) as string)
  const changed = token.slice(0, -1) + (alphabet[last ^ 1] as string)
  expect(Buffer.from(changed, 'base64url').equals(Buffer.from(token, 'base64url'))).toBe(true)
  return changed
}

async function invalidCount(pool: string, outcome: string): Promise<number> {
  return samplesOf((await scrapeMetrics(latch)).families, 'latch_affinity_requests_total', { pool, outcome }).reduce((sum, sample) => sum + sample.value, 0)
}

/**
 * Sends a tampered credential six times. Under round-robin over three endpoints the six requests must
 * reach all three (a client whose token chose the endpoint would always reach the same one), each
 * answer must be flagged `outcome`, carry a new genuine token that then hits, and the tampered value
 * must never reach an upstream.
 */
async function expectTreatedAsAbsent(path: string, mode: 'cookie' | 'header', headers: Record<string, string | string[]> | string[], tampered: string, outcome = 'invalid'): Promise<void> {
  const reached = new Set<string>()
  for (let i = 0; i < 6; i++) {
    const answer = await get(path, headers)
    expect(answer.outcome).toBe(outcome)
    reached.add(answer.upstream)
    const fresh = mode === 'cookie' ? answer.cookie : answer.token
    expect(fresh).toMatch(TOKEN)
    expect(fresh).not.toBe(tampered)
    if (mode === 'cookie') expect(answer.upstreamCookie ?? '').not.toContain('latch=')
    if (i === 0) {
      const again = await get(path, mode === 'cookie' ? { cookie: `latch=${fresh as string}` } : { 'x-latch-session': fresh as string })
      expect(again.outcome).toBe('hit')
      expect(again.upstream).toBe(answer.upstream)
    }
  }
  expect([...reached].sort()).toEqual(['a', 'b', 'c'])
}

describe('cookie mode: a cookie that is not a genuine, current token of this pool is treated as absent', () => {
  it('a genuine cookie hits its endpoint, is stripped from the upstream request, and is not rewritten', async () => {
    const { token, upstream } = await freshToken('/', 'cookie')
    for (let i = 0; i < 4; i++) {
      const answer = await get('/', { cookie: `theme=dark; latch=${token}; lang=en` })
      expect(answer.outcome).toBe('hit')
      expect(answer.upstream).toBe(upstream)
      expect(answer.setCookies).toEqual([])
      expect(answer.upstreamCookie).toBe('theme=dark; lang=en')
    }
  })

  const cases: [string, (port: number, genuine: string, foreign: string) => string][] = [
    ['a random value of the right shape', () => `latch=${'Q'.repeat(29)}${'w'.repeat(29)}`],
    ['a short garbage value', () => 'latch=hello'],
    ['a genuine token with its signature changed', (_port, genuine) => `latch=${flipped(genuine)}`],
    ['a truncated token', (_port, genuine) => `latch=${genuine.slice(0, 50)}`],
    ['a genuine token whose last character is changed in its unused low bits (same decoded bytes)', (_port, genuine) => `latch=${lowBitsChanged(genuine)}`],
    ['a genuine token with a character appended', (_port, genuine) => `latch=${genuine}A`],
    ['a token of another pool (same secret, same endpoints, same cookie name)', (_port, _genuine, foreign) => `latch=${foreign}`],
    ['an 8 KiB value', () => `latch=${'x'.repeat(8192)}`],
    ['the address and port of an endpoint', (port) => `latch=127.0.0.1:${port}`],
    ['an endpoint URL, percent-encoded', (port) => `latch=${encodeURIComponent(`http://127.0.0.1:${port}`)}`],
    ['an endpoint id with a plausible token prefix', (port) => `latch=AQ${Buffer.from(`127.0.0.1:${port}`).toString('base64url').padEnd(56, 'A')}`],
  ]

  it.each(cases)('%s', async (_name, make) => {
    const genuine = (await freshToken('/', 'cookie')).token
    const foreign = (await freshToken('/other', 'cookie')).token
    const before = await invalidCount('web', 'invalid')
    const target = upstreams[1] as TestUpstream
    const cookie = make(target.port, genuine, foreign)
    await expectTreatedAsAbsent('/', 'cookie', { cookie: `theme=dark; ${cookie}` }, cookie.slice('latch='.length))
    // Six tampered requests, each counted once (the follow-up with the new cookie is a hit).
    expect((await invalidCount('web', 'invalid')) - before).toBe(6)
  })

  it('duplicate affinity cookies, even two genuine ones, are treated as absent and none is forwarded', async () => {
    const one = (await freshToken('/', 'cookie')).token
    const two = (await freshToken('/', 'cookie')).token
    for (const cookie of [`latch=${one}; latch=${one}`, `latch=${one}; theme=dark; latch=${two}`, `latch=${flipped(one)}; latch=${one}`]) {
      await expectTreatedAsAbsent('/', 'cookie', { cookie }, one)
    }
    // Two Cookie header lines are joined into one list by Latch; a duplicate across them counts too.
    await expectTreatedAsAbsent('/', 'cookie', ['Host', 'localhost', 'Cookie', `latch=${one}`, 'Cookie', `latch=${two}`], one)
  })

  it('the access log records the outcome of every request of a pool with affinity', async () => {
    await get('/', { cookie: 'latch=nonsense' })
    const line = await waitFor(() => accessLines(latch).findLast((entry) => entry.pool === 'web' && entry.affinity === 'invalid'), 5000, 20, 'access line')
    expect(line.affinity).toBe('invalid')
    expect(JSON.stringify(accessLines(latch))).not.toContain('nonsense')
  })
})

describe('header mode: the same rules for the x-latch-session token', () => {
  it('a genuine token hits its endpoint and is not re-issued on every response', async () => {
    const { token, upstream } = await freshToken('/api', 'header')
    for (let i = 0; i < 4; i++) {
      const answer = await get('/api', { 'x-latch-session': token })
      expect(answer.outcome).toBe('hit')
      expect(answer.upstream).toBe(upstream)
      expect(answer.token).toBeUndefined()
    }
  })

  const cases: [string, (port: number, genuine: string, cookieToken: string) => string][] = [
    ['a random value of the right shape', () => 'Z'.repeat(58)],
    ['a genuine token with its signature changed', (_port, genuine) => flipped(genuine)],
    ['a truncated token', (_port, genuine) => genuine.slice(0, 57)],
    ['a cookie-mode token of the same secret (another scope)', (_port, _genuine, cookieToken) => cookieToken],
    ['an 8 KiB value', () => 'y'.repeat(8192)],
    ['the address and port of an endpoint', (port) => `127.0.0.1:${port}`],
  ]

  it.each(cases)('%s', async (_name, make) => {
    const genuine = (await freshToken('/api', 'header')).token
    const cookieToken = (await freshToken('/', 'cookie')).token
    const before = await invalidCount('api', 'invalid')
    const value = make((upstreams[2] as TestUpstream).port, genuine, cookieToken)
    await expectTreatedAsAbsent('/api', 'header', { 'x-latch-session': value }, value)
    expect((await invalidCount('api', 'invalid')) - before).toBe(6)
  })
})

describe('lifetimes are enforced by Latch, not only by the client', () => {
  it('maxAge: a cookie past its absolute lifetime is expired even while in use', async () => {
    const { token, upstream } = await freshToken('/short', 'cookie')
    const first = await get('/short', { cookie: `latch=${token}` })
    expect(first.outcome).toBe('hit')
    expect(first.upstream).toBe(upstream)
    const expired = await waitFor(async () => {
      const answer = await get('/short', { cookie: `latch=${token}` })
      return answer.outcome === 'expired' ? answer : undefined
    }, 5000, 100, 'the cookie to expire')
    expect(expired.cookie).toMatch(TOKEN)
    expect(expired.cookie).not.toBe(token)
    expect(expired.upstreamCookie).toBeUndefined()
    const before = await invalidCount('short', 'expired')
    await expectTreatedAsAbsent('/short', 'cookie', { cookie: `latch=${token}` }, token, 'expired')
    expect((await invalidCount('short', 'expired')) - before).toBe(6)
  })

  it('idleTimeout: an idle cookie expires; one in use is re-issued past half its idle time, not on every response', async () => {
    const { token } = await freshToken('/idle', 'cookie')
    // Within the first half of the idle time the cookie is not rewritten.
    const soon = await get('/idle', { cookie: `latch=${token}` })
    expect(soon.outcome).toBe('hit')
    expect(soon.setCookies).toEqual([])
    // Past half of it, a request refreshes it: the same session, a new cookie.
    const refreshed = await waitFor(async () => {
      const answer = await get('/idle', { cookie: `latch=${token}` })
      return answer.cookie !== undefined ? answer : undefined
    }, 5000, 100, 'a refreshed cookie')
    expect(refreshed.outcome).toBe('hit')
    expect(refreshed.cookie).not.toBe(token)
    // The old cookie, now unused, expires; the refreshed one, used, keeps hitting.
    const renewed = refreshed.cookie as string
    const expired = await waitFor(async () => {
      const answer = await get('/idle', { cookie: `latch=${token}` })
      return answer.outcome === 'expired' ? answer : undefined
    }, 5000, 100, 'the idle cookie to expire')
    expect(expired.cookie).toMatch(TOKEN)
    const kept = await get('/idle', { cookie: `latch=${renewed}` })
    expect(kept.outcome).toBe('hit')
    expect(kept.upstream).toBe(refreshed.upstream)
  })

  it('idleTimeout in header mode: an idle token expires', async () => {
    const { token } = await freshToken('/hidle', 'header')
    const expired = await waitFor(async () => {
      const answer = await get('/hidle', { 'x-latch-session': token })
      return answer.outcome === 'expired' ? answer : undefined
    }, 6000, 200, 'the idle token to expire')
    expect(expired.token).toMatch(TOKEN)
  })
})

describe('no token names an address or a port', () => {
  it('every Set-Cookie and token header Latch sent is opaque', () => {
    expect(handedOut.length).toBeGreaterThan(50)
    const ports = [latch.port, ...upstreams.map((upstream) => upstream.port)].map(String)
    for (const value of handedOut) {
      expect(value).not.toMatch(/\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}/)
      expect(value).not.toMatch(/\[?[0-9a-f]*:[0-9a-f:]+\]?/i)
      const token = value.startsWith('latch=') ? ((value.split(';')[0] as string).slice(6)) : value
      expect(token).toMatch(TOKEN)
      const bytes = Buffer.from(token, 'base64url').toString('latin1')
      expect(bytes).not.toContain('127.0.0.1')
      for (const port of ports) expect(token).not.toContain(port)
    }
  })
})

describe('secret rotation', () => {
  it('the first secret signs and every listed secret verifies; a secret removed from the list no longer verifies', async () => {
    const reload = async (secrets: readonly string[]): Promise<void> => {
      const before = latch.logs.filter((line) => line.msg === 'config reloaded').length
      writeFileSync(latch.configFile as string, stringify(config(secrets, upstreams)))
      latch.child.kill('SIGHUP')
      await waitFor(() => latch.logs.filter((line) => line.msg === 'config reloaded').length > before, 5000, 20, 'reload')
    }
    const old = await freshToken('/', 'cookie')
    const oldHeader = await freshToken('/api', 'header')
    // Roll the new secret in first: old tokens still verify, new tokens are signed by the new secret.
    await reload([NEW_SECRET, OLD_SECRET])
    const stillOld = await get('/', { cookie: `latch=${old.token}` })
    expect(stillOld.outcome).toBe('hit')
    expect(stillOld.upstream).toBe(old.upstream)
    expect((await get('/api', { 'x-latch-session': oldHeader.token })).outcome).toBe('hit')
    const renewed = await freshToken('/', 'cookie')
    // The signing key's fingerprint (bytes 1–2) changed: the new token is signed by the new secret.
    expect(Buffer.from(renewed.token, 'base64url').readUInt16BE(1)).not.toBe(Buffer.from(old.token, 'base64url').readUInt16BE(1))
    // Retire the old secret: its tokens are now treated as absent; the new secret's still hit.
    await reload([NEW_SECRET])
    await expectTreatedAsAbsent('/', 'cookie', { cookie: `latch=${old.token}` }, old.token)
    await expectTreatedAsAbsent('/api', 'header', { 'x-latch-session': oldHeader.token }, oldHeader.token)
    const kept = await get('/', { cookie: `latch=${renewed.token}` })
    expect(kept.outcome).toBe('hit')
    expect(kept.upstream).toBe(renewed.upstream)
  })

  const scaleDowns: [string, object][] = [
    ['only the pool\'s endpoint list changes', {}],
    ['the pool\'s other settings change too (the pool is rebuilt)', { balance: 'random', retry: { attempts: 2 } }],
  ]
  it.each(scaleDowns)('a genuine token whose endpoint left the pool keeps it while it drains, then moves once to a normal pick (rebound): %s', async (_name, webExtras) => {
    const reload = async (next: object): Promise<void> => {
      const before = latch.logs.filter((line) => line.msg === 'config reloaded').length
      writeFileSync(latch.configFile as string, stringify(next))
      latch.child.kill('SIGHUP')
      await waitFor(() => latch.logs.filter((line) => line.msg === 'config reloaded').length > before, 5000, 20, 'reload')
    }
    // All three endpoints, as at the start; then bind a session to c.
    await reload(config([NEW_SECRET], upstreams))
    let bound: { token: string; upstream: string } | undefined
    for (let i = 0; i < 9 && bound?.upstream !== 'c'; i++) bound = await freshToken('/', 'cookie')
    expect(bound?.upstream).toBe('c')
    // Scale c out of the pool: it drains for the pool's drainTimeout (1s).
    await reload(config([NEW_SECRET], upstreams.slice(0, 2), webExtras))
    const cookie = `latch=${(bound as { token: string }).token}`
    const draining = await get('/', { cookie })
    expect(draining.outcome).toBe('hit')
    expect(draining.upstream).toBe('c')
    // New sessions never go to the draining endpoint.
    for (let i = 0; i < 4; i++) expect((await freshToken('/', 'cookie')).upstream).not.toBe('c')
    const moved = await waitFor(async () => {
      const answer = await get('/', { cookie })
      return answer.outcome === 'hit' ? undefined : answer
    }, 5000, 100, 'the endpoint to leave the pool')
    expect(moved.outcome).toBe('rebound')
    expect(['a', 'b']).toContain(moved.upstream)
    expect(moved.cookie).toMatch(TOKEN)
    const after = await get('/', { cookie: `latch=${moved.cookie as string}` })
    expect(after.outcome).toBe('hit')
    expect(after.upstream).toBe(moved.upstream)
  })
})
