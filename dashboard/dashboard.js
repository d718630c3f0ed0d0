// latch-dashboard: the admin listener's live page. Plain DOM, no build step, no network but this listener.
// Every value from the config or the runtime is inserted with textContent (never as HTML); the page's
// Content-Security-Policy forbids inline scripts and styles (bar widths are set through the CSSOM).
'use strict'

/** How often the page polls the admin API. */
const POLL_MS = 2000

const page = {
  /** The admin token, asked for when an action is refused with 401; kept in memory only. */
  token: undefined,
  /** Previous counters per endpoint (`pool\u0000id`), for per-endpoint rates between polls. */
  previous: new Map(),
  /** Endpoint rows by `pool\u0000id`, and pool sections by name (updated in place, never rebuilt). */
  rows: new Map(),
  pools: new Map(),
  /** uPlot charts by pool name. */
  charts: new Map(),
}

/** Creates an element; `text` (any value) becomes its text content. */
function el(tag, className, text) {
  const node = document.createElement(tag)
  if (className) node.className = className
  if (text !== undefined) node.textContent = String(text)
  return node
}

function byId(id) {
  return document.getElementById(id)
}

async function getJson(path) {
  const response = await fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store' })
  if (!response.ok) throw new Error(`${path} answered ${response.status}`)
  return response.json()
}

function formatNumber(value, digits) {
  return value === null || value === undefined || Number.isNaN(value) ? '—' : value.toFixed(digits)
}

/** A latency in ms, with the digits that mean something at its size. */
function formatMs(ms) {
  if (ms === null || ms === undefined) return '—'
  return `${ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : ms.toFixed(0)} ms`
}

