--- `stt enqueue`, `stt worker` and `stt status --store`: batches on a Redis work queue
-- (lua/stt/queue.lua), done by any number of workers on any number of hosts, every job submitted
-- once across all of them (the Redis task store claims it). Uses only the public API.
local stt = require "stt"
local util = require "stt.cli.util"
local transcribe = require "stt.cli.transcribe"

local M = {}

local usage_error, err_text, err_table = util.usage_error, util.err_text, util.err_table

local function check_store(url)
  if type(url) ~= "string" or not url:match("^rediss?://[^/]") then
    usage_error("--store must be a redis://HOST:PORT[/DB] URL, not %q", tostring(url))
  end
  return url
end

-- The password of a store URL never goes to the screen.
local function shown(url) return (url:gsub("//[^@/]*@", "//")) end

--- stt enqueue --store URL [transcribe options] INPUT... : local files are uploaded here first
-- (the workers may run elsewhere), then every job goes onto the queue. Prints the batch id.
function M.enqueue(o)
  local store = check_store(o.store)
  local s = transcribe.settings(o, o.inputs or {})
  transcribe.check_key(s.provider)
  local hw = transcribe.load_hotwords(s)
  local ok, c = pcall(stt.client, s.provider, { model = s.model, mode = s.mode, base_url = s.base_url,
    upload = transcribe.upload_option(s.upload), store = store, store_prefix = o.store_prefix })
  if not ok then usage_error("%s", tostring(c):gsub("^stt%.client: ", "")) end
  local first = transcribe.base_job(s, s.inputs[1], hw)
  if first.file then first.file, first.url = nil, "https://example.com/audio.wav" end
  local good, cerr = c:check(first)
  if not good then usage_error("%s", err_text(cerr)) end
  local names = util.unique_names(s.inputs)
  local jobs, failed = {}, 0
  stt.run(function()
    for i, input in ipairs(s.inputs) do
      local job = transcribe.base_job(s, input, hw and hw.entries or nil)
      local up, uerr = c:upload(job)
      if not up then
        failed = failed + 1
        io.stderr:write(("stt: FAILED %s: %s\n"):format(input, err_text(uerr)))
      else
        up.file, up.files, up.file_name = nil, nil, nil
        jobs[#jobs + 1] = { job = stt.journal.copy(up), name = names[i] }
      end
    end
  end)
  if #jobs == 0 then
    c:close()
    io.stderr:write("stt: nothing to enqueue\n")
    return 1
  end
  local q = stt.queue.open(store, { prefix = o.store_prefix })
  local batch, qerr = q:enqueue({ provider = s.provider, model = s.model, mode = s.mode, formats = s.formats,
    base_url = s.base_url, output = o.output and s.output or nil,
    captions = next(s.captions or {}) and s.captions or nil }, jobs)
  q:close()
  c:close()
  if not batch then
    io.stderr:write("stt: ", tostring(qerr), "\n")
    return 1
  end
  io.stdout:write(batch, "\n")
  io.stderr:write(("stt: %d job(s) queued as batch %s on %s%s\n"):format(#jobs, batch, shown(store),
    failed > 0 and (", " .. failed .. " input(s) failed") or ""))
  return failed > 0 and 1 or 0
end

-- Where a worker writes outputs: a folder, or an S3-compatible prefix (keys from AWS_*).
local function output_target(o, settings)
  if o.out then
    local bucket, prefix = o.out:match("^s3://([^/]+)/?(.*)$")
    if not bucket then usage_error("--out must be s3://BUCKET[/PREFIX], not %q", o.out) end
    if not o.s3_endpoint then usage_error("--out s3://... needs --s3-endpoint") end
    if prefix ~= "" and prefix:sub(-1) ~= "/" then prefix = prefix .. "/" end
    local ep = o.s3_endpoint:gsub("/+$", "")
    return { s3 = true, bucket = bucket, prefix = prefix, endpoint = ep, region = o.s3_region or "us-east-1",
             path_style = o.s3_path_style }
  end
  local dir = util.abspath(o.output or (settings and settings.output) or ".")
  if not util.is_dir(dir) and not util.mkdir_p(dir) then usage_error("cannot create output folder %s", dir) end
  return { dir = dir }
end

local function write_output(target, batch, name, fmt, data)
  local file = name .. "." .. transcribe.extension(fmt)
  if target.dir then
    local path = target.dir .. "/" .. file
    local ok, err = util.write_atomic(path, data)
    if not ok then return nil, "cannot write " .. path .. ": " .. tostring(err) end
    return path
  end
  local key = target.prefix .. batch .. "/" .. file
  local scheme, host, base = target.endpoint:match("^(%a[%w+.-]*)://([^/]+)(.*)$")
  local url = target.path_style and ("%s://%s%s/%s/%s"):format(scheme, host, base, target.bucket, key)
    or ("%s://%s.%s%s/%s"):format(scheme, target.bucket, host, base, key)
  local ok, err = stt.s3.put({ url = url, region = target.region, body = data,
    content_type = fmt == "json" and "application/json" or "text/plain; charset=utf-8" })
  if not ok then return nil, err_text(err) end
  return ("s3://%s/%s"):format(target.bucket, key)
end

--- stt worker --store URL [-j N] [-o DIR | --out s3://...] [-f FORMATS] [--until-empty]
function M.worker(o)
  local store = check_store(o.store)
  local concurrency = tonumber(o.concurrency or 4)
  if not concurrency or concurrency < 1 or concurrency ~= math.floor(concurrency) then
    usage_error("--concurrency must be an integer >= 1")
  end
  local formats
  if o.format then
    formats = {}
    for f in o.format:gmatch("[^,%s]+") do formats[#formats + 1] = f:lower() end
  end
  local q = stt.queue.open(store, { prefix = o.store_prefix, lease = tonumber(o.lease), result_ttl =
    o.result_ttl and tonumber(o.result_ttl) or nil })
  local clients = {}
  local function client_for(settings)
    local k = table.concat({ settings.provider or "", settings.model or "", settings.mode or "",
      o.base_url or settings.base_url or "" }, "\0")
    if not clients[k] then
      local copts = { model = settings.model, mode = settings.mode,
        base_url = o.base_url or settings.base_url, store = store, store_prefix = o.store_prefix,
        store_lease = o.store_lease and tonumber(o.store_lease) or nil,
        wait_timeout = o.timeout and tonumber(o.timeout) or nil, on_event = function(ev)
          if ev.type == "store_incomplete" then
            -- loud: a paid task the store does not know of; this worker still waits on it
            io.stderr:write(("stt: WARNING: %s; its outputs will still be written; to find it later: "
              .. "stt status -p %s %s\n"):format(ev.message, settings.provider, tostring(ev.task_id)))
            io.stderr:flush()
          end
        end }
      if o.no_rate_limit then copts.rate_limit = false end
      local ok, c = pcall(stt.client, settings.provider, copts)
      if not ok then return nil, tostring(c) end
      clients[k] = c
    end
    return clients[k]
  end
  local host = (os.getenv("HOSTNAME") or "worker")
  local pid = tostring(stt.now()):gsub("%.", "")
  local done, failed, stopping = 0, 0, false
  local settings_cache, targets = {}, {}
  local function settings_of(batch)
    if not settings_cache[batch] then
      local st = q:status(batch)
      settings_cache[batch] = st and st.settings or nil
    end
    return settings_cache[batch]
  end
  local function one(item, consumer)
    local settings = settings_of(item.batch)
    if not settings then return nil, "batch " .. item.batch .. " has no settings" end
    -- (once per batch: finding the folder starts processes)
    local target = targets[item.batch] or output_target(o, settings)
    targets[item.batch] = target
    local c, cerr = client_for(settings)
    if not c then return { state = "failed", error = { kind = "invalid", message = cerr } } end
    -- keep the lease while the job runs (a long wait must not look like a dead worker)
    local running = true
    -- (short naps, so that the job's end is not held up by the keeper's sleep)
    local keeper = stt.spawn(function()
      local last = stt.now()
      while running do
        stt.sleep(0.2)
        if running and stt.now() - last >= q.lease / 3 then
          q:touch(item, consumer)
          last = stt.now()
        end
      end
    end)
    -- The store could not be written before the submit (Redis restarted, unreachable): nothing
    -- was submitted, so the job is tried again, waiting longer each time, for up to a minute.
    local res, err
    local backoff, t0 = 0.25, stt.now()
    while true do
      res, err = c:transcribe(item.job)
      if res or err.code ~= "JournalWrite" or stt.now() - t0 > 60 or stopping then break end
      io.stderr:write(("stt: worker: %s #%d: %s (retrying in %.2f s)\n"):format(item.batch, item.i,
        tostring(err.message), backoff))
      stt.sleep(backoff)
      backoff = math.min(backoff * 2, 5)
    end
    running = false           -- the keeper ends at its next wake-up (not joined: the job goes on)
    local _ = keeper
    if not res then return { state = "failed", error = err_table(err) } end
    local outs = {}
    for _, f in ipairs(formats or settings.formats or { "json" }) do
      local ok, data = pcall(transcribe.render, f, res, type(settings.captions) == "table" and settings.captions or nil,
        function(msg) io.stderr:write(("stt: worker: %s #%d: %s\n"):format(item.batch, item.i, msg)) end)
      local where, werr
      if ok then where, werr = write_output(target, item.batch, item.name or ("job" .. item.i), f, data) end
      if not where then
        return { state = "failed", task_id = res.task_id, error = { kind = "invalid", message = werr or data } }
      end
      outs[#outs + 1] = where
    end
    return { state = "succeeded", task_id = res.task_id, outputs = outs, text = res.text }
  end

  local rc = 0
  stt.run(function()
    stt.catch_signal("INT")
    stt.catch_signal("TERM")
    local threads = {}
    for lane = 1, concurrency do
      local consumer = ("%s-%s-%d"):format(host, pid, lane)
      threads[lane] = stt.spawn(function()
        local idle_since, backoff = nil, 0.25
        while not stopping do
          local items, terr = q:take(consumer, 1)
          if not items then
            -- Redis gone (restarted, unreachable): try again, waiting longer each time (up to 5 s)
            io.stderr:write(("stt: worker: %s (retrying in %.2f s)\n"):format(tostring(terr), backoff))
            stt.sleep(backoff)
            backoff = math.min(backoff * 2, 5)
          elseif #items == 0 then
            if o.until_empty then
              local empty = q:idle()
              if empty then
                idle_since = idle_since or stt.now()
                if stt.now() - idle_since > 0.5 then return end
              end
            end
            stt.sleep(0.25)
          else
            idle_since, backoff = nil, 0.25
            for _, item in ipairs(items) do
              local result = one(item, consumer)
              -- the result must reach Redis (else the job waits for its lease to run out and is
              -- done again, from the store): retried with backoff for up to a minute
              local ok, derr = q:done(item, result)
              local wait, t0 = 0.25, stt.now()
              while not ok and stt.now() - t0 < 60 do
                io.stderr:write(("stt: worker: cannot record a result yet: %s (retrying in %.2f s)\n"):format(
                  tostring(derr), wait))
                stt.sleep(wait)
                wait = math.min(wait * 2, 5)
                ok, derr = q:done(item, result)
              end
              if not ok then io.stderr:write("stt: worker: cannot record a result: ", tostring(derr), "\n") end
              if result.state == "succeeded" then done = done + 1 else failed = failed + 1 end
              if o.json then
                io.stdout:write(stt.json_encode({ event = result.state == "succeeded" and "done" or "failed",
                  batch = item.batch, index = item.i, task_id = result.task_id, outputs = result.outputs,
                  error = result.error, resumed = item.resumed }), "\n")
                io.stdout:flush()
              elseif not o.quiet or result.state ~= "succeeded" then
                io.stderr:write(("stt: %s %s #%d%s%s\n"):format(result.state == "succeeded" and "done" or "FAILED",
                  item.batch, item.i, item.resumed and " (resumed)" or "",
                  result.error and (": " .. tostring(result.error.message)) or ""))
              end
            end
          end
        end
      end)
    end
    local watcher = stt.spawn(function()
      while true do
        local all = true
        for _, t in ipairs(threads) do if not t.done then all = false end end
        if all then return end
        if stt.pending_signal() then stopping = true; rc = 130 end
        stt.sleep(0.1)
      end
    end)
    for _, t in ipairs(threads) do t:join() end
    watcher:join()
  end)
  for _, c in pairs(clients) do c:close() end
  q:close()
  local rs = stt.redis.stats()
  io.stderr:write(("stt: worker: %d done, %d failed; Redis: %d round trips, %d commands\n"):format(done, failed,
    rs.round_trips, rs.commands))
  if rc ~= 0 then return rc end
  return failed > 0 and 1 or 0
end

--- stt status --store URL [BATCH] [--json]
function M.status(o)
  local store = check_store(o.store)
  local q = stt.queue.open(store, { prefix = o.store_prefix })
  local batches = {}
  if o.target then
    batches[1] = o.target
  else
    local list, err = q:batches()
    if not list then
      q:close()
      io.stderr:write("stt: ", tostring(err), "\n")
      return 1
    end
    batches = list
  end
  local rc = 0
  for _, b in ipairs(batches) do
    local st, err = q:status(b)
    if not st then
      io.stderr:write("stt: ", tostring(err), "\n")
      rc = 1
    elseif o.json then
      io.stdout:write(stt.json_encode({ batch = b, total = st.total, queued = st.queued, running = st.running,
        succeeded = st.succeeded, failed = st.failed }), "\n")
    else
      io.stdout:write(("%s  %d total: %d queued, %d running, %d succeeded, %d failed\n"):format(b, st.total,
        st.queued, st.running, st.succeeded, st.failed))
    end
  end
  q:close()
  return rc
end

M.err_table = err_table
return M
