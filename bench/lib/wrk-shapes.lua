-- Latch bench: the request shapes for wrk (-t1), and its summary as one JSON line ({"wrk":...}).
-- Arguments after "--": <shape> <clients>
--   plain  : "GET /" on every connection; response() is off (wrk then skips header parsing).
--   xff    : <clients> virtual clients take turns; client i sends "X-Forwarded-For: 10.<i/256>.<i%256>.1".
--   cookie : <clients> virtual clients take turns; each sends "Cookie: sid=c<i>" plus every cookie the
--            proxy set for it (a cookie jar).
--   routed : "GET <the URL's path and query>" with "X-Tenant: <arg 3>" on every connection (the routing
--            benchmark's request); response() is off, as for plain.
-- Every shaped request carries "X-Client: <i>", which the upstreams echo, so response() knows whose
-- response it is: the first upstream a client sees is its home, a later response from another upstream
-- counts as "broken" stickiness. A client has at most one request in flight (a sequential client).

local shape, nclients = "plain", 1
local reqs, jar, home, inflight = {}, {}, {}, {}
local cur, issued, stale = 0, 0, 20000

-- read by done() through thread:get()
responses, broken, seen, unknown, cookies_set = 0, 0, 0, 0, 0
ups = {}

local function build(i)
  local h = { ["X-Client"] = tostring(i) }
  if shape == "cookie" then
    local c = "sid=c" .. i
    for k, v in pairs(jar[i] or {}) do c = c .. "; " .. k .. "=" .. v end
    h["Cookie"] = c
  elseif shape == "xff" then
    h["X-Forwarded-For"] = string.format("10.%d.%d.1", math.floor(i / 256), i % 256)
  end
  return wrk.format("GET", "/", h)
end

function init(args)
  shape = args[1] or "plain"
  nclients = tonumber(args[2] or "1000") or 1000
  stale = 20 * nclients
  if shape == "plain" then
    nclients = 1
    response = nil
    reqs[1] = wrk.format("GET", "/")
    return
  end
  if shape == "routed" then
    nclients = 1
    response = nil
    reqs[1] = wrk.format("GET", wrk.path, { ["X-Tenant"] = args[3] })
    return
  end
  for i = 1, nclients do reqs[i] = build(i) end
end

function request()
  if nclients == 1 then return reqs[1] end
  issued = issued + 1
  for _ = 1, nclients do
    cur = cur + 1
    if cur > nclients then cur = 1 end
    local s = inflight[cur]
    if s == nil or issued - s > stale then break end
  end
  inflight[cur] = issued
  return reqs[cur]
end

local function header(headers, lname)
  local v = headers[lname]
  if v then return v end
  for k, value in pairs(headers) do
    if string.lower(k) == lname then return value end
  end
  return nil
end

function response(status, headers, body)
  responses = responses + 1
  local up = header(headers, "x-upstream")
  local i = tonumber(header(headers, "x-client"))
  if not up or not i or i < 1 or i > nclients then unknown = unknown + 1; return end
  ups[up] = (ups[up] or 0) + 1
  inflight[i] = nil
  local h = home[i]
  if h == nil then home[i] = up; seen = seen + 1
  elseif h ~= up then broken = broken + 1 end
  if shape == "cookie" then
    local sc = header(headers, "set-cookie")
    if sc then
      local name, value = string.match(sc, "^%s*([^=;%s]+)=([^;]*)")
      if name then
        cookies_set = cookies_set + 1
        jar[i] = jar[i] or {}
        if jar[i][name] ~= value then jar[i][name] = value; reqs[i] = build(i) end
      end
    end
  end
end

local threads = {}
function setup(thread) table.insert(threads, thread) end

function done(summary, latency, requests)
  local a = { responses = 0, broken = 0, seen = 0, unknown = 0, cookies_set = 0 }
  local u = {}
  for _, t in ipairs(threads) do
    for k, _ in pairs(a) do a[k] = a[k] + (t:get(k) or 0) end
    for k, v in pairs(t:get("ups") or {}) do u[k] = (u[k] or 0) + v end
  end
  local ul = {}
  for k, v in pairs(u) do ul[#ul + 1] = string.format("%q:%d", tostring(k), v) end
  local e = summary.errors
  io.write(string.format(
    '{"wrk":{"requests":%.0f,"durationUs":%.0f,"p50Us":%.0f,"p99Us":%.0f,' ..
    '"connectErrors":%.0f,"readErrors":%.0f,"writeErrors":%.0f,"timeouts":%.0f,"statusErrors":%.0f,' ..
    '"responses":%d,"broken":%d,"clientsSeen":%d,"unknown":%d,"cookiesSet":%d,"upstreams":{%s}}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.timeout, e.status,
    a.responses, a.broken, a.seen, a.unknown, a.cookies_set, table.concat(ul, ",")))
end
