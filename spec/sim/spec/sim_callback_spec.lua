-- The simulator's per-task callbacks (spec/sim/lua/sim/callback.lua): Volcengine LAS and AUC
-- tasks submitted with a callback URL are POSTed a notice when they end, with the fault knobs of
-- config `callbacks` (retries for a failing or slow receiver, drops, duplicates, out-of-order,
-- late and forged notices). Driven with curl only; the receiver is the simulator's own sink.
local H = require "helper"

local KEY = H.key
local APP, ACCESS = "sim-app-0001", "sim-access-key-0001"

local function curl(args)
  local p = assert(H.popen("curl -s " .. args))
  local out = p:read("*a")
  p:close()
  return out
end

local function las_submit(url, cb_url, cb_data)
  local body = { operator_id = "las_asr", operator_version = "v2",
    data = { audio = { url = url },
             request = { model_name = "bigmodel", callback = cb_url, callback_data = cb_data } } }
  local out = curl("-X POST -H " .. H.sh_quote("Authorization: " .. KEY) .. " -H 'Content-Type: application/json' "
    .. "--data-binary " .. H.sh_quote(H.encode(body)) .. " " .. H.sh_quote(H.sim_url .. "/las/api/v1/submit"))
  return H.json(out).metadata.task_id
end

local n_uuid = 0
local function auc_submit(url, cb_url, cb_data)
  n_uuid = n_uuid + 1
  local id = ("7c0b0a1e-0000-4000-8000-%012d"):format(n_uuid)
  local body = { audio = { url = url }, request = { model_name = "bigmodel" }, callback = cb_url,
                 callback_data = cb_data }
  curl("-X POST -H 'X-Api-App-Key: " .. APP .. "' -H 'X-Api-Access-Key: " .. ACCESS .. "' "
    .. "-H 'X-Api-Resource-Id: volc.bigasr.auc' -H 'X-Api-Request-Id: " .. id .. "' -H 'X-Api-Sequence: -1' "
    .. "-H 'Content-Type: application/json' --data-binary " .. H.sh_quote(H.encode(body)) .. " "
    .. H.sh_quote(H.sim_url .. "/auc/api/v3/auc/bigmodel/submit"))
  return id
end

local function sink() return H.json(H.control("GET", "/_sim/sink")).items end

-- Wait (up to ~20 s: a margin for a loaded machine; returns as soon as it holds) for `n` sink items.
local function sink_until(n)
  local items
  for _ = 1, 400 do
    items = sink()
    if #items >= n then return items end
    H.sleep(0.05)
  end
  return items
end

local function stats_until(name, n)
  local s
  for _ = 1, 400 do
    s = H.stats()
    if (s[name] or 0) >= n then return s end
    H.sleep(0.05)
  end
  return s
end

