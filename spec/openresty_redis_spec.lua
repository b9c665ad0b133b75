-- The nginx Redis backend (lua/stt/redis/ngx.lua) inside a real nginx against the suite's real
-- redis-server: the example nginx (spec/openresty/examplectl) runs the test handler
-- spec/openresty/redis_test.lua at /_test/redis. Values, binary safety, pipelines, 200 light
-- threads, the keepalive pool, timeouts (the worker keeps serving), Redis down and back, AUTH
-- and SELECT. redis-cli is the independent witness.
local H = require "helper"
local core = require "stt.core"
local sched = require "stt.sched"

local null = core.null

describe("Redis over cosockets (real nginx, real redis-server)", function()
  local dir, base, eng
  local P = "stt:ngx-redis-spec:"           -- every key of this spec

  setup(function()
    assert(H.sim_url and H.redis_url, "no simulator or Redis: run through spec/run-tests")
    dir, base = H.example_start()
    eng = core.engine()
  end)

  teardown(function()
    if eng then eng:close() end
    H.example_stop(dir)
    H.redis_cli("--no-auth-warning EVAL \"for _, k in ipairs(redis.call('KEYS', ARGV[1])) do "
      .. "redis.call('DEL', k) end\" 0 '" .. P .. "*'")
  end)

  -- One request to the handler; returns its decoded JSON answer (and the raw response).
  local function op(q, query, timeout)
    q.url = q.url or H.redis_url
    local r = sched.http(eng, { method = "POST", url = base .. "/_test/redis" .. (query or ""),
      body = H.encode(q), headers = { { "Content-Type", "application/json" } } }, { timeout = timeout or 15 })
    assert(r and not r.error, r and r.error and r.error.message)
    assert.equal(200, r.status, r.body)
    return H.json(r.body), r
  end
  -- The values of an op="call" answer, in order (an error as its error table).
  local function values(ans)
    assert.is_nil(ans.connect_error, ans.connect_error and ans.connect_error.message)
    local out = {}
    for i, res in ipairs(ans.results) do out[i] = res.error or res.value end
    return out
  end
  local function call(cmds, extra)
    local q = { op = "call", cmds = cmds }
    for k, v in pairs(extra or {}) do q[k] = v end
    return values(op(q))
  end

  it("strings, integers, nil, nested arrays and error replies", function()
    local k, n, f = P .. "s", P .. "n", P .. "f"
    local v = call({
      { "DEL", k, n, f },
      { "SET", k, "hello" },
      { "GET", k },
      { "INCRBY", n, 42 },
      { "GET", P .. "missing" },
      { "EVAL", "return {1, {2, 'x'}, 'y'}", 0 },
      { "EVAL", "return {1, false, 'z'}", 0 },         -- false: a nil bulk inside an array
      { "BLPOP", P .. "missing", "0.01" },              -- a nil array
      { "SET", f, 1.5 },
      { "INCRBYFLOAT", f, 0.25 },
      { "INCR", k },
      { "PING" },
    })
    assert.same({ 0, "OK", "hello", 42 }, { v[1], v[2], v[3], v[4] })
    assert.equal(null, v[5])
    assert.same({ 1, { 2, "x" }, "y" }, v[6])
    assert.same({ 1, null, "z" }, v[7])
    assert.equal(null, v[8])
    assert.equal("OK", v[9])
    assert.equal("1.75", v[10])
    assert.same({ kind = "redis", message = "ERR value is not an integer or out of range", retryable = false }, v[11])
    assert.equal("PONG", v[12])                       -- the connection survives an error reply
    assert.equal("hello", H.redis_cli("GET " .. k))
    assert.equal("42", H.redis_cli("GET " .. n))
  end)

  it("is binary safe: every byte, CR LF, NUL and RESP framing in values and keys; a 1 MiB value", function()
    local ans = op({ op = "binary", key = P .. "bin" })
    for _, name in ipairs({ "small", "big" }) do
      local r = ans[name]
      assert.equal("OK", r.set)
      assert.is_true(r.equal, name)
      assert.is_true(r.as_key, name)
      assert.equal(r.len, r.got_len)
      assert.equal(tostring(r.len), H.redis_cli("STRLEN " .. P .. "bin:" .. name))
    end
    assert.equal(1048576, ans.big.len)
  end)

  it("pipelines 100 commands in one write; an error reply stays in its slot", function()
    local k, s = P .. "pipe", P .. "pipe-str"
    H.redis_cli("DEL " .. k)
    local cmds = { { "SET", s, "text" } }
    for i = 2, 100 do
      if i == 50 then cmds[i] = { "HGET", s, "field" }          -- WRONGTYPE
      elseif i == 75 then cmds[i] = { "GET", s }
      else cmds[i] = { "INCR", k } end
    end
    local ans = op({ op = "pipeline", cmds = cmds })
    assert.is_nil(ans.error)
    local list = ans.results
    assert.equal(100, #list)
    assert.equal("OK", list[1])
    assert.matches("^WRONGTYPE ", list[50].err)
    assert.equal("text", list[75])
    local expect = 0
    for i = 2, 100 do
      if i ~= 50 and i ~= 75 then
        expect = expect + 1
        assert.equal(expect, list[i])
      end
    end
    assert.equal(tostring(expect), H.redis_cli("GET " .. k))
    -- a transaction: EXEC's array holds the per-command error reply
    local tx = op({ op = "pipeline", cmds = { { "MULTI" }, { "SET", k, "a" }, { "INCR", k }, { "EXEC" } } }).results
    assert.same({ "OK", "QUEUED", "QUEUED" }, { tx[1], tx[2], tx[3] })
    assert.equal("OK", tx[4][1])
    assert.matches("^ERR value is not an integer", tx[4][2].err)
  end)

  it("200 light threads each INCR one key: exactly 200, each value once", function()
    local k = P .. "counter"
    H.redis_cli("DEL " .. k)
    local ans = op({ op = "concurrent", key = k, n = 200 })
    assert.equal(0, ans.errors, ans.first_error)
    assert.equal(200, ans.distinct)
    assert.equal("200", ans.final)
    assert.equal("200", H.redis_cli("GET " .. k))
  end)

  it("reuses pooled sockets across requests; a SELECT of the caller's own taints a socket", function()
    local first = op({ op = "call", cmds = { { "CLIENT", "ID" } } })
    local second = op({ op = "call", cmds = { { "CLIENT", "ID" } } })
    assert.equal(values(first)[1], values(second)[1])
    assert.is_true(second.reused)
    -- SELECT on a db-0 socket: it must not go back to the db-0 pool
    local tainted = call({ { "SELECT", 5 }, { "CLIENT", "ID" } })
    local next_v = call({ { "CLIENT", "ID" }, { "CLIENT", "INFO" } })
    assert.are_not.equal(tainted[2], next_v[1])
    assert.matches(" db=0 ", next_v[2])
  end)

  it("keeps databases apart: SELECT db 3 on new sockets, pools keyed by db", function()
    local k = P .. "db"
    H.redis_cli("-n 3 DEL " .. k)
    H.redis_cli("DEL " .. k)
    local url3 = H.redis_url:gsub("/%d*$", "/3")
    assert.same({ "OK", "three" }, call({ { "SET", k, "three" }, { "GET", k } }, { url = url3 }))
    assert.equal(null, call({ { "GET", k } })[1])                         -- db 0
    local again = op({ op = "call", url = url3, cmds = { { "GET", k }, { "CLIENT", "INFO" } } })
    assert.is_true(again.reused)                                          -- the pooled db-3 socket
    assert.equal("three", values(again)[1])
    assert.matches(" db=3 ", values(again)[2])
    assert.equal("three", H.redis_cli("-n 3 GET " .. k))
    assert.equal("", H.redis_cli("-n 0 GET " .. k))
    H.redis_cli("-n 3 DEL " .. k)
  end)

  it("times out a slow command (kind timeout, socket closed) while the worker keeps serving", function()
    local ans, ping_took, ping_done, redis_done
    sched.run(function()
      local t0 = core.now()
      local a = sched.spawn(function()
        ans = op({ op = "timeout", cmd = { "BLPOP", P .. "never", "5" }, cfg = { timeout = 0.8 } })
        redis_done = core.now() - t0
      end)
      sched.sleep(0.05)
      local p0 = core.now()
      local r = sched.http(eng, { method = "GET", url = base .. "/ping" }, { timeout = 5 })
      ping_took, ping_done = core.now() - p0, core.now() - t0
      assert.equal(200, r.status)
      a:join()
    end)
    assert.equal("timeout", ans.error.kind)
    assert.is_true(ans.error.retryable)
    assert.matches("timed out after 0.8 s", ans.error.message)
    assert.is_true(ans.took >= 0.75 and ans.took < 4, "took " .. ans.took)
    -- the worker answered /ping while the command was pending
    assert.is_true(ping_done < redis_done, ("ping done at %.3f s, Redis at %.3f s"):format(ping_done, redis_done))
    -- (typically a few ms; the bound leaves room for a loaded machine)
    assert.is_true(ping_took < 0.6, ("/ping took %.3f s"):format(ping_took))
    -- the timed-out connection is closed: an error without I/O; a new one works
    assert.equal("network", ans.again.kind)
    assert.equal("PONG", ans.after)
  end)

  it("reports a peer that does not speak RESP as a protocol error", function()
    local port = base:match(":(%d+)$")                 -- the example nginx itself (HTTP)
    local ans = op({ op = "call", url = "redis://127.0.0.1:" .. port .. "/0", cmds = { { "PING" } } })
    local e = ans.results[1].error
    assert.equal("protocol", e.kind)
    assert.is_false(e.retryable)
  end)

  it("Redis down: kind network (connection refused); restarted on the same port: works again", function()
    assert.equal("PONG", call({ { "PING" } })[1])      -- leaves a pooled socket behind
    finally(function()
      if H.redis_cli("PING") ~= "PONG" then H.redis_restart() end
    end)
    H.redis_kill()
    local down = op({ op = "call", cmds = { { "PING" } } })
    assert.equal("network", down.connect_error.kind)
    assert.is_true(down.connect_error.retryable)
    assert.matches("refused", down.connect_error.message)
    H.redis_restart()
    assert.same({ "PONG", "PONG" }, call({ { "PING" }, { "PING" } }))
  end)

  it("AUTH on new sockets; a wrong password fails without showing it", function()
    finally(function()
      H.redis_cli("-a secret-xyz --no-auth-warning CONFIG SET requirepass ''")
      assert.equal("PONG", H.redis_cli("PING"))
    end)
    assert.equal("OK", H.redis_cli("CONFIG SET requirepass secret-xyz"))
    local wrong = op({ op = "call", cmds = { { "PING" } }, cfg = { password = "wrong-pass-777" } })
    local e = wrong.connect_error
    assert.equal("redis", e.kind)
    assert.is_false(e.retryable)
    assert.matches("AUTH failed: WRONGPASS", e.message)
    assert.is_nil(H.encode(e):find("wrong-pass-777", 1, true))
    local url = H.redis_url:gsub("^redis://", "redis://:secret-xyz@")
    assert.same({ "PONG" }, call({ { "PING" } }, { url = url }))
    local again = op({ op = "call", url = url, cmds = { { "PING" } } })
    assert.is_true(again.reused)                        -- the pool of these credentials
    assert.equal("PONG", values(again)[1])
  end)

  it("refuses a phase without cosockets and programming mistakes with clear errors", function()
    local _, r = op({ op = "call", cmds = { { "PING" } } }, "?phase=1")
    assert.matches("nginx disables cosockets.*header_filter phase", r.headers["x-phase-error"])
    local m = op({ op = "misuse" })
    assert.matches("argument 3 is a boolean", m.bad_arg)
    assert.matches("non%-empty array", m.empty)
    assert.equal(0, m.empty_pipeline)
    assert.matches("in use by another light thread", m.busy)
    assert.matches("connection was closed", m.after_close)
    assert.matches("config table", m.no_cfg)
  end)
end)
