-- Per-task callbacks (client option `callback`, stt.notify, stt.mark; lua/stt/callback.lua) against
-- the real simulator, which POSTs each notice to its own sink (spec/sim/lua/sim/callback.lua); a
-- relay thread here reads the sink and hands every notice to stt.notify, as a receiver would. The
-- waits: in-process (the scheduler wakes the waiter), across client objects through a real
-- redis-server, and the refusals (missing, forged, other task, replayed after the end).
local H = require "helper"
local stt = require "stt"
local sched = require "stt.sched"
local callback = require "stt.callback"

local SECRET = "cb-secret-0123456789-abcdef"
local LAS_BASE = H.sim_url and H.sim_url .. "/las/api/v1"
local APP, ACCESS = "sim-app-0001", "sim-access-key-0001"

local function las(opts)
  return H.client("volcengine", { api_key = H.key, base_url = LAS_BASE }, opts)
end
local function auc(opts)
  return H.client("volcengine-auc", { app_key = APP, access_key = ACCESS, base_url = H.sim_url .. "/auc/api/v3" }, opts)
end
local function cb(extra)
  local o = { url = H.sim_url .. "/_sim/sink/cb", secret = SECRET, fallback = 30 }
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

-- The sink's records from index `from` (inside stt.run: the run's engine; else blocking).
local function sink(from)
  local r = assert(sched.http(nil, { method = "GET", url = H.sim_url .. "/_sim/sink?from=" .. (from or 1) },
                              { timeout = 5 }))
  return H.json(r.body)
end

