/**
 * The dashboard in a real headless Chromium (Debian's `chromium`, driven by playwright-core; no browser
 * is downloaded), against the real CLI with upstreams in child processes that can be `kill -9`ed.
 *
 * Without Chromium these tests are skipped with one line saying how to install it, except in CI
 * (`CI=true` or `LATCH_REQUIRE_BROWSER=1`, set by .ci/run), where the missing browser is a failure.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { chromium, type BrowserContext, type Dialog, type Page } from 'playwright-core'
import type { Agent } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adminCall } from '../helpers/admin-client.js'
import { startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { startProcessUpstream, type ProcessUpstream } from '../helpers/process-upstream.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { clientAgent, runClients, sessionClients, type SessionClient } from '../helpers/session-clients.js'
import { waitFor } from '../helpers/wait.js'

const CHROMIUM = process.env.LATCH_CHROMIUM ?? '/usr/bin/chromium'
const REQUIRED = process.env.CI === 'true' || process.env.LATCH_REQUIRE_BROWSER === '1'
const HAVE_CHROMIUM = existsSync(CHROMIUM)
const HOW_TO_INSTALL = `dashboard browser tests did not run: no Chromium at ${CHROMIUM} — install it with \`apt-get install chromium\` (Debian/Ubuntu) or set LATCH_CHROMIUM to its path`
if (!HAVE_CHROMIUM) {
  if (REQUIRED) throw new Error(`${HOW_TO_INSTALL} (required in CI)`)
  console.warn(HOW_TO_INSTALL)
}

const TOKEN = 'dashboard-browser-test-token-0123'
const SECRET = 'dashboard-browser-test-secret-0123456789abcdef'
/** Short, so a drained endpoint's sessions expire within the test. */
const LIVE_WINDOW_S = 6
/** The slow upstream's answer time in the latency test. */
const SLOW_MS = 400
const SCRIPT_PATH = '/<script>alert(1)</script>'
/** The page's element whose inline style the CSSOM sets (typed here: the tests compile without the DOM lib). */
type Styled = { style: { width: string } }
const SCREENSHOT = resolve(import.meta.dirname, '../../docs/dashboard.png')

/** What the next dialogs answer: confirm() accepted, prompt() given the token or cancelled. */
interface DialogPlan {
  prompt: string | null
}

/** A headless Chromium on a new empty profile (playwright-core adds --headless), and its first page. */
interface OpenBrowser {
  readonly context: BrowserContext
  readonly page: Page
  close(): Promise<void>
}

async function openBrowser(): Promise<OpenBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'latch-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60_000,
    viewport: { width: 1280, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  const page = context.pages()[0] ?? (await context.newPage())
  page.setDefaultTimeout(15_000)
  return {
    context,
    page,
    async close() {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
    },
  }
}

/** Collects the page's console errors and uncaught exceptions into `problems`. */
function collectProblems(page: Page, problems: string[]): void {
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text())
  })
  page.on('pageerror', (error) => problems.push(error.message))
}

