-- The fault matrix (docs/fault-matrix.md): every provider x every step (submit, poll, result fetch) x
-- every fault the simulator can inject. Each cell must end in the right text after retries or in a
-- typed error, within the deadline, with no Lua error and no key in any output. The outcomes are
-- written to docs/fault-matrix.md (generated; the test run is its only author).
local H = require "helper"
local core = require "stt.core"
local errors = require "stt.errors"

local TEXT = "Hello world. This is the second sentence! And a third one?"
local WAIT = 3          -- the wait timeout of every cell (seconds)
local MARGIN = 4        -- submit retries (2 x 1 s timeout + backoff) come on top of it
-- `make test` writes the document under build/; `make docs` (STT_DOCS_DIR=docs) refreshes the
-- committed copy on purpose, so a test run never changes the tree.
local DOC = (os.getenv("STT_DOCS_DIR") or "build") .. "/fault-matrix.md"
local STEPS = { "submit", "poll", "fetch" }
local STEP_TITLE = { submit = "submit", poll = "poll", fetch = "result fetch" }

local PROVIDERS = {
  { name = "dashscope", prefix = "/dashscope/api/v1", creds = { api_key = H.key }, secret = H.key,
    submit = { path = "/dashscope/api/v1/services/audio/asr/transcription", method = "POST" },
    poll = { path = "/dashscope/api/v1/tasks/" },
    fetch = { path = "/oss/", method = "GET" } },
  { name = "volcengine", prefix = "/las/api/v1", creds = { api_key = H.key }, secret = H.key,
    submit = { path = "/las/api/v1/submit" }, poll = { path = "/las/api/v1/poll" } },
  { name = "volcengine-auc", prefix = "/auc/api/v3", client_ids = true,
    creds = { app_key = "sim-app-0001", access_key = "sim-access-key-0001" }, secret = "sim-access-key-0001",
    submit = { path = "/auc/api/v3/auc/bigmodel/submit" }, poll = { path = "/auc/api/v3/auc/bigmodel/query" } },
  { name = "turing", prefix = "/turing/api/v1", creds = { api_key = H.key }, secret = H.key,
    submit = { path = "/turing/api/v1/audio/transcriptions/runs", method = "POST" },
    poll = { path = "/turing/api/v1/audio/transcriptions/runs/", method = "GET" } },
}

-- Faults a submit cannot safely repeat unless the task id is the client's (volcengine-auc): the
-- request was sent and the answer is lost or unreadable, or a gateway (502/504) may have passed it on.
local AMBIGUOUS = { ["502"] = true, ["504"] = true, reset = true, truncated = true, malformed = true,
                    html = true, empty = true, slow = true }

-- Rows. expect(step, p) -> "ok" | "error" | "ambiguous" (a typed error with ambiguous = true) | nil
-- (this cell is not applicable; the returned second value says why).
local function transient(step, p, kind)
  if step == "submit" and not p.client_ids and AMBIGUOUS[kind] then return "ambiguous" end
  return "ok"
end

