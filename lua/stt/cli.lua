--- The `stt` command line (bin/stt is a thin launcher): batch transcription with progress, a
-- crash-safe journal and subtitle output. M.main(args) returns the exit status: 0 when every
-- input succeeded, 1 when some failed, 2 for usage errors (then nothing was submitted).
local stt = require "stt"
local core = require "stt.core"
local client_mod = require "stt.client"
local journal = require "stt.journal"

local M = {}

-- After Ctrl-C, how long submits already sent may take to answer (their ids go to the journal).
M.INTERRUPT_GRACE = 10

local USAGE = [[
usage: stt transcribe [options] URL... | @LISTFILE
       stt status TASK_ID|JOURNAL [-p PROVIDER] [--base-url URL] [--json]
       stt resume JOURNAL [--quiet] [--json] [-j N]
       stt providers
       stt --help | --version

transcribe options:
  -p, --provider NAME    provider (default dashscope; see `stt providers`)
  -m, --model NAME       model (default: the provider's)
  -l, --language CODE    language hint (en, zh, ...)
      --speakers N       speaker diarization with N speakers (0: on, count unknown)
      --hotwords FILE    hot words (stt.hotwords format)
  -f, --format LIST      output formats, comma-separated (default srt,json)
  -o, --output DIR       output folder (default .); one file per input and format
  -j, --concurrency N    jobs in flight (default 8)
      --journal FILE     task journal (default DIR/stt-journal.jsonl); a rerun resumes from it
      --base-url URL     provider base URL, up to and including its API version
      --timeout SECONDS  longest wait per job (default 3600)
      --force            resubmit inputs whose journaled task failed, or whose earlier submit
                         has an unknown outcome (that one may pay twice)
  -q, --quiet            no progress; failures only
      --json             machine-readable events on stdout, one JSON object per line

@LISTFILE holds one URL per line (blank lines and lines starting with # are skipped); @- reads stdin.
Keys come from the environment: DASHSCOPE_API_KEY (dashscope), and the variable named in
`stt providers` for the others.
Exit status: 0 all inputs succeeded, 1 some failed, 2 usage error.
]]

-- Output formats we know how to name; offered when stt.subtitle has a writer of that name.
local FORMATS = { "srt", "vtt", "lrc", "ass", "ssa", "sbv", "ttml", "tsv", "csv", "txt", "json", "md" }

local function available_formats()
  local sub = stt.subtitle
  local out = {}
  for _, f in ipairs(FORMATS) do
    if type(sub[f]) == "function" then out[#out + 1] = f end
  end
  return out
end

-- "-f json" writes the whole normalized Result (text, segments, words, usage), not just the
-- subtitle cues: that file is the transcript. The provider's raw body is left out.
local function result_json(res)
  local copy = {}
  for k, v in pairs(res) do if k ~= "raw" then copy[k] = v end end
  return stt.json_encode(copy) .. "\n"
end

---------------------------------------------------------------- small helpers
local Usage = {}                         -- raised as error(setmetatable({msg}, Usage)) by parsing

local function usage_error(fmt, ...)
  error(setmetatable({ message = fmt:format(...) }, Usage), 0)
end

local function is_tty(fd)
  -- Lua has no isatty(); test(1) inherits our descriptors. 5.4 returns true, LuaJIT 0.
  local r = os.execute("test -t " .. fd)
  return r == true or r == 0
end

local function sh_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function file_exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

local function is_dir(path)
  local r = os.execute("test -d " .. sh_quote(path))
  return r == true or r == 0
end

local function abspath(p)
  if p:sub(1, 1) == "/" then return p end
  local cwd = os.getenv("PWD")
  if not cwd or cwd == "" then
    local h = io.popen("pwd")
    cwd = h and h:read("*l") or "."
    if h then h:close() end
  end
  return (cwd .. "/" .. p):gsub("/%./", "/"):gsub("/%.$", "")
end

-- Write `data` to `path` through a temporary file and rename(2): a crash never leaves a file
-- that looks finished but is not (the rerun checks outputs to skip finished inputs).
local function write_atomic(path, data)
  local tmp = path .. ".part"
  local f, err = io.open(tmp, "wb")
  if not f then return nil, err end
  local ok, werr = f:write(data)
  local cok, cerr = f:close()
  if not ok or not cok then os.remove(tmp) return nil, werr or cerr end
  local rok, rerr = os.rename(tmp, path)
  if not rok then os.remove(tmp) return nil, rerr end
  return true
end

local function fmt_duration(s)
  s = math.floor(s + 0.5)
  local h, m = math.floor(s / 3600), math.floor(s % 3600 / 60)
  if h > 0 then return ("%d:%02d:%02d"):format(h, m, s % 60) end
  return ("%d:%02d"):format(m, s % 60)
end

local function err_table(err)
  if type(err) ~= "table" then return { kind = "error", message = tostring(err) } end
  return { kind = err.kind, code = err.code, message = err.message, status = err.status }
end

local function err_text(err)
  if type(err) == "table" and err.kind then
    local code = err.code and err.code ~= "" and (" [" .. tostring(err.code) .. "]") or ""
    return ("%s%s: %s"):format(err.kind, code, tostring(err.message))
  end
  return tostring(err)
end

---------------------------------------------------------------- inputs and names
local function check_url(u)
  if u:find("[%s%c]") then return nil, "contains spaces or control characters" end
  local scheme, host = u:match("^(%a[%w+.-]*)://([^/?#]*)")
  if not scheme then return nil, "expected http:// or https://" end
  scheme = scheme:lower()
  if scheme ~= "http" and scheme ~= "https" then return nil, "scheme " .. scheme .. " is not http or https" end
  if host == "" or host:match("^[:@]") then return nil, "no host" end
  return true
end
M.check_url = check_url

--- A safe file name (without extension) from a URL's last path segment.
function M.base_name(url)
  local path = url:gsub("[?#].*$", ""):match("^%a[%w+.-]*://[^/]*(.*)$") or ""
  local last = path:match("([^/]*)/*$") or ""
  last = last:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)
  last = last:gsub("[/\\]", "_")                         -- a decoded %2F is no folder
  last = last:gsub("%.%w%w?%w?%w?%w?$", "")                -- the audio extension
  last = last:gsub("[^%w._\128-\255-]", "_"):gsub("^[._-]+", "")
  if #last > 80 then last = last:sub(1, 80):gsub("[\192-\255][\128-\191]*$", "") end
  if last == "" then last = "audio" end
  return last
end

--- Unique names in input order (compared without case: some file systems ignore it).
function M.unique_names(urls)
  local used, out = {}, {}
  for i, u in ipairs(urls) do
    local base = M.base_name(u)
    local name, n = base, 1
    while used[name:lower()] do
      n = n + 1
      name = base .. "-" .. n
    end
    used[name:lower()] = true
    out[i] = name
  end
  return out
end

local function read_list(spec)
  local name = spec:sub(2)
  local f, err
  if name == "-" then f = io.stdin else f, err = io.open(name, "rb") end
  if not f then usage_error("cannot read list file %s: %s", name, tostring(err)) end
  local data = f:read("*a")
  if f ~= io.stdin then f:close() end
  if not data then usage_error("cannot read list file %s", name) end
  local out, n = {}, 0
  for line in (data .. "\n"):gmatch("([^\n]*)\n") do
    n = n + 1
    line = line:gsub("\r$", ""):gsub("^%s+", ""):gsub("%s+$", "")
    if line ~= "" and line:sub(1, 1) ~= "#" then
      out[#out + 1] = { url = line, where = ("line %d of %s"):format(n, name) }
    end
  end
  if #out == 0 then
    usage_error("list file %s holds no inputs (one URL per line; blank lines and # comments are skipped)",
      name == "-" and "@- (stdin)" or name)
  end
  return out
end

---------------------------------------------------------------- argument parsing
local OPTS = {
  ["-p"] = "provider", ["--provider"] = "provider", ["-m"] = "model", ["--model"] = "model",
  ["-l"] = "language", ["--language"] = "language", ["--speakers"] = "speakers",
  ["--hotwords"] = "hotwords", ["-f"] = "format", ["--format"] = "format", ["-o"] = "output",
  ["--output"] = "output", ["-j"] = "concurrency", ["--concurrency"] = "concurrency",
  ["--journal"] = "journal", ["--base-url"] = "base_url", ["--timeout"] = "timeout",
}
local FLAGS = { ["-q"] = "quiet", ["--quiet"] = "quiet", ["--json"] = "json", ["--force"] = "force" }

local function parse_args(args, first)
  local o, pos = {}, {}
  local i = first
  while i <= #args do
    local a = args[i]
    local name, val = a:match("^(%-%-[%w-]+)=(.*)$")
    name = name or a
    if a == "--" then
      for k = i + 1, #args do pos[#pos + 1] = args[k] end
      break
    elseif OPTS[name] then
      if not val then
        i = i + 1
        val = args[i]
        if val == nil then usage_error("option %s needs a value", name) end
      end
      o[OPTS[name]] = val
    elseif FLAGS[name] and not val then
      o[FLAGS[name]] = true
    elseif a:sub(1, 1) == "-" and a ~= "-" and #a > 1 then
      usage_error("unknown option %s (see stt --help)", a)
    else
      pos[#pos + 1] = a
    end
    i = i + 1
  end
  return o, pos
end

local function positive_int(name, v, min)
  local n = tonumber(v)
  if not n or n ~= math.floor(n) or n < min then usage_error("%s must be an integer >= %d, got %q", name, min, v) end
  return n
end

local function provider_info(name)
  local known = false
  for _, p in ipairs(core.providers()) do if p == name then known = true end end
  local p = client_mod.PROVIDERS[name]
  if not known or not p then return nil end
  return p
end

local function provider_names()
  local out = {}
  for _, p in ipairs(core.providers()) do
    if client_mod.PROVIDERS[p] then out[#out + 1] = p end
  end
  return out
end

-- The environment variables holding a provider's key (one name, or several that all must be set).
local function key_envs(p)
  local out = {}
  local k = p.key_env
  if type(k) == "table" then for _, n in ipairs(k) do out[#out + 1] = n end
  elseif k then out[#out + 1] = k end
  if p.app_key_env then out[#out + 1] = p.app_key_env end          -- volcengine-auc: two keys
  if p.access_key_env then out[#out + 1] = p.access_key_env end
  return out
end

local function check_key(provider)
  local p = provider_info(provider)
  for _, name in ipairs(key_envs(p)) do
    local v = os.getenv(name)
    if not v or v == "" then usage_error("no API key for %s: set %s", provider, name) end
  end
end

-- Everything a batch needs, validated before anything is submitted.
local function batch_settings(o, pos)
  local s = {}
  s.provider = o.provider or "dashscope"
  if not provider_info(s.provider) then
    usage_error("unknown provider %q (known: %s)", s.provider, table.concat(provider_names(), ", "))
  end
  s.model = o.model
  s.language = o.language
  if o.speakers then s.speakers = positive_int("--speakers", o.speakers, 0) end
  s.formats = {}
  local avail = available_formats()
  local avail_set = {}
  for _, f in ipairs(avail) do avail_set[f] = true end
  local seen = {}
  for f in (o.format or "srt,json"):gmatch("[^,%s]+") do
    f = f:lower()
    if not avail_set[f] then usage_error("unknown format %q (available: %s)", f, table.concat(avail, ", ")) end
    if not seen[f] then s.formats[#s.formats + 1] = f; seen[f] = true end
  end
  if #s.formats == 0 then usage_error("no output format given") end
  s.output = abspath(o.output or ".")
  s.concurrency = o.concurrency and positive_int("--concurrency", o.concurrency, 1) or 8
  s.timeout = o.timeout and tonumber(o.timeout)
  if o.timeout and (not s.timeout or s.timeout <= 0) then usage_error("--timeout must be a positive number") end
  s.base_url = o.base_url
  if s.base_url then
    local ok, why = check_url(s.base_url)
    if not ok then usage_error("malformed --base-url %q: %s", s.base_url, why) end
  end
  s.journal = o.journal and abspath(o.journal) or (s.output .. "/stt-journal.jsonl")
  s.hotwords_file = o.hotwords and abspath(o.hotwords)
  -- inputs
  local inputs = {}
  for _, a in ipairs(pos) do
    if a:sub(1, 1) == "@" then
      for _, it in ipairs(read_list(a)) do inputs[#inputs + 1] = it end
    else
      inputs[#inputs + 1] = { url = a, where = "argument" }
    end
  end
  if #inputs == 0 then usage_error("no input URLs (give URLs or @LISTFILE)") end
  s.inputs, s.duplicates = {}, 0
  local seen_url = {}
  for _, it in ipairs(inputs) do
    local ok, why = check_url(it.url)
    if not ok then usage_error("malformed URL %q (%s): %s", it.url, it.where, why) end
    if seen_url[it.url] then s.duplicates = s.duplicates + 1
    else
      seen_url[it.url] = true
      s.inputs[#s.inputs + 1] = it.url
    end
  end
  return s
end

-- Hot words through stt.hotwords (when this build has it), validated for the provider.
local function load_hotwords(s)
  if not s.hotwords_file then return nil end
  if not file_exists(s.hotwords_file) then usage_error("cannot read hotwords file %s", s.hotwords_file) end
  local ok, hw_mod = pcall(require, "stt.hotwords")
  if not ok then usage_error("--hotwords: this build has no stt.hotwords module") end
  local hw, err = hw_mod.load(s.hotwords_file)
  if not hw then usage_error("hotwords file %s: %s", s.hotwords_file, err_text(err)) end
  if hw.validate then
    local valid, problems = hw:validate(s.provider)
    if not valid then
      local list = type(problems) == "table" and table.concat(problems, "; ") or tostring(problems)
      usage_error("hotwords file %s: %s", s.hotwords_file, list)
    end
  end
  return hw
end

---------------------------------------------------------------- progress and events
local Progress = {}
Progress.__index = Progress

local function new_progress(mode, total, lanes)
  return setmetatable({ mode = mode, total = total, done = 0, failed = 0, skipped = 0, running = 0,
                        submitting = 0, t0 = core.now(), last_draw = 0, lanes = lanes or 1,
                        start_at = {}, work_time = 0, work_n = 0 }, Progress)
end

--- Seconds left, estimated from the completion rate: `avg` is the mean time an input took from
-- its start to its end (inputs done in this run), `ages` how long each running one has run,
-- `waiting` how many have not started, `lanes` how many run at once. Each running input needs
-- about what is left of `avg`, each waiting one `avg`, and the lanes share that work. nil when
-- nothing has finished yet (no rate to go by).
function M.estimate(avg, ages, waiting, lanes)
  if not avg then return nil end
  local work = waiting * avg
  for _, age in ipairs(ages) do work = work + math.max(avg - age, 0) end
  local busy = math.max(1, math.min(lanes, #ages + waiting))
  return work / busy
end

function Progress:started(i)
  self.start_at[i] = core.now()
end

-- Input i finished (done or failed) after work in this run: its time feeds the estimate.
function Progress:finished(i)
  local t = self.start_at[i]
  if t then
    self.work_time, self.work_n = self.work_time + (core.now() - t), self.work_n + 1
    self.start_at[i] = nil
  end
end

function Progress:eta(now)
  local finished = self.done + self.failed
  if finished >= self.total then return 0 end
  local ages = {}
  for _, t in pairs(self.start_at) do ages[#ages + 1] = now - t end
  local avg = self.work_n > 0 and self.work_time / self.work_n or nil
  return M.estimate(avg, ages, math.max(0, self.total - finished - #ages), self.lanes)
end

function Progress:bar()
  local finished = self.done + self.failed
  local width = 24
  local fill = self.total > 0 and math.floor(width * finished / self.total) or width
  local now = core.now()
  local elapsed = now - self.t0
  local left = self:eta(now)
  local eta = left and fmt_duration(left) or "--:--"
  return ("[%s%s] %d/%d done, %d failed, %d running, %s elapsed, ETA %s"):format(
    ("#"):rep(fill), ("."):rep(width - fill), self.done, self.total, self.failed, self.running,
    fmt_duration(elapsed), eta)
end

function Progress:draw(force)
  if self.mode ~= "tty" then return end
  local t = core.now()
  if not force and t - self.last_draw < 0.1 then return end
  self.last_draw = t
  io.stderr:write("\r\27[K", self:bar())
  io.stderr:flush()
end

-- One event: JSON on stdout (--json), a line on stderr (not a terminal), the bar (terminal).
-- Failures are always reported, with their reason, except in --json where they are events.
function Progress:event(ev)
  if self.mode == "json" then
    io.stdout:write(core.json_encode(ev), "\n")
    io.stdout:flush()
    return
  end
  local line
  -- "[finished/total]" on the lines that finish an input; plain on the others.
  local tag = ""
  if ev.event == "done" or ev.event == "failed" or ev.event == "skipped" then
    tag = ("[%d/%d] "):format(self.done + self.failed, self.total)
  end
  if ev.event == "failed" then
    line = ("stt: %sFAILED %s: %s"):format(tag, ev.input, ev.reason)
  elseif self.mode == "lines" then
    if ev.event == "submitted" then
      line = ("stt: %s%s %s (task %s)"):format(tag, ev.journaled and "resumed" or "submitted", ev.input, ev.task_id)
    elseif ev.event == "done" then
      line = ("stt: %sdone %s -> %s"):format(tag, ev.input, table.concat(ev.outputs, ", "))
    elseif ev.event == "skipped" then
      line = ("stt: %salready done %s"):format(tag, ev.input)
    elseif ev.event == "note" then
      line = "stt: " .. ev.message
    end
  elseif ev.event == "note" and self.mode == "tty" then
    line = "stt: " .. ev.message
  end
  if line then
    if self.mode == "tty" then io.stderr:write("\r\27[K") end
    io.stderr:write(line, "\n")
  end
  self:draw(true)
end

---------------------------------------------------------------- transcribe
local function make_client(s, jpath)
  local opts = { model = s.model, base_url = s.base_url, journal = jpath }
  if s.timeout then opts.wait_timeout = s.timeout end
  return stt.client(s.provider, opts)
end

local function base_job(s, url, hw)
  return { url = url, language = s.language, speakers = s.speakers, hotwords = hw }
end

-- The settings a resume needs, kept in the journal as a note (no key: keys come from the env).
local function batch_note(s)
  return { cmd = "transcribe", provider = s.provider, model = s.model, language = s.language,
           speakers = s.speakers, formats = s.formats, output = s.output, concurrency = s.concurrency,
           base_url = s.base_url, timeout = s.timeout, hotwords = s.hotwords_file, inputs = s.inputs }
end

local function run_batch(s, o)
  local mode = o.json and "json" or (o.quiet and "quiet") or (is_tty(2) and "tty" or "lines")
  check_key(s.provider)
  local hw = load_hotwords(s)
  if not is_dir(s.output) then
    local r = os.execute("mkdir -p " .. sh_quote(s.output))
    if not (r == true or r == 0) then usage_error("cannot create output folder %s", s.output) end
  end
  local ok, c = pcall(make_client, s, s.journal)
  if not ok then usage_error("%s", tostring(c):gsub("^stt%.client: ", "")) end
  -- Options the provider or model refuses are found before anything is sent: the wire schema is
  -- pure, so building one request (with a placeholder key, never sent) costs nothing. Hot words
  -- are left to the client, which may turn them into a vocabulary id first.
  local probe = base_job(s, s.inputs[1])
  -- volcengine-auc: placeholder app/access keys too, and a task id (the client chooses it).
  local req, berr = core.build(s.provider, "submit", { api_key = "placeholder", app_key = "placeholder",
    access_key = "placeholder", base_url = s.base_url, model = c.model, job = probe,
    request_id = client_mod.PROVIDERS[s.provider].client_ids and client_mod.new_request_id() or nil })
  if not req then
    c:close()
    usage_error("%s", err_text(stt.errors.new(berr)))
  end
  local jr = c.journal
  local names = M.unique_names(s.inputs)
  local note = batch_note(s)
  local last
  for _, n in ipairs(jr.notes) do if n.cmd == "transcribe" then last = n end end
  last = last and journal.copy(last)
  if last then last.t = nil end
  if not last or core.json_encode(last) ~= core.json_encode(journal.copy(note)) then
    local nok, nerr = jr:note(note)
    if not nok then usage_error("%s", nerr) end
  end

  local P = new_progress(mode, #s.inputs, s.concurrency)
  if s.duplicates > 0 then
    P:event({ event = "note", message = ("%d duplicate input URL(s) ignored"):format(s.duplicates) })
  end
  local failures = {}
  local function outputs_of(i)
    local out = {}
    for k, f in ipairs(s.formats) do out[k] = s.output .. "/" .. names[i] .. "." .. f end
    return out
  end
  local function fail(i, err)
    P:finished(i)
    P.failed = P.failed + 1
    failures[#failures + 1] = i
    P:event({ event = "failed", index = i, input = s.inputs[i], reason = err_text(err), error = err_table(err) })
  end

  local function one(i)
    local url = s.inputs[i]
    local job = base_job(s, url, hw)
    local key, canon = journal.key(s.provider, c.model, job)
    local e = jr:find(key, canon)
    local outs = outputs_of(i)
    if e and e.state == "succeeded" then
      local all = true
      for _, p in ipairs(outs) do if not file_exists(p) then all = false end end
      if all then
        P.done, P.skipped = P.done + 1, P.skipped + 1
        P:event({ event = "skipped", index = i, input = url, task_id = e.task and e.task.id, outputs = outs })
        return
      end
    end
    if o.force and e and (e.state == "unknown" or e.state == "failed" or e.state == "canceled") then
      job.force = true
    end
    P:started(i)
    P.running = P.running + 1
    P.submitting = P.submitting + 1
    local task, err = c:submit(job)
    P.submitting = P.submitting - 1
    if not task then P.running = P.running - 1; return fail(i, err) end
    P:event({ event = "submitted", index = i, input = url, task_id = task.id,
              journaled = (e and e.task) and true or nil })
    local res, werr = c:wait(task)
    P.running = P.running - 1
    if not res then return fail(i, werr) end
    for k, f in ipairs(s.formats) do
      local fok, data = pcall(f == "json" and result_json or stt.subtitle[f], res)
      if not fok or type(data) ~= "string" then
        return fail(i, ("cannot make %s: %s"):format(f, tostring(data)))
      end
      local wok, ferr = write_atomic(outs[k], data)
      if not wok then return fail(i, "cannot write " .. outs[k] .. ": " .. tostring(ferr)) end
    end
    P:finished(i)
    P.done = P.done + 1
    P:event({ event = "done", index = i, input = url, task_id = task.id, outputs = outs })
  end

  -- Ctrl-C (SIGINT) or SIGTERM: start nothing new, let submits already on the wire come back so
  -- their task ids reach the journal (at most INTERRUPT_GRACE seconds), then say what is where
  -- and exit 130. A rerun of the same command resumes; a second Ctrl-C stops at once.
  local stopping = false
  local function interrupted(sig)
    stopping = true
    local t0 = core.now()
    while P.submitting > 0 and core.now() - t0 < M.INTERRUPT_GRACE do stt.sleep(0.05) end
    local waiting = P.running - P.submitting
    jr:note({ cmd = "interrupted", signal = sig, done = P.done, failed = P.failed, running = waiting,
              submitting = P.submitting })
    if mode == "tty" then io.stderr:write("\r\27[K") end
    if mode == "json" then
      P:event({ event = "interrupted", signal = sig, done = P.done, failed = P.failed, running = waiting,
                journal = s.journal })
    end
    io.stderr:write(("stt: interrupted: %d done, %d submitted and still running%s; rerun the same command to resume\n")
      :format(P.done, waiting, P.submitting > 0
        and (", %d submit(s) without an answer (rerun reports them as unknown)"):format(P.submitting) or ""))
    io.stderr:flush()
    io.stdout:flush()
    os.exit(130)
  end

  stt.run(function()
    core.catch_signal("INT")
    core.catch_signal("TERM")
    local nexti, finished = 0, false
    local function worker()
      while not stopping do
        nexti = nexti + 1
        local i = nexti
        if i > #s.inputs then return end
        one(i)
      end
    end
    local ths = {}
    for w = 1, math.min(s.concurrency, #s.inputs) do ths[w] = stt.spawn(worker) end
    -- One watcher: the progress bar on a terminal, and the signal flag (a signal interrupts the
    -- engine's wait, so it is seen within one tick).
    local ticker = stt.spawn(function()
      while not finished do
        local sig = core.pending_signal()
        if sig then return interrupted(sig) end
        if mode == "tty" then P:draw(true) end
        stt.sleep(0.1)
      end
    end)
    for _, th in ipairs(ths) do th:join() end
    finished = true
    ticker:join()
  end)
  c:close()
  jr:close()

  local took = fmt_duration(core.now() - P.t0)
  if mode == "json" then
    P:event({ event = "summary", total = #s.inputs, succeeded = P.done, failed = P.failed,
              skipped = P.skipped, journal = s.journal, seconds = core.now() - P.t0 })
  else
    if mode == "tty" then P:draw(true); io.stderr:write("\n") end
    if mode ~= "quiet" or P.failed > 0 then
      io.stderr:write(("stt: %d of %d done (%d from earlier runs), %d failed, in %s; journal %s\n"):format(
        P.done, #s.inputs, P.skipped, P.failed, took, s.journal))
    end
  end
  return P.failed > 0 and 1 or 0
end

local function cmd_transcribe(args, first)
  local o, pos = parse_args(args, first)
  local s = batch_settings(o, pos)
  return run_batch(s, o)
end

local function cmd_resume(args, first)
  local o, pos = parse_args(args, first)
  if #pos ~= 1 then usage_error("resume needs exactly one JOURNAL file") end
  local path = abspath(pos[1])
  if not file_exists(path) then usage_error("cannot read journal %s", path) end
  local jr, jerr = journal.open(path)
  if not jr then usage_error("%s", jerr) end
  local note
  for _, n in ipairs(jr.notes) do if n.cmd == "transcribe" then note = n end end
  if not note then usage_error("journal %s holds no batch from `stt transcribe`", path) end
  local so = { provider = note.provider, model = note.model, language = note.language,
               speakers = note.speakers and tostring(note.speakers), format = table.concat(note.formats or {}, ","),
               output = note.output, concurrency = tostring(o.concurrency or note.concurrency or 8),
               base_url = o.base_url or note.base_url, timeout = note.timeout and tostring(note.timeout),
               hotwords = note.hotwords, journal = path }
  local s = batch_settings(so, note.inputs or {})
  return run_batch(s, o)
end

local function cmd_status(args, first)
  local o, pos = parse_args(args, first)
  if #pos ~= 1 then usage_error("status needs a TASK_ID or a JOURNAL file") end
  local arg = pos[1]
  if file_exists(arg) then
    local jr, jerr = journal.open(arg)
    if not jr then usage_error("%s", jerr) end
    local counts, order, stale = {}, {}, 0
    for _, e in ipairs(jr:entries()) do
      local st = e.state
      if not counts[st] then counts[st] = 0; order[#order + 1] = st end
      counts[st] = counts[st] + 1
      local input = e.job and (e.job.url or (e.job.urls and table.concat(e.job.urls, " "))) or "?"
      local id = e.task and e.task.id or e.planned_id
      -- A writer that died or was interrupted left the states of unfinished tasks as it last knew
      -- them: the provider may have finished them since.
      local last_known = not jr.closed and not journal.TERMINAL[st] or nil
      if last_known then stale = stale + 1 end
      if o.json then
        io.stdout:write(core.json_encode({ event = "entry", state = st, task_id = id, input = input,
                                           provider = e.provider, model = e.model, error = e.error,
                                           last_known = last_known }), "\n")
      else
        local why = e.error and ("  (" .. err_text(e.error) .. ")") or ""
        if st == "unknown" then why = "  (may have been submitted: outcome unknown)" end
        io.stdout:write(("%-10s %-38s %s%s\n"):format(last_known and (st .. "*") or st, id or "-", input, why))
      end
    end
    local parts = {}
    for _, st in ipairs(order) do parts[#parts + 1] = ("%d %s"):format(counts[st], st) end
    if o.json then
      io.stdout:write(core.json_encode({ event = "summary", counts = counts, closed = jr.closed or false }), "\n")
    else
      io.stdout:write(("%s: %s\n"):format(arg, #parts > 0 and table.concat(parts, ", ") or "empty"))
      if stale > 0 then
        io.stdout:write(("* last known state: the journal was not closed cleanly (its run was killed or "
          .. "interrupted); `stt resume %s` brings %s up to date\n"):format(arg, stale == 1 and "it" or "them"))
      end
    end
    return 0
  end
  local provider = o.provider or "dashscope"
  if not provider_info(provider) then usage_error("unknown provider %q", provider) end
  if not arg:match("^[%w._:-]+$") then usage_error("%q is neither a journal file nor a task id", arg) end
  check_key(provider)
  local c = stt.client(provider, { base_url = o.base_url, model = o.model })
  local st, err = c:poll({ id = arg, provider = provider, model = c.model })
  c:close()
  -- A task the provider does not know (never existed, or expired) is an error, not a state.
  if st and st.error and st.error.kind == "not_found" then st, err = nil, st.error end
  if not st then
    io.stderr:write("stt: ", arg, ": ", err_text(err), "\n")
    return 1
  end
  if o.json then
    io.stdout:write(core.json_encode({ event = "status", task_id = arg, state = st.state,
                                       error = st.error and err_table(st.error),
                                       text = st.result and st.result.text }), "\n")
  else
    local extra = st.error and ("  (" .. err_text(st.error) .. ")") or ""
    io.stdout:write(("%s %s%s\n"):format(arg, st.state, extra))
  end
  return 0
end

local function cmd_providers()
  local list = type(stt.providers) == "function" and stt.providers() or nil
  local names = provider_names()
  for _, name in ipairs(names) do
    local p = client_mod.PROVIDERS[name]
    local info = list and list[name]
    local models = {}
    if info and type(info.models) == "table" then
      -- stt.providers(): models is a map name -> capabilities (or a list of names)
      for k, v in pairs(info.models) do models[#models + 1] = type(k) == "string" and k or tostring(v) end
      table.sort(models)
    end
    local default = info and info.default_model or p.model
    if #models == 0 and default then models[1] = default end
    models = table.concat(models, " ") .. (default and (" (default " .. default .. ")") or "")
    io.stdout:write(("%-16s key: %-28s base URL: %-24s models: %s\n"):format(name, table.concat(key_envs(p), "+"),
      p.base_env or "-", models))
  end
  return 0
end

--- Run the command line; returns the exit status.
function M.main(args)
  local cmd = args[1]
  local ok, code = pcall(function()
    if cmd == nil then
      io.stderr:write(USAGE)
      return 2
    elseif cmd == "-h" or cmd == "--help" or cmd == "help" then
      io.stdout:write(USAGE)
      return 0
    elseif cmd == "-V" or cmd == "--version" then
      io.stdout:write(("stt %s (lua-stt, %s, libcurl %s)\n"):format(core._VERSION, _VERSION, core.version().curl))
      return 0
    elseif cmd == "transcribe" then return cmd_transcribe(args, 2)
    elseif cmd == "resume" then return cmd_resume(args, 2)
    elseif cmd == "status" then return cmd_status(args, 2)
    elseif cmd == "providers" then return cmd_providers()
    end
    usage_error("unknown command %q (see stt --help)", cmd)
  end)
  if ok then return code end
  if getmetatable(code) == Usage then
    io.stderr:write("stt: ", code.message, "\n")
    return 2
  end
  error(code, 0)
end

return M