describe("simulator: per-task callbacks", function()
  local CB, url
  before_each(function()
    H.reset()
    H.config({ queue_ms = 60000, rtf = 0.05, min_run_ms = 0 })   -- tasks end only when advanced
    CB = H.sim_url .. "/_sim/sink/cb?stt_token=tok"
    url = H.media("cb_en", 1, "Hello callbacks.")
  end)

  it("LAS: on completion, the poll answer with callback_data, POSTed to the URL as given", function()
    local id = las_submit(url, CB, "tok")
    assert.same({}, sink())
    H.advance(id, "done")
    local items = sink_until(1)
    assert.equal(1, #items)
    assert.equal("/_sim/sink/cb", items[1].path)
    assert.equal("stt_token=tok", items[1].query)
    local b = H.json(items[1].body)
    assert.equal("tok", b.callback_data)
    assert.equal(id, b.metadata.task_id)
    assert.equal("COMPLETED", b.metadata.task_status)
    assert.equal("Hello callbacks.", b.data.result.text)
    local rec = H.sim_task(id)
    assert.equal("sent", rec.cb.state)
    assert.is_number(rec.cb.first_at)
    assert.equal(1, H.stats().callbacks_sent)
  end)

  it("AUC: the query answer, status and request id in headers; a task without callback posts nothing", function()
    local id = auc_submit(url, CB, "tok-a")
    local plain = auc_submit(url)
    H.advance(plain, "done")
    H.advance(id, "done")
    sink_until(1)
    H.sleep(0.2)                       -- time for a wrong second notice (of the task without callback)
    local items = sink()
    assert.equal(1, #items)
    assert.equal("20000000", items[1].headers["x-api-status-code"])
    assert.equal(id, items[1].headers["x-api-request-id"])
    local b = H.json(items[1].body)
    assert.equal("tok-a", b.callback_data)
    assert.equal("Hello callbacks.", b.result.text)
  end)

  it("shape resp and echo false: wrapped in resp, callback_data left out", function()
    H.config({ callbacks = { shape = "resp", echo = false } })
    local id = auc_submit(url, CB, "tok")
    H.advance(id, "done")
    local b = H.json(sink_until(1)[1].body)
    assert.equal(id, b.resp.id)
    assert.is_nil(b.resp.callback_data)
    assert.is_nil(b.callback_data)
  end)

  it("a failing receiver is retried until it answers 2xx", function()
    H.config({ sink_fail = 2, callbacks = { retries = 3, retry_ms = 20 } })
    local id = las_submit(url, CB, "tok")
    H.advance(id, "done")
    local s = stats_until("callbacks_sent", 1)
    assert.equal(3, s.callback_attempts)
    assert.equal(1, s.callbacks_sent)
    assert.equal(2, s.callback_status["500"])
    assert.equal(3, #sink())
    assert.equal(3, H.sim_task(id).cb.attempts)
  end)

  it("a slow receiver (no answer within timeout_ms) counts as failed and is retried, then given up", function()
    H.config({ sink_delay_ms = 400, callbacks = { retries = 1, retry_ms = 10, timeout_ms = 100 } })
    local id = las_submit(url, CB, "tok")
    H.advance(id, "done")
    local s = stats_until("callback_failures", 1)
    assert.equal(2, s.callback_attempts)
    assert.is_nil(s.callbacks_sent)
    assert.equal("failed", H.sim_task(id).cb.state)
  end)

  it("duplicates: the first N callbacks are sent twice", function()
    H.config({ callbacks = { duplicate = 1 } })
    local id = las_submit(url, CB, "tok")
    H.advance(id, "done")
    local items = sink_until(2)
    assert.equal(2, #items)
    for i = 1, 2 do
      assert.equal(id, H.json(items[i].body).metadata.task_id)
      assert.equal("tok", H.json(items[i].body).callback_data)
    end
    assert.equal(1, H.stats().callbacks_duplicated)
  end)

  it("out of order: held callbacks go out together, in reverse order", function()
    H.config({ callbacks = { hold = 2 } })
    local a = las_submit(url, CB, "tok-a")
    local b = las_submit(url, CB, "tok-b")
    H.advance(a, "done")
    H.sleep(0.1)
    assert.same({}, sink())
    H.advance(b, "done")
    local items = sink_until(2)
    assert.equal("tok-b", H.json(items[1].body).callback_data)
    assert.equal("tok-a", H.json(items[2].body).callback_data)
  end)

  it("late: delay_ms holds the notice after the task is already done on a poll", function()
    H.config({ callbacks = { delay_ms = 1500 } })
    local id = las_submit(url, CB, "tok")
    H.advance(id, "done")
    local poll = H.json(curl("-X POST -H " .. H.sh_quote("Authorization: " .. KEY)
      .. " --data-binary " .. H.sh_quote(H.encode({ operator_id = "las_asr", operator_version = "v2", task_id = id }))
      .. " " .. H.sh_quote(H.sim_url .. "/las/api/v1/poll")))
    assert.equal("COMPLETED", poll.metadata.task_status)
    assert.same({}, sink())
    assert.equal(1, #sink_until(1))
  end)

  it("lost: dropped callbacks are never sent; the control route posts one later", function()
    H.config({ callbacks = { drop = 1 } })
    local id = las_submit(url, CB, "tok")
    H.advance(id, "done")
    local s = stats_until("callbacks_dropped", 1)
    assert.equal(1, s.callbacks_dropped)
    assert.same({}, sink())
    assert.equal("dropped", H.sim_task(id).cb.state)
    local r = H.json(H.control("POST", "/_sim/tasks/" .. id .. "/callback", "{}"))
    assert.equal(200, r.status)
    assert.equal(1, #sink())
  end)

  it("forged: a third party's notice, with a bad signature, comes before the real one", function()
    H.config({ callbacks = { forge = 1 } })
    local tok = "stt1.key1." .. string.rep("a", 64)
    local id = las_submit(url, H.sim_url .. "/_sim/sink/cb?stt_token=" .. tok, tok)
    H.advance(id, "done")
    local items = sink_until(2)
    local forged, real = H.json(items[1].body), H.json(items[2].body)
    assert.equal(tok, real.callback_data)
    assert.equal("stt1.key1." .. string.rep("0", 64), forged.callback_data)
    assert.equal("stt_token=stt1.key1." .. string.rep("0", 64), items[1].query)
    assert.equal(1, H.stats().callbacks_forged)
    -- and on demand
    local r = H.json(H.control("POST", "/_sim/tasks/" .. id .. "/callback", '{"forge":true}'))
    assert.equal(200, r.status)
    assert.equal("stt1.key1." .. string.rep("0", 64), H.json(sink()[3].body).callback_data)
  end)

  it("failed tasks are called back too (LAS FAILED, AUC status code in the header)", function()
    local bad = H.media("cb_bad", 1, "x", '{"fail":"FAILED"}')
    local l = las_submit(bad, CB, "t1")
    local a = auc_submit(bad, CB, "t2")
    H.advance(l, "done")
    H.advance(a, "done")
    local items = sink_until(2)
    local by = {}
    for _, it in ipairs(items) do by[H.json(it.body).callback_data] = it end
    assert.equal("FAILED", H.json(by.t1.body).metadata.task_status)
    assert.equal("45000151", by.t2.headers["x-api-status-code"])
  end)
end)