function formatUptime(seconds) {
  const d = Math.floor(seconds / 86400)
  const h = Math.floor((seconds % 86400) / 3600)
  const m = Math.floor((seconds % 3600) / 60)
  const s = seconds % 60
  return d > 0 ? `${d}d ${h}h ${m}m` : h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${s}s` : `${s}s`
}

function ago(iso) {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000))
  return seconds < 60 ? `${seconds}s ago` : `${Math.round(seconds / 60)}m ago`
}

// ---- Overview -------------------------------------------------------------------------------------

function renderOverview(overview) {
  const store = overview.store.type === 'redis'
    ? `redis ${overview.store.target}: ${overview.store.connected ? 'connected' : 'NOT connected'}, circuit breaker ${overview.store.breaker} — ${overview.store.detail}`
    : `memory (up to ${overview.store.maxEntries} bindings)`
  const facts = [
    ['Version', overview.version],
    ['Uptime', `${formatUptime(overview.uptimeSeconds)} (pid ${overview.pid})`],
    ['Workers', overview.workers.configured === 1 ? '1 (single process)' : `${overview.workers.serving} of ${overview.workers.configured} serving`],
    ['Listeners', overview.listeners.join(', ')],
    ['Config file', overview.configFile ?? 'none (quick mode: command line)'],
    ['Store', store],
  ]
  const list = byId('overview-list')
  list.replaceChildren(...facts.flatMap(([name, value]) => [el('dt', '', name), el('dd', '', value)]))
  const rows = overview.reloads.map((reload) => {
    const row = el('tr')
    row.append(el('td', '', new Date(reload.at).toLocaleString()), el('td', '', reload.trigger))
    const outcome = el('td')
    outcome.append(el('span', `badge ${reload.ok ? 'ok' : 'failed'}`, reload.ok ? 'applied' : `refused (${reload.error})`))
    const detail = reload.ok ? (reload.changes.length === 0 ? 'no changes' : reload.changes.join('\n')) : reload.message
    row.append(outcome, el('td', 'detail', detail))
    return row
  })
  if (rows.length === 0) {
    const row = el('tr')
    const cell = el('td', 'muted', 'no reload since start')
    cell.colSpan = 4
    row.append(cell)
    rows.push(row)
  }
  byId('reload-rows').replaceChildren(...rows)
}

// ---- Routes ---------------------------------------------------------------------------------------

function renderRoutes(routes) {
  byId('route-rows').replaceChildren(...routes.map((route) => {
    const row = el('tr')
    row.append(el('td', '', route.host), el('td', '', route.path ?? '(any)'), el('td', '', route.pathType), el('td', '', route.pool))
    return row
  }))
}

// ---- Pools and endpoints --------------------------------------------------------------------------

/** What the state badge says: ejected (passive health) shows over healthy. */
function displayState(endpoint) {
  if (endpoint.state === 'healthy' && endpoint.ejectedUntil !== null && Date.parse(endpoint.ejectedUntil) > Date.now()) return 'ejected'
  return endpoint.state
}

function lastCheckText(check) {
  if (check === null) return 'no active check'
  const result = check.ok ? `ok${check.status === null ? '' : ` ${check.status}`}` : `failed: ${check.error ?? check.status}`
  return `${result}, ${ago(check.at)} (${Math.round(check.durationMs)} ms)`
}

function poolSection(pool) {
  let section = page.pools.get(pool.name)
  if (section !== undefined) return section
  const root = el('div', 'pool')
  root.dataset.pool = pool.name
  const title = el('h3')
  const name = el('span', 'pool-name', pool.name)
  const panic = el('span', 'badge state-panic', 'panic')
  const summary = el('span', 'muted')
  title.append(name, panic, summary)
  const table = el('table', 'grid')
  const head = el('tr')
  for (const label of ['Endpoint', 'State', 'Last check', 'In flight', 'Req/s', 'Errors', 'p50', 'p99', 'Live sessions', 'Actions']) {
    const th = el('th', '', label)
    if (label === 'p50' || label === 'p99') th.title = 'latency of the requests this endpoint served over the last minute'
    head.append(th)
  }
  const thead = el('thead')
  thead.append(head)
  const body = el('tbody')
  table.append(thead, body)
  root.append(title, table)
  byId('pool-list').append(root)
  section = { root, panic, summary, body }
  page.pools.set(pool.name, section)
  return section
}

function endpointRow(pool, endpoint, body) {
  const key = `${pool.name}\u0000${endpoint.id}`
  let row = page.rows.get(key)
  if (row !== undefined) return row
  const tr = el('tr', 'endpoint')
  tr.dataset.pool = pool.name
  tr.dataset.endpoint = endpoint.id
  const cells = {
    id: el('td', 'endpoint-id'),
    state: el('span', 'badge state'),
    check: el('td', 'check'),
    inflight: el('td', 'num inflight'),
    rate: el('td', 'num rate'),
    errors: el('td', 'num errors'),
    p50: el('td', 'num p50'),
    p99: el('td', 'num p99'),
    bar: el('div', 'bar'),
    count: el('span', 'sessions-count'),
  }
  const stateCell = el('td')
  stateCell.append(cells.state)
  const sessions = el('td')
  const wrap = el('div', 'sessions')
  const track = el('div', 'bar-track')
  track.append(cells.bar)
  wrap.append(track, cells.count)
  sessions.append(wrap)
  const actions = el('td', 'actions')
  for (const action of ['drain', 'undrain', 'maintenance']) {
    const button = el('button', 'action', action)
    button.type = 'button'
    button.dataset.action = action
    button.addEventListener('click', () => void endpointAction(pool.name, endpoint.id, action))
    actions.append(button)
  }
  tr.append(cells.id, stateCell, cells.check, cells.inflight, cells.rate, cells.errors, cells.p50, cells.p99, sessions, actions)
  body.append(tr)
  row = { tr, cells, seen: true }
  page.rows.set(key, row)
  return row
}

function renderPools(pools, now) {
  for (const row of page.rows.values()) row.seen = false
  const names = new Set()
  for (const pool of pools) {
    names.add(pool.name)
    const section = poolSection(pool)
    section.panic.hidden = !pool.panic
    const totalSessions = pool.endpoints.reduce((sum, endpoint) => sum + endpoint.sessions, 0)
    section.summary.textContent = `${pool.endpoints.length} endpoints, ${totalSessions} live sessions${pool.queue.length > 0 ? `, ${pool.queue.length} queued` : ''}`
    for (const endpoint of pool.endpoints) {
      const row = endpointRow(pool, endpoint, section.body)
      row.seen = true
      const key = `${pool.name}\u0000${endpoint.id}`
      const before = page.previous.get(key)
      page.previous.set(key, { total: endpoint.total, failures: endpoint.failures, at: now })
      let rate = null
      let ratio = null
      if (before !== undefined && now > before.at && endpoint.total >= before.total) {
        const requests = endpoint.total - before.total
        rate = (requests * 1000) / (now - before.at)
        ratio = requests === 0 ? null : Math.max(0, endpoint.failures - before.failures) / requests
      }
      const { cells } = row
      cells.id.textContent = endpoint.id
      cells.id.title = `${endpoint.url} (${endpoint.source}, weight ${endpoint.weight})`
      const state = displayState(endpoint)
      cells.state.textContent = state
      cells.state.className = `badge state state-${state}`
      cells.check.textContent = lastCheckText(endpoint.lastCheck)
      cells.inflight.textContent = String(endpoint.inflight)
      cells.rate.textContent = formatNumber(rate, 1)
      cells.errors.textContent = ratio === null ? '—' : `${(ratio * 100).toFixed(1)} %`
      cells.p50.textContent = formatMs(endpoint.latency.p50Ms)
      cells.p99.textContent = formatMs(endpoint.latency.p99Ms)
      cells.p99.title = `${endpoint.latency.requests} requests in the last ${endpoint.latency.windowSeconds} s`
      cells.count.textContent = String(endpoint.sessions)
      // CSSOM, which the CSP allows (a style attribute would not be).
      cells.bar.style.width = `${totalSessions === 0 ? 0 : (100 * endpoint.sessions) / totalSessions}%`
    }
  }
  for (const [key, row] of page.rows) {
    if (row.seen) continue
    row.tr.remove()
    page.rows.delete(key)
    page.previous.delete(key)
  }
  for (const [name, section] of page.pools) {
    if (names.has(name)) continue
    section.root.remove()
    page.pools.delete(name)
  }
}

// ---- Charts ---------------------------------------------------------------------------------------

function chartData(history, pool) {
  const series = history.pools[pool]
  const p99ms = series.p99Seconds.map((value) => (value === null ? null : value * 1000))
  return [history.times.map((ms) => ms / 1000), series.requestsPerSecond, series.errorsPerSecond, p99ms]
}

function renderCharts(history) {
  if (typeof uPlot !== 'function') return
  const list = byId('chart-list')
  const width = Math.max(320, list.clientWidth - 10)
  for (const name of Object.keys(history.pools)) {
    const data = chartData(history, name)
    const chart = page.charts.get(name)
    if (chart !== undefined) {
      chart.setData(data)
      continue
    }
    const box = el('div', 'chart')
    box.dataset.pool = name
    box.append(el('h3', '', name))
    list.append(box)
    const options = {
      width,
      height: 180,
      series: [
        {},
        { label: 'req/s', stroke: '#0969da', width: 2 },
        { label: 'errors/s', stroke: '#cf222e', width: 2 },
        { label: 'p99 ms', stroke: '#8250df', width: 1.5, scale: 'ms' },
      ],
      axes: [{ space: 80 }, { label: 'per second' }, { side: 1, scale: 'ms', label: 'p99 ms', grid: { show: false } }],
      scales: { x: { time: true } },
    }
    page.charts.set(name, new uPlot(options, data, box))
  }
  for (const [name, chart] of page.charts) {
    if (Object.hasOwn(history.pools, name)) continue
    chart.root.parentElement?.remove()
    chart.destroy()
    page.charts.delete(name)
  }
}

// ---- Actions --------------------------------------------------------------------------------------

function showResult(ok, text) {
  const box = byId('action-result')
  box.hidden = false
  box.className = `action-result ${ok ? 'ok' : 'error'}`
  box.textContent = text
}

/** POSTs an action with the headers the admin API requires (never a cookie: no CSRF). */
function post(path) {
  const headers = { 'X-Latch-Admin': '1' }
  if (page.token !== undefined) headers.Authorization = `Bearer ${page.token}`
  return fetch(path, { method: 'POST', headers, cache: 'no-store' })
}

/** Confirms, sends, asks for the token once when refused with 401, and shows the outcome. */
async function runAction(label, path, describe) {
  if (!window.confirm(`${label}?`)) return
  try {
    let response = await post(path)
    if (response.status === 401) {
      const token = window.prompt(`${label}: this action needs the admin token (admin.token). It is kept in this page's memory only.`)
      if (token) {
        page.token = token
        response = await post(path)
      }
    }
    const body = await response.json().catch(() => ({}))
    if (response.ok) showResult(true, describe(body))
    else {
      if (response.status === 401) page.token = undefined
      const issues = Array.isArray(body.issues) && body.issues.length > 0 ? `\n${body.issues.join('\n')}` : ''
      showResult(false, `${label}: refused (${response.status} ${body.error ?? ''}): ${body.message ?? response.statusText}${issues}`)
    }
  } catch (error) {
    showResult(false, `${label}: ${error.message}`)
  }
  void refresh()
}

