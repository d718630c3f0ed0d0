import { afterEach, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { SESSION_COOKIE, startSessionApp, type SessionApp, type Visit } from '../../../src/demo/session-app.js'

const apps: SessionApp[] = []

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()))
})

async function start(name: string): Promise<SessionApp> {
  const app = await startSessionApp({ name })
  apps.push(app)
  return app
}

interface Answer {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly body: string
}

async function get(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await request(url, { headers })
  return { status: response.statusCode, headers: response.headers, body: await response.body.text() }
}

async function visit(app: SessionApp, cookie?: string): Promise<{ visit: Visit; setCookie: string | undefined }> {
  const answer = await get(`${app.url}/`, { accept: 'application/json', ...(cookie === undefined ? {} : { cookie }) })
  expect(answer.status).toBe(200)
  const setCookie = answer.headers['set-cookie'] as string | undefined
  return { visit: JSON.parse(answer.body) as Visit, setCookie }
}

describe('session demo app', () => {
  it('starts a session with an HttpOnly cookie and counts its visits in memory', async () => {
    const app = await start('backend-1')
    const first = await visit(app)
    expect(first.visit).toMatchObject({ backend: 'backend-1', visits: 1, newSession: true })
    expect(first.setCookie).toMatch(new RegExp(`^${SESSION_COOKIE}=[A-Za-z0-9_-]{12}; Path=/; HttpOnly; SameSite=Lax$`))
    const cookie = (first.setCookie as string).split(';')[0] as string
    // Another cookie beside it (Latch's affinity cookie, say) does not get in the way.
    const second = await visit(app, `latch=abc; ${cookie}`)
    const third = await visit(app, cookie)
    expect([second.visit.visits, third.visit.visits]).toEqual([2, 3])
    expect(second.visit.session).toBe(first.visit.session)
    expect(second.setCookie).toBeUndefined()
    expect(app.sessionCount()).toBe(1)
  })

  it('does not know a session another backend started: a fresh session at visit 1', async () => {
    const one = await start('backend-1')
    const two = await start('backend-2')
    const first = await visit(one)
    const cookie = (first.setCookie as string).split(';')[0] as string
    await visit(one, cookie)
    const elsewhere = await visit(two, cookie)
    expect(elsewhere.visit).toMatchObject({ backend: 'backend-2', visits: 1, newSession: true })
    expect(elsewhere.visit.session).not.toBe(first.visit.session)
  })

  it('treats a malformed session cookie as no session', async () => {
    const app = await start('backend-1')
    const answer = await visit(app, `${SESSION_COOKIE}=<script>`)
    expect(answer.visit.newSession).toBe(true)
    expect(answer.visit.session).toMatch(/^[A-Za-z0-9_-]{12}$/)
  })

  it('answers one text line for curl, a page for browsers, and names the backend in x-backend', async () => {
    const app = await start('backend-3')
    const text = await get(`${app.url}/any/path?x=1`)
    expect(text.headers['content-type']).toBe('text/plain; charset=utf-8')
    expect(text.headers['x-backend']).toBe('backend-3')
    expect(text.headers['x-session-visits']).toBe('1')
    expect(text.body).toMatch(/^backend-3 {2}session=[A-Za-z0-9_-]{12} {2}visits=1 {2}\(new session\)\n$/)
    const html = await get(`${app.url}/`, { accept: 'text/html,application/xhtml+xml' })
    expect(html.body).toContain('<h1>Served by backend-3</h1>')
    expect(html.body).toMatch(/visit 1</)
  })

  it('serves /healthz and /favicon.ico without starting sessions', async () => {
    const app = await start('backend-1')
    const health = await get(`${app.url}/healthz`)
    expect([health.status, health.body, health.headers['set-cookie']]).toEqual([200, 'ok\n', undefined])
    expect((await get(`${app.url}/favicon.ico`)).status).toBe(404)
    expect(app.sessionCount()).toBe(0)
  })

  it('escapes the backend name in its page', async () => {
    const app = await start('<b>&')
    const html = await get(`${app.url}/`, { accept: 'text/html' })
    expect(html.body).toContain('Served by &#60;b&#62;&#38;')
    expect(html.body).not.toContain('<b>&')
  })
})