local FAULTS = {}
local function row(id, fault, expect) FAULTS[#FAULTS + 1] = { id = id, fault = fault, expect = expect } end

-- Retry-After 1 costs a second: once per provider, at submit (where throttling happens).
row("429 with Retry-After: 1", { type = "429", retry_after = 1 }, function(step)
  if step ~= "submit" then return nil, "n/a (Retry-After: 1 is run once per provider, at submit)" end
  return "ok"
end)
row("429 without Retry-After", { type = "429" }, function() return "ok" end)
for _, code in ipairs({ "500", "502", "503", "504" }) do
  row(code .. " x2 (recovers)", { type = code, count = 2 }, function(step, p) return transient(step, p, code) end)
  -- More than the retries: once, with 500 (the same path as 503; on 502/504 a DashScope, LAS or
  -- Turing submit stops at once, as in the x2 row), to keep the matrix within its time budget.
  if code == "500" then
    row(code .. " x3 (> retries)", { type = code, count = 3 }, function(step)
      if step == "submit" then return "error" end
      -- wait() polls again after a retryable poll error; a result fetch has no second chance.
      return step == "poll" and "ok" or "error"
    end)
  end
end
for _, kind in ipairs({ "reset", "truncated", "malformed", "html", "empty" }) do
  local id = ({ reset = "connection reset (no answer)", truncated = "truncated body (after headers)",
                malformed = "malformed JSON (200)", html = "HTML error page (502)", empty = "empty 200" })[kind]
  row(id, { type = kind }, function(step, p) return transient(step, p, kind) end)
end
-- The right JSON under a wrong Content-Type (providers and OSS send odd ones): on every answer of
-- the step, one type per step. Nothing reads Content-Type, so each cell must succeed as is. (An
-- HTML type WITH an HTML body is the "HTML error page" row.)
local ODD_TYPE = { submit = "text/plain", poll = "text/html; charset=utf-8", fetch = "application/octet-stream" }
row("wrong content type (valid JSON: submit text/plain, poll text/html; charset=utf-8, "
  .. "fetch application/octet-stream)", { type = "content_type", count = 50 }, function() return "ok" end)
row("slow: 1.5 s > 1 s request timeout", { type = "slow", delay_ms = 1500 },
  function(step, p) return transient(step, p, "slow") end)
row("oversize body (200 kB > max_body 64 KiB)", { type = "oversize", size = 200000 }, function(step)
  -- The submit arrived (the task may exist) but its answer is too big to read: ambiguous, for
  -- every provider (max_body failures are not retried).
  if step == "submit" then return "ambiguous" end
  return "error"
end)
row("redirect (302) to another host", { type = "redirect" }, function() return "error" end)
-- DNS and TLS on the result fetch: the simulator hands the result URL out on that host
-- (config.result_base_url). Verification stays on (no `insecure`) in every TLS cell.
row("DNS failure (nonexistent.invalid)", { special = "dns" }, function() return "error" end)
row("TLS failure (self-signed certificate)", { special = "tls" }, function() return "error" end)
row("TLS failure (wrong host name: a trusted certificate for wrong.example)", { special = "tls_wronghost" },
  function() return "error" end)
row("no fault: TLS with the self-signed certificate as ca_file (control for the TLS rows)",
  { special = "tls_trusted" }, function() return "ok" end)
row("task disappears (simulator reset)", { special = "disappear" }, function(step)
  if step ~= "poll" then return nil, "n/a (a task exists only between submit and poll)" end
  return "error"
end)
row("expired result URL", { special = "expired" }, function(step, p)
  if step ~= "fetch" or p.name ~= "dashscope" then return nil, "n/a (no signed result URL)" end
  return "error"
end)

local cells = {}          -- cells[provider][row id][step] = text for the document

local function port_of(url) return url:match(":(%d+)$") end

-- The TLS rows: which listener the failing step talks to, and the CA file the client trusts.
local TLS = {
  tls = { url = H.tls_url },
  tls_wronghost = { url = H.tls_wronghost_url, ca = H.tls_wronghost_ca },
  tls_trusted = { url = H.tls_url, ca = H.tls_ca },
}

-- Runs one cell; returns the outcome text (and fails the test when the cell does not hold).
local function run_cell(p, step, r, expected)
  H.quick_sim()
  local url = H.media("fm_" .. p.name:gsub("%W", "_"), 1, TEXT)
  local retries, seen = 0, {}
  local function on_event(ev)
    if ev.type == "retry" then retries = retries + 1 end
    seen[#seen + 1] = ev.type .. (ev.error and tostring(ev.error) or "")
  end
  local base = H.sim_url .. p.prefix
  local tls = TLS[r.fault.special]
  local function client(b)
    local o = { base_url = b or base, retries = 2, timeout = 1, poll_first = 0.05, wait_timeout = WAIT,
                max_body = 65536, rate_limit = false, on_event = on_event, ca_file = tls and tls.ca }
    for k, v in pairs(p.creds) do o[k] = v end
    return require("stt").client(p.name, o)
  end
  local f, where = r.fault, p[step]
  local bad_base            -- dns/tls: the client of the failing step talks to this
  if f.special == "dns" and step == "fetch" then
    H.config({ result_base_url = "http://nonexistent.invalid:" .. port_of(H.sim_url) })
  elseif f.special == "dns" then
    bad_base = "http://nonexistent.invalid" .. p.prefix
  elseif tls and step == "fetch" then
    H.config({ result_base_url = tls.url })
  elseif tls then
    bad_base = tls.url .. p.prefix
  elseif f.special == "expired" then
    H.config({ result_ttl_s = -1 })
  elseif not f.special then
    local fault = { path = where.path, method = where.method }
    for k, v in pairs(f) do fault[k] = v end
    if f.type == "content_type" then fault.content_type = ODD_TYPE[step] end
    if f.type == "redirect" then
      -- "Another host": the same simulator by another name; it must see no request there.
      fault.location = "http://localhost:" .. port_of(H.sim_url) .. where.path .. "redirected-elsewhere"
    end
    H.fault(fault)
  end

  local t0 = core.now()
  local ok, res, err = pcall(function()
    local c = client(step == "submit" and bad_base or nil)
    local task, serr = c:submit({ url = url, language = "en" })
    if not task then return nil, serr end
    if f.special == "disappear" then H.quick_sim() end
    if bad_base then c = client(bad_base) end
    -- A poll that cannot resolve its host keeps failing retryably: the wait deadline ends it
    -- (shorter here, to keep the matrix quick). A result fetch stops after its retries.
    return c:wait(task, { timeout = f.special == "dns" and step == "poll" and 1.5 or WAIT })
  end)
  local took = core.now() - t0
  assert(ok, "Lua error: " .. tostring(res))
  assert.is_true(took < WAIT + MARGIN, ("took %.2f s"):format(took))

  local st = H.stats()
  if not f.special then
    assert.is_true((st.faults_applied or 0) >= 1, "the fault was never applied")
  end
  if f.type == "redirect" then
    for k in pairs(st.requests or {}) do
      assert.is_nil(k:find("redirected-elsewhere", 1, true), "the redirect was followed: " .. k)
    end
  end
  if f.type == "429" and f.retry_after then
    assert.is_true(took >= 0.95, "Retry-After: 1 was not honoured")
  end
  if step == "fetch" and (f.special == "dns" or tls) then
    -- The result URL pointed at the failing host: no fetch reached the simulator (the trusted
    -- control reached it over TLS).
    local fetched = st.result_fetches or 0
    assert.is_true(f.special == "tls_trusted" and fetched >= 1 or fetched == 0, "result fetches: " .. fetched)
  end

  local out
  if res then
    assert.is_nil(table.concat(seen):find(p.secret, 1, true), "the key shows in an event")
    assert.equal(TEXT, res.text)
    assert.equal("ok", expected, "expected " .. expected .. ", got a result")
    out = ("ok after %d retr%s"):format(retries, retries == 1 and "y" or "ies")
  else
    assert.is_true(errors.is(err), "not a typed error: " .. tostring(err))
    assert.is_true(errors.KINDS[err.kind] ~= nil, "unknown kind " .. tostring(err.kind))
    out = ("typed error %s (retryable=%s%s%s)"):format(err.kind, tostring(err.retryable),
      err.transport == "tls" and ", transport=tls" or "",
      err.ambiguous and ", ambiguous=true: not resubmitted" or "")
    if tls then
      -- A certificate check failed (not a refused or reset connection), once: no retry.
      assert.equal("tls", err.transport, tostring(err))
      assert.equal(0, retries, "a TLS failure was retried")
    end
    local text = tostring(err)
    H.assert_secret_hidden(p.secret, err, {}, seen)
    assert.is_nil(text:find(p.secret, 1, true))
    if expected == "ambiguous" then
      assert.is_true(err.ambiguous == true and err.retryable == false, "expected ambiguous: " .. text)
    else
      assert.equal("error", expected, "expected " .. expected .. ", got " .. text)
    end
  end
  return out     -- no timings: the document changes only when an outcome does
end

---------------------------------------------------------------- callbacks
-- Per-task callbacks (client option callback): the simulator's notices go to its sink, a relay
-- thread hands each to stt.notify (as a receiver would). Rows: the callback faults; columns: the
-- providers that have per-task callbacks. The client polls every FALLBACK s without a notice.
local FALLBACK = 1
local CB_PROVIDERS = { "volcengine", "volcengine-auc" }
local CB_FAULTS = {
  { id = "lost (never sent)", knobs = { drop = 1 }, notices = 0,
    says = "ok after 1 poll (the fallback: no notice came)" },
  { id = "duplicated (sent twice)", knobs = { duplicate = 1 }, notices = 2,
    says = "ok after 1 poll; the copy changed nothing (accepted before the end, or refused after it)" },
  { id = "forged (a third party's, bad signature, first)", knobs = { forge = 1 }, notices = 2,
    says = "ok after 1 poll; the forged notice refused (auth), nothing marked" },
  { id = "late (1.5 s after the end; the fallback poll saw it done)", knobs = { delay_ms = 1500 }, notices = 1,
    fallback = 0.3, says = "ok after 1 poll; the late notice refused (auth, CallbackEnded), nothing marked" },
}
local cb_cells = {}

local function run_cb_cell(pname, r)
  H.quick_sim()
  H.config({ callbacks = r.knobs })
  local p
  for _, q in ipairs(PROVIDERS) do if q.name == pname then p = q end end
  local secret = "fault-matrix-callback-secret"
  local npolls, seen = 0, {}
  local o = { base_url = H.sim_url .. p.prefix, retries = 2, timeout = 1, poll_first = 0.05, wait_timeout = WAIT,
              rate_limit = false, callback = { url = H.sim_url .. "/_sim/sink/fm", secret = secret,
              fallback = r.fallback or FALLBACK },
              on_event = function(ev)
                if ev.type == "poll" then npolls = npolls + 1 end
                seen[#seen + 1] = ev.type .. (ev.error and tostring(ev.error) or "")
              end }
  for k, v in pairs(p.creds) do o[k] = v end
  local stt = require "stt"
  local sched = require "stt.sched"
  local c = stt.client(pname, o)
  local notes = {}
  local t0 = core.now()
  local res, err = stt.run(function()
    local from, done = 1, false
    local relay = stt.spawn(function()
      local t = core.now()
      while core.now() - t < WAIT + MARGIN do
        local sink = H.sim_url .. "/_sim/sink?from=" .. from
        local resp = assert(sched.http(nil, { method = "GET", url = sink }, { timeout = 5 }))
        assert(not resp.error, "the sink: " .. tostring(resp.error and resp.error.message))
        local got = assert(H.json(resp.body), resp.body)
        for _, it in ipairs(got.items) do
          local note, nerr = stt.notify(pname, it.body, it.headers, { client = c, query = it.query })
          notes[#notes + 1] = note or nerr
        end
        from = got.next
        if done and #notes >= r.notices then return end
        stt.sleep(0.02)
      end
    end)
    local task, serr = c:submit({ url = H.media("fm_cb", 1, TEXT), language = "en" })
    if not task then done = true; return nil, serr end
    local out, werr = c:wait(task)
    done = true
    relay:join()
    return out, werr
  end)
  local took = core.now() - t0
  assert(res, tostring(err))
  assert.equal(TEXT, res.text)
  assert.is_true(took < WAIT + MARGIN + 2, ("took %.2f s"):format(took))
  assert.equal(1, npolls)
  assert.equal(r.notices, #notes)
  assert.is_nil(table.concat(seen):find(secret, 1, true), "the secret shows in an event")
  local refused = {}
  for _, n in ipairs(notes) do
    if errors.is(n) then
      assert.equal("auth", n.kind)
      assert.is_nil(tostring(n):find(secret, 1, true))
      refused[#refused + 1] = n
    end
  end
  if r.knobs.forge then
    assert.equal(1, #refused)
    assert.matches("signature", refused[1].message)
  elseif r.knobs.delay_ms then
    assert.equal(1, #refused)
    assert.equal("CallbackEnded", refused[1].code)
  elseif r.knobs.duplicate then
    assert.is_true(#refused <= 1)
    assert.is_true(#refused == 0 or refused[1].code == "CallbackEnded")
  end
  assert.is_nil(next(c._marks.noted))          -- nothing left marked once the wait ended
  return r.says
end

local function write_doc()
  local lines = {
    "# Fault matrix",
    "",
    -- The same outcomes under Lua 5.4 and LuaJIT (make test runs both): no interpreter named.
    "Generated by `make docs` from `spec/fault_matrix_spec.lua`; do not edit by hand.",
    "",
    "Every cell runs against the simulator (`spec/sim/`) with a client of retries = 2, a 1 s",
    "request timeout, max_body = 64 KiB and a " .. WAIT .. " s wait timeout. A cell passes when it ends",
    "in the reference text (after retries) or in a typed error (`stt.errors` kinds) within the",
    "deadline, with no Lua error and without the key in any error or event. DashScope, volcengine",
    "(LAS) and Turing never repeat a submit whose outcome is unknown (`ambiguous=true`: the task may",
    "exist; resubmitting could pay twice); volcengine-auc retries it with the same client-chosen id.",
    "Faults hit the first request(s) of their step only; `x3` is more than the 2 retries; a wrong",
    "content type hits every answer of its step.",
    "DNS and TLS faults of the result fetch: the simulator hands the result URL out on the failing",
    "host (its `result_base_url`). TLS verification is on in every TLS cell; the wrong-host",
    "certificate is trusted (the client's `ca_file`) but issued for `wrong.example`, so only the",
    "host-name check refuses it; the control row trusts the self-signed certificate and succeeds, so",
    "the TLS failures come from verification, not from an unreachable listener.",
    "\"ok after 0 retries\" after a connection reset: the engine (libcurl) sends a request once more,",
    "by itself, when a reused connection closes before any answer (the submit cells use a fresh",
    "connection, so their reset is seen).",
    "Redis (the task store and work queue) and workers killed at each step:",
    "[fault-matrix-redis.md](fault-matrix-redis.md).",
    "",
  }
  for _, p in ipairs(PROVIDERS) do
    lines[#lines + 1] = "## " .. p.name
    lines[#lines + 1] = ""
    lines[#lines + 1] = "| fault | submit | poll | result fetch |"
    lines[#lines + 1] = "|---|---|---|---|"
    for _, r in ipairs(FAULTS) do
      local c = cells[p.name] and cells[p.name][r.id] or {}
      lines[#lines + 1] = ("| %s | %s | %s | %s |"):format(r.id, c.submit or "not run", c.poll or "not run",
        c.fetch or "not run")
    end
    lines[#lines + 1] = ""
  end
  lines[#lines + 1] = "## callbacks"
  lines[#lines + 1] = ""
  lines[#lines + 1] = "Per-task callbacks (client option `callback`, fallback poll every " .. FALLBACK
    .. " s, 0.3 s in the"
  lines[#lines + 1] = "late row): the simulator posts each notice, a receiver hands it to `stt.notify`. A cell passes"
  lines[#lines + 1] = "when the wait ends in the reference text after exactly one poll, every refused notice is a"
  lines[#lines + 1] = "typed `auth` error without the secret, and no mark is left."
  lines[#lines + 1] = ""
  lines[#lines + 1] = "| fault | " .. table.concat(CB_PROVIDERS, " | ") .. " |"
  lines[#lines + 1] = "|---|" .. string.rep("---|", #CB_PROVIDERS)
  for _, r in ipairs(CB_FAULTS) do
    local row_cells = {}
    for i, pname in ipairs(CB_PROVIDERS) do row_cells[i] = cb_cells[pname .. "|" .. r.id] or "not run" end
    lines[#lines + 1] = "| " .. r.id .. " | " .. table.concat(row_cells, " | ") .. " |"
  end
  lines[#lines + 1] = ""
  H.write(DOC, table.concat(lines, "\n"))
end

describe("fault matrix", function()
  teardown(write_doc)

  describe("callbacks", function()
    for _, pname in ipairs(CB_PROVIDERS) do
      for _, r in ipairs(CB_FAULTS) do
        it(("callbacks | %s | %s"):format(pname, r.id), function()
          cb_cells[pname .. "|" .. r.id] = "**FAIL**"
          cb_cells[pname .. "|" .. r.id] = run_cb_cell(pname, r)
        end)
      end
    end
  end)

  for _, p in ipairs(PROVIDERS) do
    describe(p.name, function()
      if not H.has_provider(p.name) then
        pending("the " .. p.name .. " wire schema is not in the core yet")
        return
      end
      cells[p.name] = {}
      for _, r in ipairs(FAULTS) do
        cells[p.name][r.id] = {}
        for _, step in ipairs(STEPS) do
          local expected, why = r.expect(step, p)
          if step == "fetch" and not p.fetch then
            expected, why = nil, "n/a (inline)"
          end
          if not expected then
            cells[p.name][r.id][step] = why
          else
            it(("%s | %s | %s"):format(r.id, STEP_TITLE[step], expected), function()
              cells[p.name][r.id][step] = "**FAIL**"
              cells[p.name][r.id][step] = run_cell(p, step, r, expected)
            end)
          end
        end
      end
    end)
  end
end)