function endpointAction(pool, endpoint, action) {
  const path = `/pools/${encodeURIComponent(pool)}/endpoints/${encodeURIComponent(endpoint)}/${action}`
  return runAction(`${action} ${endpoint} in pool ${pool}`, path, (body) => `${action} ${body.endpoint.id} in pool ${body.pool}: now ${body.endpoint.state}`)
}

function reloadConfig() {
  return runAction('Reload the config', '/reload', (body) => `Config reloaded: ${body.changes.length === 0 ? 'no changes' : body.changes.join('; ')}`)
}

// ---- Polling --------------------------------------------------------------------------------------

async function refresh() {
  const status = byId('status')
  try {
    const now = Date.now()
    const [overview, pools, history, routes] = await Promise.all([getJson('/overview'), getJson('/pools'), getJson('/history'), getJson('/routes')])
    renderOverview(overview)
    renderPools(pools.pools, now)
    renderCharts(history)
    renderRoutes(routes.routes)
    status.className = 'status'
    status.textContent = `live — updated ${new Date().toLocaleTimeString()}`
  } catch (error) {
    status.className = 'status error'
    status.textContent = `admin API unreachable: ${error.message}`
  }
}

async function poll() {
  await refresh()
  setTimeout(() => void poll(), POLL_MS)
}

byId('reload').addEventListener('click', () => void reloadConfig())
void poll()
