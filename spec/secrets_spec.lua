-- The secrets sweep: every provider runs with recognizable canary keys through every output
-- channel (errors of every kind, on_event events, tostring(client) and its fields, the journal,
-- the CLI's stdout/stderr/output files, stt.parse errors); then everything produced is searched
-- for each canary and for its last 8 characters. The canaries must reach the simulator's request
-- headers (so the sweep cannot pass by never using them) and nothing else.
local H = require "helper"
local stt = require "stt"
local core = require "stt.core"

-- Tails use letters outside [0-9a-f] so that no task id or UUID can match one by chance.
local C = {
  ds = "sk-CANARY-dashscope-7f3aQz7KxW3p",
  las = "sk-CANARY-las-7f3aRm4NvB8q",
  auc_app = "CANARY-auc-app-7f3aJt2HcY6w",
  auc_access = "sk-CANARY-auc-access-7f3aPd5LgU9e",
  turing = "sk-CANARY-turing-7f3aXs8FkE1r",
  -- keys the simulator does not know (auth failures)
  ds_bad = "sk-CANARY-bad-dashscope-7f3aGh3MwZ5t",
  las_bad = "sk-CANARY-bad-las-7f3aKv6SnQ2y",
  auc_bad = "sk-CANARY-bad-auc-access-7f3aWr9TjH4u",
  turing_bad = "sk-CANARY-bad-turing-7f3aNc1XpL7m",
}

local PROVIDERS = {
  { name = "dashscope", path = "/dashscope/api/v1", env = { DASHSCOPE_API_KEY = "ds" },
    creds = { api_key = C.ds }, bad = { api_key = C.ds_bad }, bad_env = { DASHSCOPE_API_KEY = "ds_bad" },
    unsupported = { gender = true } },
  { name = "volcengine", path = "/las/api/v1", env = { LAS_API_KEY = "las" },
    creds = { api_key = C.las }, bad = { api_key = C.las_bad }, bad_env = { LAS_API_KEY = "las_bad" },
    unsupported = { vocabulary_id = "vocab-1" } },
  { name = "volcengine-auc", path = "/auc/api/v3", env = { VOLC_APP_KEY = "auc_app", VOLC_ACCESS_KEY = "auc_access" },
    creds = { app_key = C.auc_app, access_key = C.auc_access },
    bad = { app_key = C.auc_app, access_key = C.auc_bad },
    bad_env = { VOLC_APP_KEY = "auc_app", VOLC_ACCESS_KEY = "auc_bad" },
    unsupported = { vocabulary_id = "vocab-1" } },
  { name = "turing", path = "/turing/api/v1", env = { TURING_API_KEY = "turing" },
    creds = { api_key = C.turing }, bad = { api_key = C.turing_bad }, bad_env = { TURING_API_KEY = "turing_bad" },
    unsupported = { gender = true } },
}

-- Everything produced, as { label, text } pairs.
local produced = {}
local function keep(label, text) produced[#produced + 1] = { label, tostring(text) } end

-- All keys and values reachable from `v` (metatables ignored, cycles cut), as text.
local function dump(v, out, seen)
  out, seen = out or {}, seen or {}
  if type(v) ~= "table" then
    out[#out + 1] = tostring(v)
    return out
  end
  if seen[v] then return out end
  seen[v] = true
  for k, x in pairs(v) do
    dump(k, out, seen)
    dump(x, out, seen)
  end
  return out
end

local function keep_error(label, err)
  if err == nil then return end
  keep(label .. " tostring", tostring(err))
  keep(label .. " fields", table.concat(dump(err), " "))
end

-- The on_event handler: each event as JSON (error objects as their text) and as its fields.
local function event_sink(label)
  return function(ev)
    local copy = {}
    for k, v in pairs(ev) do copy[k] = (k == "error" and v ~= nil) and tostring(v) or v end
    keep(label .. " event json", core.json_encode(copy))
    keep(label .. " event fields", table.concat(dump(ev), " "))
  end
end

local function keep_client(label, c)
  keep(label .. " tostring(client)", tostring(c))
  keep(label .. " client fields", table.concat(dump(c), " "))
end

local function client(p, creds, opts)
  local o = { base_url = H.sim_url .. p.path, retries = 1, on_event = event_sink(p.name) }
  for k, v in pairs(creds) do o[k] = v end
  for k, v in pairs(opts or {}) do o[k] = v end
  return H.client(p.name, o)
end

-- The providers' paths hit by the client (submit, poll, result) all start with p.path's first part.
local function prefix(p) return p.path:match("^/[^/]+") end

local function sim_keys()
  H.config({ keys = { C.ds, C.las, C.turing }, auc_keys = { [C.auc_app] = C.auc_access } })
end

-- The canary header(s) each provider sends, from GET /_sim/stats last_headers.
local function assert_headers_carry(p, what, creds)
  creds = creds or p.creds
  local h = H.stats().last_headers or {}
  if p.name == "volcengine-auc" then
    assert.equal(creds.app_key, h["x-api-app-key"], what)
    assert.equal(creds.access_key, h["x-api-access-key"], what)
  else
    local auth = h.authorization or ""
    assert.truthy(auth:find(creds.api_key, 1, true), what .. ": Authorization is " .. auth)
  end
end

describe("secrets", function()
  local dir
  setup(function() dir = H.tmpdir() end)
  teardown(function() os.execute("rm -rf " .. H.sh_quote(dir)) end)

  before_each(function()
    H.quick_sim()
    sim_keys()
  end)

  for _, p in ipairs(PROVIDERS) do
    it(p.name .. ": errors of every kind, events and the client carry no key", function()
      local url = H.media("sec_" .. p.name, 1, "A secret is kept.")
      local lbl = p.name
      -- Success first: the canaries reach the provider's headers.
      local c = client(p, p.creds)
      local task = assert(c:submit({ url = url }))
      assert_headers_carry(p, lbl .. " submit")
      assert.equal("A secret is kept.", assert(c:wait(task)).text)
      keep_client(lbl, c)

      local _, err = client(p, p.bad):transcribe({ url = url })
      assert.equal("auth", err.kind)
      keep_error(lbl .. " auth", err)
      local bc = client(p, p.bad)
      keep_client(lbl .. " bad", bc)

      local function with_fault(kind, f, opts, job)
        H.fault(f)
        local _, e = client(p, p.creds, opts):transcribe(job or { url = url })
        H.control("DELETE", "/_sim/faults")
        assert.is_table(e, kind)
        keep_error(lbl .. " " .. kind, e)
        return e
      end
      with_fault("throttled", { path = prefix(p), method = "POST", type = "429", retry_after = 0, count = 2 })
      with_fault("server", { path = prefix(p), method = "POST", type = "500", count = 2 })
      with_fault("reset", { path = prefix(p), method = "POST", type = "reset", count = 2 })
      with_fault("ambiguous", { path = prefix(p), method = "POST", type = "502", count = 2 })
      with_fault("timeout", { path = prefix(p), method = "POST", type = "slow", delay_ms = 1500, count = 1 },
                 { timeout = 0.3, retries = 0 })
      local job = { url = url }
      for k, v in pairs(p.unsupported) do job[k] = v end
      local _, uerr = client(p, p.creds):submit(job)
      assert.equal("unsupported", uerr.kind)
      keep_error(lbl .. " unsupported", uerr)

      -- Poll-side faults: an HTML page, malformed JSON and a truncated body on the poll/result.
      for _, kind in ipairs({ "html", "malformed", "truncated", "empty" }) do
        local pc = client(p, p.creds, { retries = 0 })
        local t = assert(pc:submit({ url = url }))
        H.fault({ path = prefix(p), type = kind, count = 1 })
        local _, werr = pc:wait(t, { timeout = 2 })
        H.control("DELETE", "/_sim/faults")
        keep_error(lbl .. " poll " .. kind, werr)
      end

      -- Nothing listens on port 1: a connect failure.
      local _, nerr = client(p, p.creds, { base_url = "http://127.0.0.1:1" .. p.path, retries = 0 })
        :transcribe({ url = url })
      assert.equal("network", nerr.kind)
      keep_error(lbl .. " network", nerr)
    end)
  end

  it("the journal of every provider holds no key", function()
    for _, p in ipairs(PROVIDERS) do
      local path = dir .. "/journal-" .. p.name .. ".jsonl"
      local url = H.media("jr_" .. p.name, 1, "Journaled.")
      local c = client(p, p.creds, { journal = path, retries = 0 })
      assert(c:transcribe({ url = url }))
      H.fault({ path = prefix(p), method = "POST", type = "500", count = 1 })
      assert.is_nil(c:submit({ url = url .. "?failed=1" }))
      H.fault({ path = prefix(p), method = "POST", type = "502", count = 1 })
      assert.is_nil(c:submit({ url = url .. "?ambiguous=1" }))
      H.control("DELETE", "/_sim/faults")
      keep_client(p.name .. " journaled", c)
      for _, e in ipairs(c:pending()) do keep(p.name .. " pending", table.concat(dump(e), " ")) end
      local text = assert(H.read(path))
      assert.truthy(text:find('"t":"rejected"', 1, true), "a refused submit is in the journal")
      keep(path, text)
    end
  end)

  it("stt.parse errors carry no key", function()
    for _, p in ipairs(PROVIDERS) do
      for _, case in ipairs({
        { kind = "submit", status = 401, body = '{"code":"InvalidApiKey","message":"Invalid API-key provided."}' },
        { kind = "poll", status = 200, body = "{" },
        { kind = "result", status = 200, body = "<html>502 Bad Gateway</html>" },
        { kind = "submit", status = 429, body = "" },
      }) do
        local out, err = stt.parse(p.name, case.body, { kind = case.kind, status = case.status })
        assert.is_nil(out)
        keep_error(p.name .. " parse", err)
      end
    end
  end)

  it("the CLI's stdout, stderr and output files carry no key", function()
    -- Every provider's canaries are in the environment of every run.
    local function env_of(p, bad)
      local parts = {}
      for _, q in ipairs(PROVIDERS) do
        for name, which in pairs((bad and q == p) and q.bad_env or q.env) do
          parts[#parts + 1] = name .. "=" .. H.sh_quote(C[which])
        end
      end
      return table.concat(parts, " ")
    end
    local function run(p, label, flags, bad)
      local out = dir .. "/cli-" .. label
      local cmd = ("%s bin/stt transcribe -p %s --base-url %s -o %s %s %s >%s.stdout 2>%s.stderr </dev/null; echo $?")
        :format(env_of(p, bad), p.name, H.sh_quote(H.sim_url .. p.path), H.sh_quote(out), flags,
          H.sh_quote(H.media("cli_" .. label, 1, "Command line.")), H.sh_quote(out), H.sh_quote(out))
      local h = assert(H.popen(cmd))
      local code = tonumber(h:read("*a"):match("(%d+)%s*$"))
      h:close()
      keep(out .. ".stdout", H.read(out .. ".stdout") or "")
      keep(out .. ".stderr", H.read(out .. ".stderr") or "")
      return code, out
    end
    for _, p in ipairs(PROVIDERS) do
      local code, out = run(p, p.name .. "-json", "--json -f srt,json")
      -- Success means the simulator accepted a canary: it knows no other key (sim_keys).
      assert.equal(0, code, H.read(out .. ".stderr"))
      assert.truthy((H.read(out .. ".stdout") or ""):find('"event"', 1, true))
      code = run(p, p.name .. "-plain", "-f srt")
      assert.equal(0, code)
      code, out = run(p, p.name .. "-badkey", "", true)
      assert.equal(1, code)
      assert.truthy((H.read(out .. ".stderr") or ""):find("auth", 1, true), H.read(out .. ".stderr"))
      assert_headers_carry(p, p.name .. " CLI, refused submit", p.bad)
      code, out = run(p, p.name .. "-badkey-json", "--json", true)
      assert.equal(1, code)
      assert.truthy((H.read(out .. ".stdout") or ""):find('"auth"', 1, true), H.read(out .. ".stdout"))
    end
    -- Every file the runs wrote (transcripts, subtitles, journals).
    local h = assert(H.popen("find " .. H.sh_quote(dir) .. " -type f"))
    for path in h:read("*a"):gmatch("[^\n]+") do keep(path, H.read(path) or "") end
    h:close()
  end)

  -- Last: search everything the tests above produced (busted runs them in order).
  it("nothing produced holds a canary or its last 8 characters", function()
    assert.truthy(#produced > 200, "the sweep collected output (" .. #produced .. " pieces)")
    local found = {}
    for name, secret in pairs(C) do
      for _, needle in ipairs({ secret, secret:sub(-8) }) do
        for _, piece in ipairs(produced) do
          if piece[2]:find(needle, 1, true) then
            found[#found + 1] = ("%s (%s) in %s: %s"):format(name, needle, piece[1], piece[2]:sub(1, 300))
          end
        end
      end
    end
    assert.equal(0, #found, table.concat(found, "\n"))
  end)
end)
