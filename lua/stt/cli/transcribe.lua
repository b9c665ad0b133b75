--- `stt transcribe` and `stt resume`: a batch of inputs to one file per input and format, with
-- progress, a crash-safe journal (a rerun submits nothing twice) and a clean stop on Ctrl-C.
-- Uses only the public API.
local stt = require "stt"
local util = require "stt.cli.util"
local progress = require "stt.cli.progress"
local render_cli = require "stt.cli.render"

local M = {}

local usage_error, err_text, err_table = util.usage_error, util.err_text, util.err_table

-- After Ctrl-C, how long submits already sent may take to answer (their ids go to the journal).
M.INTERRUPT_GRACE = 10

-- Output formats and how each is made from a Result (with the caption flags): stt.cli.render.
M.formats = render_cli.formats
local render, extension = render_cli.render, render_cli.extension
M.render, M.extension = render, extension

local function positive_int(name, v, min)
  local n = tonumber(v)
  if not n or n ~= math.floor(n) or n < min then usage_error("%s must be an integer >= %d, got %q", name, min, v) end
  return n
end

local function provider_info(name)
  local info = stt.providers()[name]
  if not info then
    local names = {}
    for p in pairs(stt.providers()) do names[#names + 1] = p end
    table.sort(names)
    usage_error("unknown provider %q (known: %s)", name, table.concat(names, ", "))
  end
  return info
end

-- Keys come from the environment only: one of the provider's credential sets must be complete.
local function check_key(provider)
  local missing
  for _, alt in ipairs(util.credential_envs(provider_info(provider))) do
    local gaps = {}
    for _, name in ipairs(alt) do
      local v = os.getenv(name)
      if not v or v == "" then gaps[#gaps + 1] = name end
    end
    if #gaps == 0 then return end
    missing = missing or gaps
  end
  usage_error("no API key for %s: set %s", provider, table.concat(missing or {}, " and "))
end

-- Keys of -O that other flags or the inputs own.
local OWNED = {
  url = "inputs are the command's arguments", urls = "inputs are the command's arguments",
  file = "inputs are the command's arguments", files = "inputs are the command's arguments",
  file_name = "inputs are the command's arguments", model = "use -m MODEL", hotwords = "use --hotwords FILE",
  force = "use --force",
}

--- -O key=value ... -> job options, typed by stt.option_value, each checked against the capability
-- table of the provider's model (stt.providers()): an option the model refuses (false) or does
-- not know stops the run before anything is submitted. c:check later refuses a bad value.
local function provider_options(list, o, provider, model)
  local out = {}
  if not list or #list == 0 then return nil end
  local info = stt.providers()[provider]
  local m = model or info.default_model
  local caps = info.models[m] and info.models[m].options
  for _, kv in ipairs(list) do
    local key, text = kv:match("^%s*([%w_]+)%s*=(.*)$")
    if not key then usage_error("-O %q: expected key=value", kv) end
    if OWNED[key] then usage_error("-O %s: %s", key, OWNED[key]) end
    if (key == "language" and o.language) or (key == "speakers" and o.speakers) then
      usage_error("-O %s: given twice (also as --%s)", key, key)
    end
    if out[key] ~= nil then usage_error("-O %s: given twice", key) end
    -- (a model the table does not list, DashScope's family option: c:check decides)
    if caps and not caps[key] then
      if caps[key] == false then
        usage_error("-O %s: option %q is not supported by %s model %q", key, key, provider, m)
      end
      local known = {}
      for name, v in pairs(caps) do if v and not OWNED[name] then known[#known + 1] = name end end
      table.sort(known)
      usage_error("-O %s: unknown option for %s model %q (it takes: %s)", key, provider, m, table.concat(known, ", "))
    end
    local ok, v = pcall(stt.option_value, text)
    if not ok then usage_error("-O %s: %s", key, err_text(v)) end
    out[key] = v
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
      out[#out + 1] = { input = line, where = ("line %d of %s"):format(n, name) }
    end
  end
  if #out == 0 then
    usage_error("list file %s holds no inputs (one URL or file per line; blank lines and # comments are skipped)",
      name == "-" and "@- (stdin)" or name)
  end
  return out
end

-- --upload s3://bucket/prefix with --s3-endpoint, --s3-region, --s3-path-style -> the client's
-- upload option (keys: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, from the
-- environment only); --upload dashscope names DashScope's temporary storage; nil: the default.
local function upload_settings(o)
  if not o.upload then
    if o.s3_endpoint or o.s3_region or o.s3_path_style then usage_error("--s3-* options go with --upload s3://...") end
    return nil
  end
  if o.upload == "dashscope" then return { kind = "dashscope" } end
  local bucket, prefix = o.upload:match("^s3://([^/]+)/?(.*)$")
  if not bucket then usage_error("--upload must be s3://BUCKET[/PREFIX] or dashscope, not %q", o.upload) end
  if not o.s3_endpoint then
    usage_error("--upload s3://... needs --s3-endpoint (e.g. https://s3.us-east-1.amazonaws.com)")
  end
  local ok, why = util.check_url(o.s3_endpoint)
  if not ok then usage_error("malformed --s3-endpoint %q: %s", o.s3_endpoint, why) end
  if prefix ~= "" and prefix:sub(-1) ~= "/" then prefix = prefix .. "/" end
  return { kind = "s3", endpoint = o.s3_endpoint, bucket = bucket, prefix = prefix,
           region = o.s3_region or "us-east-1", path_style = o.s3_path_style and true or nil }
end

-- The client option `upload` of the settings.
local function upload_option(u)
  if not u then return nil end
  if u.kind == "dashscope" then return "dashscope" end
  return { s3 = { endpoint = u.endpoint, bucket = u.bucket, prefix = u.prefix, region = u.region,
                  path_style = u.path_style } }
end

--- Everything a batch needs, validated before anything is submitted. `o` holds the parsed
-- options (strings, as given), `pos` the inputs.
function M.settings(o, pos)
  local s = {}
  s.provider = o.provider or "dashscope"
  provider_info(s.provider)
  s.model = o.model
  s.mode = o.mode
  s.language = o.language
  if o.speakers then s.speakers = positive_int("--speakers", o.speakers, 0) end
  s.options = provider_options(o.option, o, s.provider, s.model)
  s.formats = render_cli.parse_formats(o.format or "srt,json")
  s.captions = render_cli.caption_options(o)
  s.output = util.abspath(o.output or ".")
  s.concurrency = o.concurrency and positive_int("--concurrency", o.concurrency, 1) or 8
  s.timeout = o.timeout and tonumber(o.timeout)
  if o.timeout and (not s.timeout or s.timeout <= 0) then usage_error("--timeout must be a positive number") end
  s.base_url = o.base_url
  if s.base_url then
    local ok, why = util.check_url(s.base_url)
    if not ok then usage_error("malformed --base-url %q: %s", s.base_url, why) end
  end
  s.journal = o.journal and util.abspath(o.journal) or (s.output .. "/stt-journal.jsonl")
  s.hotwords_file = o.hotwords and util.abspath(o.hotwords)
  s.upload = upload_settings(o)
  local inputs = {}
  for _, a in ipairs(pos) do
    if a:sub(1, 1) == "@" then
      for _, it in ipairs(read_list(a)) do inputs[#inputs + 1] = it end
    else
      inputs[#inputs + 1] = { input = a, where = "argument" }
    end
  end
  if #inputs == 0 then usage_error("no input (give URLs, files or @LISTFILE)") end
  s.inputs, s.duplicates = {}, 0
  local seen_input = {}
  for _, it in ipairs(inputs) do
    local v = it.input
    if util.is_url(v) then
      local ok, why = util.check_url(v)
      if not ok then usage_error("malformed URL %q (%s): %s", v, it.where, why) end
    else
      -- anything else is a local file, kept as an absolute path (a resume may run elsewhere)
      v = util.abspath(v)
      if util.is_dir(v) then usage_error("%s (%s) is a directory, not an audio file", it.input, it.where) end
      if not util.file_exists(v) then usage_error("no such file %s (%s)", it.input, it.where) end
    end
    if seen_input[v] then s.duplicates = s.duplicates + 1
    else
      seen_input[v] = true
      s.inputs[#s.inputs + 1] = v
    end
  end
  return s
end

-- Hot words through stt.hotwords, validated for the provider.
local function load_hotwords(s)
  if not s.hotwords_file then return nil end
  if not util.file_exists(s.hotwords_file) then usage_error("cannot read hotwords file %s", s.hotwords_file) end
  local hw, err = stt.hotwords.load(s.hotwords_file)
  if not hw then usage_error("hotwords file %s: %s", s.hotwords_file, err_text(err)) end
  return hw
end
M.load_hotwords = load_hotwords

local function base_job(s, input, hw)
  local job = { language = s.language, speakers = s.speakers, hotwords = hw }
  for k, v in pairs(s.options or {}) do job[k] = v end
  if util.is_url(input) then job.url = input else job.file = input end
  return job
end
M.base_job = base_job
M.check_key = check_key
M.upload_option = upload_option

-- The settings a resume needs, kept in the journal as a note (no key: keys come from the env).
local function batch_note(s)
  return { cmd = "transcribe", provider = s.provider, model = s.model, mode = s.mode, language = s.language,
           speakers = s.speakers, formats = s.formats, output = s.output, concurrency = s.concurrency,
           base_url = s.base_url, timeout = s.timeout, hotwords = s.hotwords_file, upload = s.upload,
           options = s.options, captions = next(s.captions or {}) and s.captions or nil, inputs = s.inputs }
end

--- Run a batch; returns the exit status (0 all done, 1 some failed; 130 on Ctrl-C exits itself).
function M.run(s, o)
  local mode = o.json and "json" or (o.quiet and "quiet") or (util.is_tty(2) and "tty" or "lines")
  check_key(s.provider)
  local hw = load_hotwords(s)
  if not util.is_dir(s.output) and not util.mkdir_p(s.output) then
    usage_error("cannot create output folder %s", s.output)
  end
  local P = progress.new(mode, #s.inputs, s.concurrency)
  local copts = { model = s.model, mode = s.mode, base_url = s.base_url, journal = s.journal, wait_timeout = s.timeout,
                  upload = upload_option(s.upload), on_event = function(ev)
                    if ev.type == "store_incomplete" then
                      -- loud, whatever the mode: a paid task the journal does not know of
                      if mode == "json" then P:event({ event = "store_incomplete", task_id = ev.task_id,
                                                       message = ev.message }) end
                      io.stderr:write(("stt: WARNING: %s; outputs will still be written; to find it "
                        .. "later: stt status -p %s %s\n"):format(ev.message, s.provider, tostring(ev.task_id)))
                      io.stderr:flush()
                    end
                    P:client_event(ev)
                  end }
  local ok, c = pcall(stt.client, s.provider, copts)
  if not ok then usage_error("%s", tostring(c):gsub("^stt%.client: ", "")) end
  -- Whatever the provider or model would refuse is found before anything is sent (for a local
  -- file: the options, as for a URL; the file itself is checked when its turn comes).
  local first = base_job(s, s.inputs[1], hw)
  if first.file then
    local files = 0
    for _, v in ipairs(s.inputs) do if not util.is_url(v) then files = files + 1 end end
    if c.uploader == nil and not (s.provider == "volcengine-auc" and c.mode == "flash") then
      c:close()
      usage_error("%d input(s) are local files, which %s fetches only from a URL: give --upload "
        .. "s3://BUCKET[/PREFIX] with --s3-endpoint (keys from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)",
        files, s.provider)
    end
    first.file, first.url = nil, "https://example.com/audio.wav"
  end
  local good, cerr = c:check(first)
  if not good then
    c:close()
    usage_error("%s", err_text(cerr))
  end
  -- Hot words that break a limit no source confirms are sent anyway: say so once, up front.
  for _, w in ipairs(type(cerr) == "table" and cerr or {}) do
    if mode ~= "json" then io.stderr:write("stt: hotwords: warning: ", w, "\n") end
  end
  local jr = c.journal
  local names = util.unique_names(s.inputs)
  local note = batch_note(s)
  local last
  for _, n in ipairs(jr:notes_list()) do if n.cmd == "transcribe" then last = n end end
  last = last and stt.journal.copy(last)
  if last then last.t = nil end
  if not last or stt.json_encode(last) ~= stt.json_encode(stt.journal.copy(note)) then
    local nok, nerr = jr:note(note)
    if not nok then usage_error("%s", nerr) end
  end

  if s.duplicates > 0 then
    P:event({ event = "note", message = ("%d duplicate input(s) ignored"):format(s.duplicates) })
  end
  local function outputs_of(i)
    local out = {}
    for k, f in ipairs(s.formats) do out[k] = s.output .. "/" .. names[i] .. "." .. extension(f) end
    return out
  end
  local function fail(i, err)
    P:finished(i)
    P.failed = P.failed + 1
    P:event({ event = "failed", index = i, input = s.inputs[i], reason = err_text(err), error = err_table(err) })
  end

  local function one(i)
    local url = s.inputs[i]
    local job = base_job(s, url, hw)
    local key, canon = c:job_key(job)
    if not key then return fail(i, canon) end
    local e = jr:find(key, canon)
    local outs = outputs_of(i)
    -- Done before: succeeded, or submitted by a run whose journal could not record the task (state
    -- unknown) but which wrote the outputs anyway (they are renamed into place only when whole).
    if e and (e.state == "succeeded" or e.state == "unknown") then
      local all = true
      for _, p in ipairs(outs) do if not util.file_exists(p) then all = false end end
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
      local fok, data = pcall(render, f, res, s.captions, function(msg)
        P:event({ event = "note", message = ("warning: %s: %s"):format(outs[k], msg) })
      end)
      if not fok or type(data) ~= "string" then
        return fail(i, ("cannot make %s: %s"):format(f, tostring(data)))
      end
      local wok, ferr = util.write_atomic(outs[k], data)
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
    local t0 = stt.now()
    while P.submitting > 0 and stt.now() - t0 < M.INTERRUPT_GRACE do stt.sleep(0.05) end
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
    stt.catch_signal("INT")
    stt.catch_signal("TERM")
    local finished = false
    -- One watcher: the progress bar on a terminal, and the signal flag (a signal interrupts the
    -- engine's wait, so it is seen within one tick).
    local ticker = stt.spawn(function()
      while not finished do
        local sig = stt.pending_signal()
        if sig then return interrupted(sig) end
        if mode == "tty" then P:draw(true) end
        stt.sleep(0.1)
      end
    end)
    stt.batch.pool(#s.inputs, s.concurrency, one, { stop = function() return stopping end })
    finished = true
    ticker:join()
  end)
  c:close()
  jr:close()

  local took = util.fmt_duration(stt.now() - P.t0)
  local unrecorded = c.unrecorded or {}
  if #unrecorded > 0 then
    local ids = {}
    for i, u in ipairs(unrecorded) do ids[i] = tostring(u.task.id) end
    io.stderr:write(("stt: WARNING: the journal %s is incomplete: %d task(s) this run created could not be "
      .. "recorded (their outputs were written when they finished); a rerun does not know them. Task ids: %s\n")
      :format(s.journal, #ids, table.concat(ids, " ")))
  end
  if mode == "json" then
    P:event({ event = "summary", total = #s.inputs, succeeded = P.done, failed = P.failed,
              skipped = P.skipped, journal = s.journal, seconds = stt.now() - P.t0 })
  else
    if mode == "tty" then P:draw(true); io.stderr:write("\n") end
    if mode ~= "quiet" or P.failed > 0 then
      io.stderr:write(("stt: %d of %d done (%d from earlier runs), %d failed, in %s; journal %s\n"):format(
        P.done, #s.inputs, P.skipped, P.failed, took, s.journal))
    end
  end
  return P.failed > 0 and 1 or 0
end

function M.transcribe(o)
  return M.run(M.settings(o, o.inputs or {}), o)
end

--- stt resume JOURNAL: the batch the journal recorded, run again.
function M.resume(o)
  if not o.journal_file then usage_error("stt resume takes the journal: stt resume OUTPUT/stt-journal.jsonl") end
  local path = util.abspath(o.journal_file)
  if not util.file_exists(path) then usage_error("cannot read journal %s", path) end
  local jr, jerr = stt.journal.open(path)
  if not jr then usage_error("%s", jerr) end
  local note
  for _, n in ipairs(jr:notes_list()) do if n.cmd == "transcribe" then note = n end end
  if not note then usage_error("journal %s holds no batch from `stt transcribe`", path) end
  local so = { provider = note.provider, model = note.model, mode = note.mode, language = note.language,
               speakers = note.speakers and tostring(note.speakers), format = table.concat(note.formats or {}, ","),
               output = o.output or note.output, concurrency = tostring(o.concurrency or note.concurrency or 8),
               base_url = o.base_url or note.base_url, timeout = note.timeout and tostring(note.timeout),
               hotwords = note.hotwords, journal = path }
  local u = note.upload
  if type(u) == "table" and u.kind == "s3" then
    so.upload = ("s3://%s/%s"):format(u.bucket, u.prefix or "")
    so.s3_endpoint, so.s3_region, so.s3_path_style = u.endpoint, u.region, u.path_style
  elseif type(u) == "table" and u.kind == "dashscope" then
    so.upload = "dashscope"
  end
  local s = M.settings(so, note.inputs or {})
  -- what the first run was given and checked: -O options and caption flags
  s.options = type(note.options) == "table" and note.options or nil
  s.captions = type(note.captions) == "table" and note.captions or {}
  return M.run(s, o)
end

return M