describe.skipIf(!HAVE_CHROMIUM)('dashboard in headless Chromium', () => {
  let upstreams: ProcessUpstream[]
  let latch: LatchProcess
  let browser: OpenBrowser
  let page: Page
  let agent: Agent
  const consoleErrors: string[] = []
  const pageErrors: string[] = []
  const alerts: string[] = []
  const plan: DialogPlan = { prompt: null }
  let navigations = 0
  /** Clients kept visiting in the background (their sessions stay live); replaced by the drain test. */
  let active: SessionClient[] = []
  let clients: SessionClient[] = []
  let stopLoad = false
  let load: Promise<void> = Promise.resolve()

  const row = (upstream: ProcessUpstream): string => `tr.endpoint[data-pool="web"][data-endpoint="${upstream.id}"]`
  const text = async (selector: string): Promise<string> => ((await page.locator(selector).first().textContent({ timeout: 10_000 })) ?? '').trim()
  const stateOf = (upstream: ProcessUpstream): Promise<string> => text(`${row(upstream)} .state`)
  const sessionsOf = async (upstream: ProcessUpstream): Promise<number> => Number(await text(`${row(upstream)} .sessions-count`))

  /** Visits every active client about once a second until stopped (bounded: 3 minutes at most). */
  function keepVisiting(): Promise<void> {
    const deadline = Date.now() + 180_000
    return (async () => {
      while (!stopLoad && Date.now() < deadline) {
        await runClients(active, latch.url, { requests: 1, concurrency: 16, agent })
        await new Promise((resolveSleep) => setTimeout(resolveSleep, 1000))
      }
    })()
  }

  beforeAll(async () => {
    upstreams = await Promise.all(['a', 'b', 'c'].map((name) => startProcessUpstream(name)))
    latch = await startLatch({
      config: {
        listen: '127.0.0.1:0',
        admin: { listen: '127.0.0.1:0', token: TOKEN },
        log: { access: 'off' },
        sessionSecrets: [SECRET],
        pools: [
          {
            name: 'web',
            endpoints: upstreams.map((upstream) => upstream.url),
            healthCheck: { path: '/healthz', interval: '250ms', timeout: '500ms', unhealthyThreshold: 2, healthyThreshold: 1 },
            affinity: { mode: 'cookie', liveSessionWindow: `${LIVE_WINDOW_S}s` },
          },
        ],
        routes: { rules: [{ http: { paths: [{ path: SCRIPT_PATH, pathType: 'Exact', backend: { service: { name: 'web' } } }, { path: '/', pathType: 'Prefix', backend: { service: { name: 'web' } } }] } }] },
      },
      timeoutMs: 30_000,
    })
    agent = clientAgent(16)
    browser = await openBrowser()
    page = browser.page
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text())
    })
    page.on('pageerror', (error) => pageErrors.push(error.message))
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) navigations++
    })
    page.on('dialog', (dialog: Dialog) => {
      if (dialog.type() === 'confirm') void dialog.accept()
      else if (dialog.type() === 'prompt') void (plan.prompt === null ? dialog.dismiss() : dialog.accept(plan.prompt))
      else {
        alerts.push(dialog.message())
        void dialog.dismiss()
      }
    })
    // CSP violations are reported to the page as events (and to the console as errors).
    await page.addInitScript({ content: "window.cspViolations = []; document.addEventListener('securitypolicyviolation', (event) => window.cspViolations.push(event.violatedDirective + ' ' + event.blockedURI))" })
  }, 90_000)

  afterAll(async () => {
    stopLoad = true
    await load
    await browser?.close()
    await latch?.stop()
    await agent?.close()
    await Promise.all((upstreams ?? []).map((upstream) => upstream.kill()))
  })

  it('loads with no console error and no CSP violation, and shows the three endpoints of the pool with their states', async () => {
    await page.goto(`${latch.adminUrl}/`)
    for (const upstream of upstreams) await waitFor(async () => (await stateOf(upstream)) === 'healthy', 20_000, 100, `${upstream.id} shown healthy`)
    expect(await page.locator('tr.endpoint[data-pool="web"]').count()).toBe(3)
    // The pool is not in panic (all endpoints healthy): its badge stays hidden.
    expect(await page.locator('.pool[data-pool="web"] h3 .state-panic').isVisible()).toBe(false)
    await waitFor(async () => (await text('#status')).startsWith('live'), 10_000, 100, 'status "live"')
    expect(await page.evaluate('window.cspViolations')).toEqual([])
    expect(consoleErrors).toEqual([])
    expect(pageErrors).toEqual([])
  }, 60_000)

  it('shows a route path named <script>alert(1)</script> as text, never as markup', async () => {
    await waitFor(async () => (await page.locator('#route-rows td').allTextContents()).includes(SCRIPT_PATH), 10_000, 100, 'the <script> path in the routes table')
    expect(await page.locator('#route-rows script, #route-rows img').count()).toBe(0)
    expect(alerts).toEqual([])
  })

  it('300 cookie clients spread over the 3 endpoints show session bars whose numbers sum to 300', async () => {
    clients = sessionClients(300, 'cookie')
    await runClients(clients, latch.url, { requests: 1, concurrency: 16, agent })
    expect(clients.every((client) => client.visits[0]?.status === 200)).toBe(true)
    active = clients
    load = keepVisiting()
    const counts = await waitFor(async () => {
      const shown = await Promise.all(upstreams.map(sessionsOf))
      return shown.reduce((sum, count) => sum + count, 0) === 300 ? shown : undefined
    }, 20_000, 200, 'session bars summing to 300')
    expect(counts.every((count) => count > 0)).toBe(true)
    const widths = await page.locator('tr.endpoint[data-pool="web"] .bar').evaluateAll((bars) => bars.map((bar) => Number.parseFloat((bar as unknown as Styled).style.width)))
    expect(widths.reduce((sum, width) => sum + width, 0)).toBeCloseTo(100, 0)
    // The screenshot in docs/guides/dashboard.md: the dashboard under this load, once the charts have a few samples.
    await waitFor(async () => {
      const reply = await adminCall(latch, 'GET', '/history')
      const web = (reply.body.pools as Record<string, { requestsPerSecond: (number | null)[] }>).web
      return (web?.requestsPerSecond.filter((value) => value !== null && value > 0).length ?? 0) >= 4
    }, 30_000, 500, 'four history samples with traffic')
    await new Promise((resolveSleep) => setTimeout(resolveSleep, 2500)) // one more poll, so the charts show them
    mkdirSync(dirname(SCREENSHOT), { recursive: true })
    await page.screenshot({ path: SCREENSHOT, fullPage: true })
  }, 90_000)

  it('an action without the token is refused, and the page says why', async () => {
    const target = upstreams[2] as ProcessUpstream
    plan.prompt = null // the operator cancels the token prompt
    await page.locator(`${row(target)} button[data-action="drain"]`).click()
    const message = await waitFor(async () => {
      const shown = await text('#action-result')
      return shown.includes('refused') ? shown : undefined
    }, 10_000, 100, 'the refusal shown')
    expect(message).toContain('401 ERR_ADMIN_UNAUTHORIZED')
    expect(message).toContain('missing Authorization header')
    const pools = await adminCall(latch, 'GET', '/pools')
    const endpoints = (pools.body.pools as { endpoints: { id: string; state: string }[] }[])[0]?.endpoints
    expect(endpoints?.find((endpoint) => endpoint.id === target.id)?.state).toBe('healthy')
  })

  it('drain with the token turns the endpoint "draining", then its bar falls as its sessions expire', async () => {
    const target = upstreams[1] as ProcessUpstream
    const before = await sessionsOf(target)
    expect(before).toBeGreaterThan(0)
    // From now on only the clients bound elsewhere come back: the drained endpoint's sessions go idle.
    active = clients.filter((client) => client.visits.at(-1)?.upstream !== target.name)
    plan.prompt = TOKEN
    await page.locator(`${row(target)} button[data-action="drain"]`).click()
    await waitFor(async () => (await stateOf(target)) === 'draining', 10_000, 100, `${target.id} shown draining`)
    expect(await text('#action-result')).toContain(`drain ${target.id} in pool web: now draining`)
    const seen: number[] = []
    await waitFor(async () => {
      const count = await sessionsOf(target)
      if (seen.at(-1) !== count) seen.push(count)
      return count === 0
    }, (LIVE_WINDOW_S + 20) * 1000, 200, `${target.id}'s sessions shown falling to 0`)
    expect(seen[0]).toBeGreaterThan(0)
    expect(seen.at(-1)).toBe(0)
    expect(await page.locator(`${row(target)} .bar`).evaluate((bar) => (bar as unknown as Styled).style.width)).toBe('0%')
    expect(await stateOf(target)).toBe('draining')
    // The clients that kept visiting keep their sessions on the other endpoints.
    for (const other of upstreams.filter((upstream) => upstream !== target)) expect(await sessionsOf(other)).toBeGreaterThan(0)
  }, 60_000)

  it('reload from the page: a refused config is shown with its reason, its <img onerror> host as text', async () => {
    const name = '<img src=x onerror=alert(1)>'
    writeFileSync(latch.configFile as string, `pools:\n  - name: web\n    endpoints: ["http://127.0.0.1:1"]\nroutes:\n  rules:\n    - host: "${name}"\n      http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: web } } }] }\n`)
    plan.prompt = TOKEN
    await page.locator('#reload').click()
    const message = await waitFor(async () => {
      const shown = await text('#action-result')
      return shown.startsWith('Reload the config') ? shown : undefined
    }, 10_000, 100, 'the reload outcome shown')
    expect(message).toContain('refused (422 CONFIG_INVALID)')
    expect(message).toContain(`invalid host "${name}"`)
    await waitFor(async () => (await page.locator('#reload-rows td.detail').allTextContents()).some((cell) => cell.includes(`invalid host "${name}"`)), 10_000, 100, 'the refused reload in the reloads table')
    expect(await page.locator('#action-result img, #reload-rows img').count()).toBe(0)
    expect(alerts).toEqual([])
  })

  it('kill -9 of an upstream turns its state to unhealthy on the page within 5 s, without a reload', async () => {
    const target = upstreams[0] as ProcessUpstream
    const navigationsBefore = navigations
    expect(await stateOf(target)).toBe('healthy')
    const killedAt = Date.now()
    await target.kill()
    await waitFor(async () => (await stateOf(target)) === 'unhealthy', 5000, 50, `${target.id} shown unhealthy`)
    expect(Date.now() - killedAt).toBeLessThanOrEqual(5000)
    expect(navigations).toBe(navigationsBefore)
  }, 30_000)

  it('raised no page error and no CSP violation during the whole session', async () => {
    expect(pageErrors).toEqual([])
    expect(await page.evaluate('window.cspViolations')).toEqual([])
    // The only console errors allowed are the browser's own notes of the refused calls (401 action, 422 reload).
    expect(consoleErrors.filter((line) => !/^Failed to load resource: the server responded with a status of (401|422)\b/.test(line))).toEqual([])
    expect(alerts).toEqual([])
  })
})

