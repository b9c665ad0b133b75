-- The libcurl engine and the scheduler against the simulator's /_t/ endpoints (real HTTP on
-- loopback): keep-alive reuse, HTTP/2, timeouts, the size cap, TLS verification, close().
local H = require "helper"
local core = require "stt.core"
local sched = require "stt.sched"
local curl = require "stt.transport.curl"

local function get(eng, path, opts, base)
  return sched.http(eng, { method = "GET", url = (base or H.sim_url) .. path }, opts or { timeout = 5 })
end

describe("engine", function()
  local eng
  before_each(function() eng = core.engine() end)
  after_each(function() eng:close() end)

  it("does a GET and returns status, lower-case headers and body", function()
    local r = get(eng, "/_t/bytes?n=10")
    assert.is_nil(r.error)
    assert.equal(200, r.status)
    assert.equal(string.rep("x", 10), r.body)
    assert.equal("10", r.headers["content-length"])
  end)

  it("sends method, headers and body exactly", function()
    local r = sched.http(eng, { method = "POST", url = H.sim_url .. "/_t/echo",
      headers = { { "Authorization", "Bearer abc" }, { "X-DashScope-Async", "enable" } },
      body = '{"a":1}' }, { timeout = 5 })
    local echo = H.json(r.body)
    assert.equal("POST", echo.method)
    assert.equal("Bearer abc", echo.headers.authorization)
    assert.equal("enable", echo.headers["x-dashscope-async"])
    assert.equal('{"a":1}', echo.body)
    assert.is_nil(echo.headers.expect)
  end)

  it("reuses one keep-alive connection for sequential requests", function()
    local first = H.json(get(eng, "/_t/conn").body)
    local r2 = get(eng, "/_t/conn")
    local second = H.json(r2.body)
    assert.equal(first.connection, second.connection)
    assert.is_true(r2.reused)
    assert.equal(tonumber(first.requests) + 1, tonumber(second.requests))
  end)

  it("fresh_connect opens a new connection (submits never ride a reused one)", function()
    local first = H.json(get(eng, "/_t/conn").body)
    local r = get(eng, "/_t/conn", { timeout = 5, fresh_connect = true })
    assert.is_false(r.reused)
    assert.are_not.equal(first.connection, H.json(r.body).connection)
  end)

  it("times out a request that takes too long (total timeout)", function()
    local t0 = core.now()
    local r = get(eng, "/_t/delay?ms=10000", { timeout = 0.3 })
    assert.equal("timeout", r.error.kind)
    assert.is_true(core.now() - t0 < 5, "a 0.3 s timeout fired after " .. (core.now() - t0) .. " s")
  end)

  it("times out a body that trickles past the deadline", function()
    local r = get(eng, "/_t/trickle?n=50&ms=100", { timeout = 0.5 })
    assert.equal("timeout", r.error.kind)
  end)

  it("caps the response size with a clear error", function()
    local r = get(eng, "/_t/bytes?n=100000", { timeout = 5, max_body = 1000 })
    assert.equal("too_large", r.error.kind)
    assert.matches("1000%-byte cap", r.error.message)
    local ok = get(eng, "/_t/bytes?n=1000", { timeout = 5, max_body = 1000 })
    assert.is_nil(ok.error)
    assert.equal(1000, #ok.body)
  end)

  it("refuses a self-signed certificate unless insecure = true", function()
    local r = get(eng, "/_t/bytes?n=3", { timeout = 5 }, H.tls_url)
    assert.equal("tls", r.error.kind)
    local ok = get(eng, "/_t/bytes?n=3", { timeout = 5, insecure = true }, H.tls_url)
    assert.is_nil(ok.error)
    assert.equal("xxx", ok.body)
  end)

  it("speaks HTTP/2 when the server offers it", function()
    local ok = get(eng, "/_t/echo", { timeout = 5, insecure = true }, H.tls_url)
    assert.equal(20, ok.http_version)
  end)

  it("reports connection refused as a network error that was never sent", function()
    local r = sched.http(eng, { method = "GET", url = "http://127.0.0.1:1/" }, { timeout = 2 })
    assert.equal("network", r.error.kind)
    assert.is_false(r.sent)
  end)

  it("rejects header injection", function()
    assert.has_error(function()
      eng:add({ method = "GET", url = H.sim_url, headers = { { "X-A", "b\r\nX-Evil: 1" } } })
    end)
  end)

  it("cancels a transfer in flight", function()
    local id = eng:add({ method = "GET", url = H.sim_url .. "/_t/delay?ms=2000" }, { timeout = 5 })
    eng:perform()
    assert.equal(1, eng:inflight())
    assert.is_true(eng:cancel(id))
    assert.equal(0, eng:inflight())
    assert.is_false(eng:cancel(id))
  end)

  it("close() is idempotent and the same as __gc/__close", function()
    local e = core.engine()
    e:add({ method = "GET", url = H.sim_url .. "/_t/delay?ms=2000" }, { timeout = 5 })
    e:perform()
    e:close()
    e:close()
    assert.is_true(e:closed())
    assert.has_error(function() e:perform() end, "engine is closed")
    local mt = getmetatable(e)
    assert.equal(mt.__gc, mt.__close)
    collectgarbage(); collectgarbage()
  end)
end)

describe("scheduler", function()
  it("runs threads concurrently on one engine", function()
    local t0 = core.now()
    local bodies = sched.run(function()
      local ths, out = {}, {}
      for i = 1, 20 do
        ths[i] = sched.spawn(function()
          local r = sched.http(nil, { method = "GET", url = H.sim_url .. "/_t/delay?ms=300" }, { timeout = 5 })
          return r.body
        end)
      end
      for i = 1, 20 do out[i] = ths[i]:join() end
      return out
    end)
    assert.equal(20, #bodies)
    assert.equal("ok", bodies[20])
    assert.is_true(core.now() - t0 < 1.5, "20 x 300 ms in parallel took " .. (core.now() - t0))
  end)

  it("does not serialize the first requests to a new plain-http host (no PIPEWAIT there)", function()
    local t0 = core.now()
    sched.run(function()
      local ths = {}
      for i = 1, 10 do
        ths[i] = sched.spawn(function()
          return sched.http(nil, { method = "GET", url = H.sim_url .. "/_t/delay?ms=2000" }, { timeout = 10 })
        end)
      end
      for i = 1, 10 do assert.equal(200, ths[i]:join().status) end
    end)
    local took = core.now() - t0
    -- in parallel: ~2 s; any serialization takes two rounds (4 s) or more
    assert.is_true(took < 3.8, "10 concurrent 2 s requests to a fresh engine took " .. took .. " s")
  end)

  it("sleeps concurrently and wakes threads in time order", function()
    local order = {}
    sched.run(function()
      local a = sched.spawn(function() sched.sleep(0.2); order[#order + 1] = "b" end)
      local b = sched.spawn(function() sched.sleep(0.1); order[#order + 1] = "a" end)
      a:join(); b:join()
    end)
    assert.same({ "a", "b" }, order)
  end)

  it("passes return values and re-raises errors through join", function()
    local x, y = sched.run(function()
      local t = sched.spawn(function(p, q) return p + q, "two" end, 1, 2)
      return t:join()
    end)
    assert.equal(3, x)
    assert.equal("two", y)
    assert.has_error(function()
      sched.run(function()
        local t = sched.spawn(function() error("boom", 0) end)
        t:join()
      end)
    end, "boom")
  end)

  it("raises the error of a thread nobody joined", function()
    assert.has_error(function()
      sched.run(function() sched.spawn(function() error("lost", 0) end) end)
    end, "lost")
  end)

  it("refuses nesting and spawn outside run", function()
    assert.has_error(function() sched.spawn(function() end) end)
    assert.has_error(function() sched.run(function() sched.run(function() end) end) end)
  end)

  it("blocks outside run: sleep and http", function()
    local t0 = core.now()
    sched.sleep(0.1)
    assert.is_true(core.now() - t0 >= 0.099)
    local t = curl.new()
    local r = assert(t:request({ method = "GET", url = H.sim_url .. "/_t/bytes?n=2" }, { timeout = 5 }))
    assert.equal("xx", r.body)
    t:close()
  end)

  it("transport reports failures as nil, err", function()
    local t = curl.new()
    local r, err = t:request({ method = "GET", url = H.sim_url .. "/_t/delay?ms=2000" }, { timeout = 0.2 })
    assert.is_nil(r)
    assert.equal("timeout", err.kind)
    assert.is_true(err.sent)
    t:close()
  end)
end)

describe("engine: per-host slots, queued requests and handle reuse", function()
  -- Runs e until every id in ids has an answer; returns { [id] = resp } and the seconds it took.
  local function drive(e, ids)
    local want, got, t0 = {}, {}, core.now()
    for _, id in ipairs(ids) do want[id] = true end
    local n = #ids
    while n > 0 do
      local _, done = e:perform()
      for _, r in ipairs(done) do
        if want[r.id] and not got[r.id] then got[r.id] = r; n = n - 1 end
      end
      if n > 0 then e:wait(math.min(e:timeout() or 0.05, 0.05)) end
      assert(core.now() - t0 < 10, "engine never answered")
    end
    return got, core.now() - t0
  end
  local function add(e, path, opts, base)
    return assert(e:add({ method = "GET", url = (base or H.sim_url) .. path }, opts or { timeout = 5 }))
  end

  it("runs at most max_host_connections transfers per host; the rest wait without a libcurl handle", function()
    local e = core.engine({ max_host_connections = 2 })
    local ids = {}
    for i = 1, 6 do ids[i] = add(e, "/_t/delay?ms=300") end
    local st = e:stats()
    assert.same({ 2, 4, 6 }, { st.running, st.queued, e:inflight() })
    local got, took = drive(e, ids)
    for _, id in ipairs(ids) do assert.equal(200, got[id].status) end
    -- three waves of two: it cannot be faster than 0.9 s if the bound holds (unbounded: 0.3 s)
    assert.is_true(took >= 0.85, "6 x 300 ms with 2 slots took only " .. took .. " s")
    st = e:stats()
    assert.same({ 0, 0, 2 }, { st.running, st.queued, st.handles_created })
    e:close()
  end)

  it("takes a request's own max_host_connections for its host (a client's setting inside stt.run)", function()
    local e = core.engine()
    local ids = {}
    for i = 1, 4 do ids[i] = add(e, "/_t/delay?ms=300", { timeout = 5, max_host_connections = 2 }) end
    assert.same({ 2, 2 }, { e:stats().running, e:stats().queued })
    local _, took = drive(e, ids)
    assert.is_true(took >= 0.55, "4 x 300 ms with 2 slots took only " .. took .. " s")
    e:close()
  end)

  it("reuses easy handles across requests", function()
    local e = core.engine()
    for _ = 1, 20 do
      local got = drive(e, { add(e, "/_t/bytes?n=3") })
      for _, r in pairs(got) do assert.equal("xxx", r.body) end
    end
    local st = e:stats()
    assert.equal(1, st.handles_created)
    assert.equal(1, st.spare_handles)
    assert.equal(64, st.host_limit)
    e:close()
  end)

  it("counts a queued request's timeout from add(): it fails as a timeout, never sent", function()
    local e = core.engine({ max_host_connections = 1 })
    local slow = add(e, "/_t/delay?ms=4000", { timeout = 10 })
    local quick = add(e, "/_t/bytes?n=1", { timeout = 0.3 })
    local got, took = drive(e, { quick })
    assert.equal("timeout", got[quick].error.kind)
    assert.is_false(got[quick].sent)
    assert.is_true(took < 3, "the queued request waited " .. took .. " s for its 0.3 s timeout")
    assert.equal(200, drive(e, { slow })[slow].status)
    e:close()
  end)

  it("keeps a queue per host: a busy host does not hold up another", function()
    local e = core.engine({ max_host_connections = 1 })
    local other = H.sim_url:gsub("127%.0%.0%.1", "localhost")
    assert.are_not.equal(other, H.sim_url)
    local slow = add(e, "/_t/delay?ms=4000", { timeout = 10 })
    local queued = add(e, "/_t/bytes?n=1", { timeout = 10 })  -- same host: waits behind the slow one
    local fast = add(e, "/_t/bytes?n=2", nil, other)  -- another host: runs at once
    assert.equal(1, e:stats().queued)
    local got, took = drive(e, { fast })
    assert.equal("xx", got[fast].body)
    assert.is_true(took < 2.5, "the other host's request took " .. took .. " s")
    got = drive(e, { slow, queued })
    assert.equal("x", got[queued].body)
    e:close()
  end)

  it("cancels a queued request and frees queued requests on close", function()
    local e = core.engine({ max_host_connections = 1 })
    local first = add(e, "/_t/delay?ms=300")
    local second = add(e, "/_t/delay?ms=300")
    add(e, "/_t/delay?ms=300")
    assert.is_true(e:cancel(second))
    assert.is_false(e:cancel(second))
    assert.equal(2, e:inflight())
    assert.equal(1, e:stats().queued)
    assert.equal(200, drive(e, { first })[first].status)
    e:close()     -- one request still queued or running: freed (valgrind-test checks for leaks)
    e:close()
  end)
end)

describe("engine: TLS failures", function()
  it("says why the certificate was refused (libcurl's detail, not only its generic text)", function()
    assert.is_string(H.tls_wronghost_url, "the simulator has no wrong-host TLS listener")
    local e = core.engine()
    local r = sched.http(e, { method = "GET", url = H.tls_wronghost_url .. "/_t/bytes?n=1" },
                         { timeout = 5, ca_file = H.tls_wronghost_ca })
    assert.equal("tls", r.error.kind)
    assert.is_false(r.sent)
    -- the generic text alone ("SSL peer certificate or SSH remote key was not OK") hides the cause
    assert.matches("subject name", r.error.message)
    e:close()
  end)
end)

describe("engine: request bodies streamed from disk", function()
  local eng, path, data
  setup(function()
    eng = core.engine()
    path = os.tmpname()
    local parts = {}
    for i = 1, 70000 do parts[i] = string.char((i * 7) % 256, (i * 13) % 256, (i * 31) % 256) end
    data = table.concat(parts) .. "xy"               -- 210,002 bytes: not a multiple of 3
    local f = assert(io.open(path, "wb"))
    f:write(data)
    f:close()
  end)
  teardown(function() eng:close(); os.remove(path) end)

  local function echo(req)
    req.url = H.sim_url .. "/_t/echo"
    local r = sched.http(eng, req, { timeout = 10 })
    assert(r and not r.error, r and r.error and r.error.message)
    return H.json(r.body)
  end

  it("PUTs a file as it is", function()
    local j = echo({ method = "PUT", body_file = path })
    assert.equal("PUT", j.method)
    assert.equal(#data, #j.body)
    assert.equal(core.sha256(data), core.sha256(j.body))
    assert.equal(tostring(#data), j.headers["content-length"])
  end)

  it("POSTs a prefix, the file in base64, and a suffix (a JSON field carrying the audio)", function()
    local j = echo({ method = "POST", body = '{"audio":{"data":"', body_file = path, body_file_base64 = true,
                     body_suffix = '"}}', headers = { { "Content-Type", "application/json" } } })
    local doc = H.json(j.body)
    local b64 = H.sh("base64 -w0 " .. H.sh_quote(path))
    assert.equal(b64, doc.audio.data)
    assert.equal(tostring(#j.body), j.headers["content-length"])
  end)

  it("POSTs a multipart form whose file part is last and streamed", function()
    local j = echo({ method = "POST", body_file = path, form = { { "key", "dir/a b.wav" }, { "policy", "p" } },
                     form_file = { field = "file", name = "a b.wav", type = "audio/wav" } })
    local boundary = j.headers["content-type"]:match("boundary=(%S+)")
    assert.truthy(boundary)
    local key_at = j.body:find('name="key"', 1, true)
    local file_at = j.body:find('name="file"; filename="a b.wav"', 1, true)
    assert.truthy(key_at and file_at and key_at < file_at)
    assert.truthy(j.body:find("Content-Type: audio/wav", file_at, true))
    assert.truthy(j.body:find(data, file_at, true))
  end)

  it("reports the bytes sent while an upload runs, and a file it cannot read as never sent", function()
    local seen = {}
    sched.run(function()
      local r = sched.http(nil, { method = "PUT", url = H.sim_url .. "/_t/echo", body_file = path },
        { timeout = 10, on_id = function(e, id) seen.sent, seen.total = e:progress(id) end })
      assert.equal(200, r.status)
    end)
    assert.equal(0, seen.sent)
    assert.equal(#data, seen.total)
    local r = sched.http(eng, { method = "PUT", url = H.sim_url .. "/_t/echo", body_file = path .. ".missing" },
      { timeout = 5 })
    assert.equal("protocol", r.error.kind)
    assert.is_false(r.sent)
    assert.matches("cannot open .*No such file", r.error.message)
  end)
end)