-- A relay: every notice the simulator posted goes to stt.notify(provider, ..., opts) until
-- stop() ; the outcomes are listed in `out` ({ note } or { err }).
local function relay(provider, opts)
  local out, stopped, from, started = {}, false, 1, stt.now()
  local th = stt.spawn(function()
    while true do
      local got = sink(from)
      for _, it in ipairs(got.items) do
        local o = setmetatable({ query = it.query }, { __index = opts })
        local note, err = stt.notify(provider, it.body, it.headers, o)
        out[#out + 1] = { note = note, err = err }
      end
      from = got.next
      if stopped or stt.now() - started > 40 then return end     -- (a failed spec never stops it)
      stt.sleep(0.01)
    end
  end)
  return out, function() stopped = true; th:join() end
end

local function polls(c)
  local n = 0
  local prev = c.on_event
  c.on_event = function(ev)
    if ev.type == "poll" then n = n + 1 end
    if prev then prev(ev) end
  end
  return function() return n end
end

-- Copy a plain table (stt.notify's opts may not be a proxy for pairs-based code).
local function plain(t)
  local o = {}
  for k, v in pairs(t) do o[k] = v end
  return o
end

describe("callbacks: tokens", function()
  it("a token names its key, is bound to the provider and the secret, and refuses tampering", function()
    local t = callback.token(SECRET, "volcengine", "job-1")
    assert.matches("^stt1%.job%-1%.%x+$", t)
    assert.equal("job-1", callback.verify(SECRET, "volcengine", t))
    assert.is_nil(callback.verify(SECRET, "volcengine-auc", t))
    assert.is_nil(callback.verify("another-secret-0123456", "volcengine", t))
    assert.is_nil(callback.verify(SECRET, "volcengine", t:gsub("job%-1", "job-2")))
    assert.is_nil(callback.verify(SECRET, "volcengine", t:sub(1, -2) .. (t:sub(-1) == "0" and "1" or "0")))
    for _, bad in ipairs({ "", "stt1..abc", "x.job.00", "stt1.job." .. string.rep("0", 64) }) do
      assert.is_nil(callback.verify(SECRET, "volcengine", bad))
    end
    assert.equal("https://h/x?a=1&stt_token=T#f", callback.url_with_token("https://h/x?a=1#f", "T"))
  end)

  it("the option: refused (unsupported) for DashScope, Turing and AUC flash; checked where it is wrong", function()
    local function refused(provider, opts, kind)
      local ok, err = pcall(stt.client, provider, opts)
      assert.is_false(ok)
      assert.equal(kind, err.kind, provider)
      assert.is_nil(tostring(err):find(SECRET, 1, true))
      return err
    end
    refused("dashscope", { api_key = "sk-x", callback = cb() }, "unsupported")
    refused("turing", { api_key = "k", callback = cb() }, "unsupported")
    refused("volcengine-auc", { app_key = APP, access_key = ACCESS, mode = "flash", callback = cb() }, "unsupported")
    refused("volcengine", { api_key = "k", callback = cb({ secret = "short" }) }, "invalid")
    refused("volcengine", { api_key = "k", callback = cb({ url = "ftp://x" }) }, "invalid")
    refused("volcengine", { api_key = "k", callback = cb({ frobnicate = 1 }) }, "invalid")
    local c = las({ callback = cb() })
    assert.is_nil(tostring(c):find(SECRET, 1, true))
    for k, v in pairs(c) do
      assert.is_nil(tostring(k):find(SECRET, 1, true))
      assert.is_nil(tostring(v):find(SECRET, 1, true))
    end
    assert.is_nil(H.encode(c.callback):find(SECRET, 1, true))
  end)

  it("stt.notify for a provider without callbacks is unsupported", function()
    local note, err = stt.notify("dashscope", "{}", {}, { secret = SECRET })
    assert.is_nil(note)
    assert.equal("unsupported", err.kind)
  end)
end)

describe("callbacks: waiting on the simulator's notices", function()
  before_each(function()
    H.reset()
    H.config({ queue_ms = 60000, rtf = 0.05 })     -- tasks end only when a spec advances them
  end)

  it("LAS: the submit sends the signed token; c:wait returns on the notice, after one poll", function()
    local c = las({ callback = cb() })
    local npolls = polls(c)
    stt.run(function()
      local out, stop = relay("volcengine", { client = c })
      local task = assert(c:submit({ url = H.media("cbw_en", 1, "Hello callbacks.") }))
      assert.matches("^%x+$", task.callback_key)
      local sent = H.sim_task(task.id).cb
      assert.equal(callback.token(SECRET, "volcengine", task.callback_key), sent.data)
      assert.equal(H.sim_url .. "/_sim/sink/cb?stt_token=" .. sent.data, sent.url)
      H.advance(task.id, "done")
      local t0 = stt.now()
      local res = assert(c:wait(task, { timeout = 20 }))
      assert.is_true(stt.now() - t0 < 10)          -- far below the 30 s fallback
      assert.equal("Hello callbacks.", res.text)
      assert.equal(1, npolls())
      stop()
      assert.equal(1, #out)
      assert.same({ provider = "volcengine", key = task.callback_key, state = "succeeded", task_id = task.id },
                  out[1].note)
      -- replayed after the end (a late or repeated notice): refused, nothing marked
      assert.equal(200, H.json(H.control("POST", "/_sim/tasks/" .. task.id .. "/callback", "{}")).status)
      local again = sink(1).items[2]
      local note, err = stt.notify("volcengine", again.body, again.headers, { client = c, query = again.query })
      assert.is_nil(note)
      assert.equal("auth", err.kind)
      assert.matches("ended", err.message)
      assert.is_nil(c._marks.noted[task.callback_key])
    end)
  end)

  it("AUC: the request id is the key; notices naming another task, forged or without a token are refused", function()
    local c = auc({ callback = cb() })
    local npolls = polls(c)
    stt.run(function()
      local task = assert(c:submit({ url = H.media("cbw_auc", 1, "Hello AUC.") }))
      assert.equal(task.id, task.callback_key)
      local tok = H.sim_task(task.id).cb.data
      local function refused(body, headers, query, want)
        local note, err = stt.notify("volcengine-auc", body, headers or {}, { client = c, query = query })
        assert.is_nil(note)
        assert.equal("auth", err.kind)
        assert.matches(want, err.message)
        assert.is_nil(tostring(err):find(SECRET, 1, true))
        assert.is_nil(c._marks.noted[task.id])
      end
      refused('{"result":{"text":"x"}}', { ["X-Api-Request-Id"] = task.id }, nil, "no callback token")
      refused(H.encode({ callback_data = tok:sub(1, -5) .. "0000" }), {}, nil, "signature")
      refused(H.encode({ callback_data = tok }), { ["X-Api-Request-Id"] = "7c0b0a1e-0000-4000-8000-000000000001" },
              nil, "another task")
      refused(H.encode({ callback_data = tok }), {}, "stt_token=" .. callback.token(SECRET, "volcengine-auc", "other"),
              "two different")
      -- the simulator's own notice, relayed, wakes the wait
      local out, stop = relay("volcengine-auc", { client = c })
      H.advance(task.id, "done")
      assert.equal("Hello AUC.", assert(c:wait(task, { timeout = 20 })).text)
      stop()
      assert.equal(1, npolls())
      assert.equal(task.id, out[1].note.task_id)
    end)
  end)

  it("the token in the URL alone is enough (a provider that does not echo callback_data)", function()
    H.config({ callbacks = { echo = false } })
    local c = las({ callback = cb() })
    stt.run(function()
      local out, stop = relay("volcengine", { client = c })
      local task = assert(c:submit({ url = H.media("cbw_en", 1, "Hello callbacks.") }))
      H.advance(task.id, "done")
      assert(c:wait(task, { timeout = 20 }))
      stop()
      assert.equal("succeeded", out[1].note.state)
    end)
  end)

  it("forged third-party notices and duplicates: refused and harmless; one poll", function()
    H.config({ callbacks = { forge = 1, duplicate = 1 } })
    local c = las({ callback = cb() })
    local npolls = polls(c)
    stt.run(function()
      local out, stop = relay("volcengine", { client = c })
      local task = assert(c:submit({ url = H.media("cbw_en", 1, "Hello callbacks.") }))
      H.advance(task.id, "done")
      assert(c:wait(task, { timeout = 20 }))
      -- all three posts relayed (forged, real, duplicate)
      for _ = 1, 500 do if #out >= 3 then break end stt.sleep(0.01) end
      stop()
      assert.equal(1, npolls())
      assert.equal("auth", out[1].err.kind)              -- the forged one came first
      assert.matches("signature", out[1].err.message)
      assert.equal(task.id, out[2].note.task_id)
      -- the duplicate: accepted while the wait runs, or refused once it has ended
      assert.is_true(out[3].note ~= nil or out[3].err.kind == "auth")
    end)
  end)

  it("a lost callback: the long fallback poll still ends the wait", function()
    H.config({ callbacks = { drop = 1 } })
    local c = las({ callback = cb({ fallback = 0.3 }) })
    local npolls = polls(c)
    stt.run(function()
      local task = assert(c:submit({ url = H.media("cbw_en", 1, "Hello callbacks.") }))
      H.advance(task.id, "done")
      assert(c:wait(task, { timeout = 20 }))
      assert.equal(1, npolls())
      assert.equal("dropped", H.sim_task(task.id).cb.state)
    end)
  end)

  it("out of order notices wake the right waiters", function()
    H.config({ callbacks = { hold = 2 } })
    local c = las({ callback = cb() })
    local npolls = polls(c)
    stt.run(function()
      local out, stop = relay("volcengine", { client = c })
      local a = assert(c:submit({ url = H.media("cbw_a", 1, "First one.") }))
      local b = assert(c:submit({ url = H.media("cbw_b", 1, "Second one.") }))
      local ra, rb
      local ta = stt.spawn(function() ra = assert(c:wait(a, { timeout = 20 })) end)
      local tb = stt.spawn(function() rb = assert(c:wait(b, { timeout = 20 })) end)
      H.advance(a.id, "done")
      H.advance(b.id, "done")
      ta:join(); tb:join()
      stop()
      assert.equal("First one.", ra.text)
      assert.equal("Second one.", rb.text)
      assert.equal(2, npolls())
      assert.equal(b.id, out[1].note.task_id)            -- b's notice came first
    end)
  end)

  it("a notice that a poll does not bear out: polled again soon, not after the fallback", function()
    H.config({ rtf = 1000 })                      -- running for 1000 s unless advanced
    local c = las({ callback = cb(), poll_first = 0.05 })
    local npolls = polls(c)
    stt.run(function()
      local task = assert(c:submit({ url = H.media("cbw_en", 1, "Hello callbacks.") }))
      H.advance(task.id, "running")
      -- a genuine token, posted before the task is done (the provider's state lags its notice)
      local note = assert(stt.notify("volcengine", H.encode({ callback_data = H.sim_task(task.id).cb.data }), {},
                                     { client = c }))
      assert.equal(task.id, note.task_id)
      stt.spawn(function()
        for _ = 1, 500 do
          if npolls() >= 1 then break end
          stt.sleep(0.01)
        end
        H.advance(task.id, "done")
      end)
      local t0 = stt.now()
      assert(c:wait(task, { timeout = 20 }))
      assert.is_true(stt.now() - t0 < 10)
      assert.is_true(npolls() >= 2)
    end)
  end)
end)

describe("callbacks: across client objects through a Redis store", function()
  local url
  before_each(function()
    H.reset()
    H.config({ queue_ms = 60000, rtf = 0.05 })
    url = H.redis_url
  end)

  it("the waiter's client is not the notifier's: the mark travels through Redis", function()
    local prefix = "cbspec:" .. callback.new_key() .. ":"
    local waiter = las({ callback = cb({ check_every = 0.05 }), store = url, store_prefix = prefix })
    local receiver = las({ callback = cb(), store = url, store_prefix = prefix })
    local npolls = polls(waiter)
    stt.run(function()
      local out, stop = relay("volcengine", { client = receiver })
      local task = assert(waiter:submit({ url = H.media("cbr_en", 1, "Hello Redis.") }))
      H.advance(task.id, "done")
      local t0 = stt.now()
      assert.equal("Hello Redis.", assert(waiter:wait(task, { timeout = 20 })).text)
      assert.is_true(stt.now() - t0 < 10)
      stop()
      assert.equal(1, npolls())
      assert.equal(task.id, out[1].note.task_id)          -- the key's task, from Redis
      -- after the end, the receiver refuses a replay: the end is in Redis too
      local note, err = stt.notify("volcengine", H.encode({ callback_data = H.sim_task(task.id).cb.data }), {},
                                   { client = receiver })
      assert.is_nil(note)
      assert.equal("auth", err.kind)
      -- and a bare secret + store works the same (a receiver without a client)
      note, err = stt.notify("volcengine", H.encode({ callback_data = H.sim_task(task.id).cb.data }), {},
                             plain({ secret = SECRET, store = require("stt.store").open(url, { prefix = prefix }) }))
      assert.is_nil(note)
      assert.equal("auth", err.kind)
    end)
  end)
end)