describe.skipIf(!HAVE_CHROMIUM)('dashboard in headless Chromium, --workers 2', () => {
  let upstreams: ProcessUpstream[]
  let latch: LatchProcess
  let browser: OpenBrowser
  let page: Page
  const problems: string[] = []

  beforeAll(async () => {
    upstreams = await Promise.all(['a', 'b', 'c'].map((name) => startProcessUpstream(name)))
    latch = await startLatch({
      config: { listen: '127.0.0.1:0', log: { access: 'off' }, sessionSecrets: [SECRET], pools: [{ name: 'web', endpoints: upstreams.map((upstream) => upstream.url), affinity: { mode: 'cookie' } }] },
      args: ['--workers', '2'],
      timeoutMs: 30_000,
    })
    browser = await openBrowser()
    page = browser.page
    collectProblems(page, problems)
    page.on('dialog', (dialog: Dialog) => void dialog.accept())
  }, 90_000)

  afterAll(async () => {
    await browser?.close()
    await latch?.stop()
    await Promise.all((upstreams ?? []).map((upstream) => upstream.kill()))
  })

  it('shows the supervisor\'s view: both workers, the sessions summed over workers, and a drain sent from the page', async () => {
    const agent = clientAgent(8)
    const clients = sessionClients(30, 'cookie')
    await runClients(clients, latch.url, { requests: 1, concurrency: 8, agent })
    await agent.close()
    await page.goto(`${latch.adminUrl}/`)
    await waitFor(async () => (await page.locator('#overview-list').textContent())?.includes('2 of 2 serving'), 20_000, 100, 'overview: 2 of 2 workers serving')
    const counts = async (): Promise<number[]> => (await page.locator('tr.endpoint[data-pool="web"] .sessions-count').allTextContents()).map(Number)
    await waitFor(async () => (await counts()).reduce((sum, count) => sum + count, 0) === 30, 20_000, 200, 'sessions of both workers summing to 30')
    expect(await counts()).toHaveLength(3)
    const target = upstreams[0] as ProcessUpstream
    await page.locator(`tr.endpoint[data-endpoint="${target.id}"] button[data-action="drain"]`).click()
    await waitFor(async () => (await page.locator(`tr.endpoint[data-endpoint="${target.id}"] .state`).textContent()) === 'draining', 10_000, 100, 'draining shown')
    expect(problems).toEqual([])
  }, 60_000)
})

