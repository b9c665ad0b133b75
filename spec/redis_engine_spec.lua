-- Redis from C: hiredis's async API driven by stt.core's engine (csrc/redis.c,
-- csrc/stt_core_redis.c) behind stt.redis outside nginx, against the suite's real redis-server.
-- Commands yield inside stt.run and block outside it; a timed-out command drops its connection and
-- the next call connects again; Redis restarted: the client reconnects; the password never shows;
-- an idle loop holding a connection does not spin; closing is idempotent in any order.
local H = require "helper"
local stt = require "stt"
local core = require "stt.core"
local redis = require "stt.redis"
local sched = require "stt.sched"

describe("stt.redis on the engine (hiredis)", function()
  if not H.redis_url then
    it("needs the suite's redis-server (spec/run-tests)", function() pending("no STT_REDIS_URL") end)
    return
  end
  local P = "stt:engine-spec:"
  local cfg = redis.parse_url(H.redis_url)

  after_each(function()
    H.redis_cli("CLIENT UNPAUSE")
  end)

  it("blocks outside stt.run: values, nil, arrays, integers, an error reply, binary-safe bytes", function()
    local r = redis.new(H.redis_url)
    local bin = {}
    for i = 0, 255 do bin[#bin + 1] = string.char(i) end
    bin = table.concat(bin) .. "\r\n$3\r\n*1\r\n"
    assert.equal("OK", r:call("SET", P .. "b", bin))
    assert.equal(bin, r:call("GET", P .. "b"))
    assert.equal(core.null, r:call("GET", P .. "missing"))
    r:call("DEL", P .. "n")
    assert.equal(7, r:call("INCRBY", P .. "n", 7))
    assert.same({ 1, { 2, "x" } }, r:call("EVAL", "return {1, {2, 'x'}}", 0))
    local v, err = r:call("HGET", P .. "b", "f")              -- WRONGTYPE
    assert.is_nil(v)
    assert.equal("redis", err.kind)
    assert.matches("^WRONGTYPE", err.message)
    local out = assert(r:pipeline({ { "SET", P .. "p", "1" }, { "LPUSH", P .. "p", "x" }, { "GET", P .. "p" } }))
    assert.equal("OK", out[1])
    assert.matches("^WRONGTYPE", out[2].err)
    assert.equal("1", out[3])
    assert.equal(tostring(#bin), H.redis_cli("STRLEN " .. P .. "b"))   -- redis-cli, the witness
    r:close()
    r:close()                                                -- idempotent
    assert.has_error(function() r:call("PING") end)          -- a programming mistake after close
  end)

  it("yields inside stt.run: while a BLPOP waits 1 s, another thread's timers and HTTP requests go on",
    function()
    local r = redis.new(H.redis_url)
    local ticks, http_ok, blpop_at = 0, 0, nil
    local t0 = core.now()
    stt.run(function()
      local a = stt.spawn(function()
        assert.equal(core.null, r:call("BLPOP", P .. "nothing", 1))
        blpop_at = core.now() - t0
      end)
      local b = stt.spawn(function()
        while not blpop_at do
          stt.sleep(0.05)
          if not blpop_at then ticks = ticks + 1 end
          local res = sched.http(sched.engine(), { method = "GET", url = H.sim_url .. "/_sim/stats" },
            { timeout = 5 })
          if res and res.status == 200 and not blpop_at then http_ok = http_ok + 1 end
        end
      end)
      a:join(); b:join()
    end)
    r:close()
    assert.is_true(blpop_at >= 0.9, tostring(blpop_at))
    assert.is_true(ticks >= 5, "the other thread ran " .. ticks .. " times")
    assert.is_true(http_ok >= 5, http_ok .. " requests")
  end)

  it("one client serves several stt.run calls one after another (each run's engine its own connection)", function()
    local r = redis.new(H.redis_url)
    for i = 1, 3 do
      stt.run(function() assert.equal("OK", r:call("SET", P .. "runs", i)) end)
    end
    assert.equal("3", r:call("GET", P .. "runs"))
    r:close()
  end)

  it("an idle stt.run holding a connection sleeps in the kernel (no busy loop)", function()
    local r = redis.new(H.redis_url, { timeout = 0.2 })
    local cpu
    stt.run(function()
      assert.equal("PONG", r:call("PING"))
      stt.sleep(0.3)                                         -- past the PING's own deadline
      local c0 = os.clock()
      stt.sleep(1)
      cpu = os.clock() - c0
      assert.equal("PONG", r:call("PING"))
    end)
    r:close()
    assert.is_true(cpu < 0.2, ("%.3f s of CPU while asleep for 1 s"):format(cpu))
  end)

  it("a command that times out fails with kind timeout and drops its connection; the next call reconnects",
    function()
    local r = redis.new(H.redis_url, { timeout = 0.3 })
    assert.equal("PONG", r:call("PING"))
    H.redis_cli("CLIENT PAUSE 1500 ALL")
    local t0 = core.now()
    local v, err = r:call("SET", P .. "late", "x")
    local took = core.now() - t0
    assert.is_nil(v)
    assert.equal("timeout", err.kind)
    assert.is_true(err.retryable)
    assert.matches("timed out", err.message)
    assert.is_true(took >= 0.25 and took < 1.2, tostring(took))
    H.redis_cli("CLIENT UNPAUSE")
    assert.equal("PONG", r:call("PING"))                     -- a new connection
    r:close()
  end)

  it("Redis restarted: the next calls reconnect and work; nothing is read from the old socket", function()
    local r = redis.new(H.redis_url, { timeout = 2 })
    assert.equal("OK", r:call("SET", P .. "restart", "before"))
    H.redis_restart()
    local v, err
    for _ = 1, 3 do
      v, err = r:call("GET", P .. "restart")
      if v then break end
      assert.equal("network", err.kind)
      assert.is_true(err.retryable)
    end
    assert.equal("before", v)                                -- appendfsync always: the value survived
    r:close()
  end)

  it("connection refused: kind network, retryable, naming the server", function()
    local r = redis.new("redis://127.0.0.1:1/0", { connect_timeout = 1 })   -- nobody listens on port 1
    local v, err = r:call("PING")
    assert.is_nil(v)
    assert.equal("network", err.kind)
    assert.is_true(err.retryable)
    assert.matches("127%.0%.0%.1", err.message)
    r:close()
  end)

  it("AUTH with a user and password, SELECT of a db; a wrong password fails without showing it", function()
    H.redis_cli("ACL SETUSER stt-spec on '>s3cret-pw-1' '~*' '&*' '+@all'")
    local good = redis.new(("redis://stt-spec:s3cret-pw-1@%s:%d/3"):format(cfg.host, cfg.port))
    assert.equal("OK", good:call("SET", P .. "db3", "three"))
    assert.equal("three", H.redis_cli("-n 3 GET " .. P .. "db3"))
    assert.equal("", H.redis_cli("-n 0 GET " .. P .. "db3"))
    good:close()
    local bad = redis.new(("redis://stt-spec:wrong-pw-2@%s:%d/0"):format(cfg.host, cfg.port))
    assert.is_nil(bad.display:find("wrong-pw-2", 1, true))
    local v, err = bad:call("PING")
    assert.is_nil(v)
    assert.equal("redis", err.kind)
    assert.matches("^AUTH failed", err.message)
    assert.is_nil(err.message:find("wrong-pw-2", 1, true))
    assert.is_nil(H.encode(err):find("wrong-pw-2", 1, true))
    bad:close()
    H.redis_cli("ACL DELUSER stt-spec")
  end)

  it("the raw connection: close before or after its engine, twice, or by the collector", function()
    local e = core.engine()
    local c = assert(e:redis_connect(cfg.host, cfg.port))
    assert.is_false(c:closed())
    assert.equal(e, c:engine())
    e:close()
    assert.is_true(c:closed())                               -- its engine is gone
    assert.is_nil((c:send({ "PING" }, 1)))
    c:close(); c:close()
    local e2 = core.engine()
    for _ = 1, 20 do assert(e2:redis_connect(cfg.host, cfg.port)) end   -- dropped unclosed
    local c2 = assert(e2:redis_connect(cfg.host, cfg.port))
    local id = assert(c2:send({ "PING" }, 1))
    c2:close()                                               -- with a command in flight
    collectgarbage(); collectgarbage()
    local _, done = e2:perform()
    for _, d in ipairs(done) do
      if d.id == id then assert.is_truthy(d.error) end       -- failed, not lost
    end
    e2:close(); e2:close()
    collectgarbage()
  end)
end)