describe.skipIf(!HAVE_CHROMIUM)('dashboard in headless Chromium, per-endpoint latency', () => {
  let fast: TestUpstream
  let slow: TestUpstream
  let latch: LatchProcess
  let browser: OpenBrowser
  let page: Page
  const problems: string[] = []

  beforeAll(async () => {
    fast = await startUpstream('fast')
    slow = await startUpstream('slow', { mode: { kind: 'delay', ms: SLOW_MS } })
    latch = await startLatch({
      config: { listen: '127.0.0.1:0', log: { access: 'off' }, pools: [{ name: 'lat', balance: 'round-robin', endpoints: [fast.url, slow.url] }] },
      timeoutMs: 30_000,
    })
    browser = await openBrowser()
    page = browser.page
    collectProblems(page, problems)
  }, 90_000)

  afterAll(async () => {
    await browser?.close()
    await latch?.stop()
    await Promise.all([fast?.stop(), slow?.stop()])
  })

  it('an endpoint behind a slow upstream shows a higher p99 than a fast one', async () => {
    // 40 requests, 4 at a time, round-robin: 20 to each endpoint.
    for (let batch = 0; batch < 10; batch++) {
      const statuses = await Promise.all(Array.from({ length: 4 }, async () => (await fetch(`${latch.url}/latency`)).status))
      expect(statuses).toEqual([200, 200, 200, 200])
    }
    await page.goto(`${latch.adminUrl}/`)
    const cell = (upstream: TestUpstream, column: 'p50' | 'p99'): string => `tr.endpoint[data-pool="lat"][data-endpoint="127.0.0.1:${upstream.port}"] .${column}`
    const ms = async (selector: string): Promise<number> => Number.parseFloat(((await page.locator(selector).textContent({ timeout: 10_000 })) ?? '').replace(' ms', ''))
    await waitFor(async () => !Number.isNaN(await ms(cell(fast, 'p99'))) && !Number.isNaN(await ms(cell(slow, 'p99'))), 20_000, 100, 'p99 shown for both endpoints')
    const fastP99 = await ms(cell(fast, 'p99'))
    const slowP99 = await ms(cell(slow, 'p99'))
    // Every request to the slow endpoint takes at least SLOW_MS, so its p99 lies above the 250 ms bound
    // (how far above depends on the machine's load); the fast one answers on loopback without waiting.
    expect(slowP99).toBeGreaterThan(250)
    expect(slowP99).toBeGreaterThan(fastP99)
    expect(await ms(cell(slow, 'p50'))).toBeGreaterThan(await ms(cell(fast, 'p50')))
    expect(await page.locator(cell(slow, 'p99')).getAttribute('title')).toBe('20 requests in the last 60 s')
    expect(problems).toEqual([])
  }, 60_000)
})
