--- lua-stt inside nginx: the handlers of examples/openresty/nginx.conf.
--   POST /transcribe              {url, provider, options} -> waits, answers the normalized JSON
--                                 (or ?format=srt|vtt)
--   POST /upload?name=N           the audio as the body (a local file: uploaded from nginx's
--                                 temporary body file, streamed from disk) -> as /transcribe
--                                 (&provider=, &language=, &format=srt|vtt)
--   POST /jobs                    same body -> 202 with the task at once; the poller finishes it
--   GET  /jobs/{id}               {id, state, task} while it runs, then {.., result} or {.., error}
--                                 (?format=srt|vtt once it succeeded)
--   POST /stt/callback/{provider} a callback (volcengine, volcengine-auc; STT_CALLBACK_URL and
--                                 STT_CALLBACK_SECRET set): verified, answered at once, the task
--                                 marked after the answer; the waiting /transcribe polls it
--   POST /callback/{provider}     a provider's callback body -> the normalized JSON (stt.parse;
--                                 ?kind=result|poll|submit, ?model=)
-- Every call yields to nginx while it waits (cosockets, ngx.sleep): one worker serves thousands
-- of these next to everything else. Keys and base URLs come from the environment (`env` lines in
-- nginx.conf): DASHSCOPE_API_KEY, DASHSCOPE_HTTP_BASE_URL.
-- luacheck: globals ngx
local stt = require "stt"

local M = {}

-- Tunables; nginx.conf may change them with require("stt_handler").configure{...} in
-- init_by_lua_block.
local conf = {
  dict = "stt_jobs",          -- the lua_shared_dict holding background jobs
  job_ttl = 24 * 3600,        -- seconds a finished job stays readable
  poll_every = 0.5,           -- seconds between poller runs (ngx.timer.every)
  poll_batch = 256,           -- jobs one poller run looks at
  poll_concurrency = 64,      -- polls in flight at once per worker
  -- stt.client options for every provider. rate_limit: the provider's documented QPS, as one
  -- budget for all workers (lua_shared_dict stt_ratelimit in nginx.conf) instead of one each.
  client = { timeout = 30, poll_first = 0.5, rate_limit = { shared = "stt_ratelimit" } },
}

function M.configure(t)
  for k, v in pairs(t) do conf[k] = v end
end

-- One client per provider and worker; clients hold no per-request state (the ngx transport
-- opens or borrows a pooled cosocket per request), so handlers and timers share them.
local clients = {}

-- With STT_CALLBACK_URL and STT_CALLBACK_SECRET, the providers with per-task callbacks get them:
-- their tasks are polled on a notice (or every `fallback` seconds), marks shared by all workers.
local function options_for(provider)
  local url, secret = os.getenv("STT_CALLBACK_URL"), os.getenv("STT_CALLBACK_SECRET")
  local facts = stt.providers()[provider]
  if not (url and url ~= "" and secret and facts and facts.callback) then return conf.client end
  local o = {}
  for k, v in pairs(conf.client) do o[k] = v end
  o.callback = { url = url:gsub("/$", "") .. "/" .. provider, secret = secret, shared = "stt_callbacks" }
  return o
end

local function client(provider)
  provider = provider or "dashscope"
  if not clients[provider] then
    local ok, c = pcall(stt.client, provider, options_for(provider))
    if not ok then return nil, (tostring(c):gsub("^.-: ", "")) end
    clients[provider] = c
  end
  return clients[provider]
end

---------------------------------------------------------------- HTTP helpers
local function reply(status, body, content_type)
  ngx.status = status
  ngx.header["Content-Type"] = content_type or "application/json"
  ngx.print(body)
  return ngx.exit(status)
end

local function reply_json(status, t) return reply(status, stt.json_encode(t) .. "\n") end

-- An error object as plain JSON (never carries a key: errors are scrubbed where they are made).
local function plain_error(e)
  if type(e) ~= "table" then return { kind = "invalid", message = tostring(e) } end
  return { kind = e.kind, message = e.message, status = e.status, code = e.code,
           request_id = e.request_id, retryable = e.retryable, retry_after = e.retry_after }
end

local ERROR_STATUS = { invalid = 400, unsupported = 400, not_found = 404, timeout = 504 }

local function reply_error(err)
  local e = plain_error(err)
  local status = ERROR_STATUS[e.kind] or 502
  if e.kind == "auth" and not e.status then
    -- No provider said this: the request was never sent because this server has no key. That is
    -- our configuration, not a bad gateway; nginx passes a variable to workers only with `env`.
    status = 500
    local var = e.message and e.message:match("set ([%u%d_]+)")
    if var then e.message = e.message .. " (nginx passes it to workers with `env " .. var .. ";` in nginx.conf)" end
  end
  return reply_json(status, { error = e })
end

local function read_body()
  ngx.req.read_body()
  local body = ngx.req.get_body_data()
  if not body then
    local path = ngx.req.get_body_file()       -- bodies larger than client_body_buffer_size
    if path then
      local f = io.open(path, "rb")
      if f then body = f:read("*a"); f:close() end
    end
  end
  return body or ""
end

local function only(method)
  if ngx.req.get_method() ~= method then
    ngx.header["Allow"] = method
    reply_json(405, { error = { kind = "invalid", message = "use " .. method } })
    return false
  end
  return true
end

-- {url, provider, options} -> client, job
local function job_from_request()
  local ok, req = pcall(stt.json_decode, read_body())
  if not ok or type(req) ~= "table" then return nil, "the body must be a JSON object" end
  if type(req.url) ~= "string" and type(req.urls) ~= "table" then return nil, "url expected" end
  local c, cerr = client(req.provider)
  if not c then return nil, cerr end
  local job = {}
  if type(req.options) == "table" then for k, v in pairs(req.options) do job[k] = v end end
  job.url, job.urls = req.url, req.urls
  return c, job
end

-- JSON, or a subtitle when ?format= asks for one.
local function reply_result(res, extra)
  local fmt = ngx.var.arg_format
  if fmt == "srt" then return reply(200, stt.subtitle.srt(res), "application/x-subrip; charset=utf-8") end
  if fmt == "vtt" then return reply(200, stt.subtitle.vtt(res), "text/vtt; charset=utf-8") end
  if fmt and fmt ~= "json" then
    return reply_json(400, { error = { kind = "invalid", message = "format must be json, srt or vtt" } })
  end
  if extra then
    extra.result = res
    return reply_json(200, extra)
  end
  return reply_json(200, res)
end

---------------------------------------------------------------- POST /transcribe
function M.transcribe()
  if not only("POST") then return end
  local c, job = job_from_request()
  if not c then return reply_json(400, { error = { kind = "invalid", message = job } }) end
  local res, err = c:transcribe(job)
  if not res then return reply_error(err) end
  return reply_result(res)
end

---------------------------------------------------------------- POST /upload
function M.upload()
  if not only("POST") then return end
  local name = ngx.var.arg_name
  if not name or name == "" or name:find("[/\\%c]") then
    return reply_json(400, { error = { kind = "invalid", message = "?name=<file name with its extension> expected" } })
  end
  ngx.req.read_body()
  local path = ngx.req.get_body_file()       -- client_body_in_file_only: always a file
  if not path then return reply_json(400, { error = { kind = "invalid", message = "no audio in the body" } }) end
  local c, cerr = client(ngx.var.arg_provider)
  if not c then return reply_json(400, { error = { kind = "invalid", message = cerr } }) end
  local res, err = c:transcribe({ file = path, file_name = name, language = ngx.var.arg_language })
  if not res then return reply_error(err) end
  return reply_result(res)
end

---------------------------------------------------------------- background jobs
local function dict() return ngx.shared[conf.dict] end

local function load_job(id)
  local s = dict():get("job:" .. id)
  return s and stt.json_decode(s)
end

local function save_job(rec)
  local ok, err = dict():set("job:" .. rec.id, stt.json_encode(rec), conf.job_ttl)
  if not ok then ngx.log(ngx.ERR, "stt: cannot store job ", rec.id, ": ", err) end
  return ok
end

--- POST /jobs: submit and answer 202 with the task; the poller does the waiting.
function M.submit_job()
  if not only("POST") then return end
  local c, job = job_from_request()
  if not c then return reply_json(400, { error = { kind = "invalid", message = job } }) end
  local task, err = c:submit(job)
  if not task then return reply_error(err) end
  local first = conf.client.poll_first
  if c.callback and task.callback_key then first = c.callback.fallback end       -- the notice comes first
  local rec = { id = task.id, state = task.state, task = task, created = ngx.now(),
                next_at = ngx.now() + first }
  if not save_job(rec) then return reply_json(503, { error = { kind = "server", message = "job store full" } }) end
  dict():rpush("pending", task.id)
  ngx.header["Location"] = "/jobs/" .. task.id
  return reply_json(202, { id = task.id, state = task.state, task = task })
end

--- GET /jobs/{id}
function M.job(id)
  if not only("GET") then return end
  local rec = load_job(id)
  if not rec then return reply_json(404, { error = { kind = "not_found", message = "no such job" } }) end
  if rec.state == "succeeded" then
    return reply_result(rec.result, { id = rec.id, state = rec.state, task = rec.task })
  end
  return reply_json(200, { id = rec.id, state = rec.state, task = rec.task, error = rec.error })
end

-- Poll one job once (if it is due) and put it back in the queue unless it finished.
local function poll_one(id)
  local rec = load_job(id)
  if not rec then return end                           -- expired
  local now = ngx.now()
  local c = client(rec.task.provider)
  -- with callbacks, a notice makes the job due at once (c:take_notice); otherwise rarely
  if now >= rec.next_at or (c and c:take_notice(rec.task)) then
    local st, err = c:poll(rec.task)
    if st then
      rec.state = st.state
      if st.state == "succeeded" then rec.result = st.result
      elseif st.state == "failed" or st.state == "canceled" then rec.error = plain_error(st.error)
      end
    elseif not err.retryable then
      rec.state, rec.error = "failed", plain_error(err)
    end
    -- The client's schedule: a fixed fraction of the time the task has run so far, capped; with
    -- callbacks, at least their fallback interval (a notice comes first).
    local d = c:_interval(ngx.now() - rec.created)
    if c.callback and rec.task.callback_key then d = math.max(d, c.callback.fallback) end
    rec.next_at = ngx.now() + d
    save_job(rec)
  end
  if rec.state ~= "succeeded" and rec.state ~= "failed" and rec.state ~= "canceled" then
    dict():rpush("pending", id)
  end
end

-- One poller run: take up to poll_batch ids off the shared queue (lpop is atomic, so several
-- workers never poll the same job at once) and poll the due ones concurrently.
local function poll_tick(premature)
  if premature then return end                         -- nginx is exiting or reloading
  local ids = {}
  for _ = 1, conf.poll_batch do
    local id = dict():lpop("pending")
    if not id then break end
    ids[#ids + 1] = id
  end
  if #ids == 0 then return end
  stt.run(function()
    local nexti = 0
    local function worker()
      while not ngx.worker.exiting() do
        nexti = nexti + 1
        local id = ids[nexti]
        if not id then return end
        local ok, err = pcall(poll_one, id)
        if not ok then
          ngx.log(ngx.ERR, "stt: polling job ", id, " failed: ", tostring(err))
          dict():rpush("pending", id)
        end
      end
      -- Exiting: give what is left back to the queue (the shared dict outlives a reload).
      while ids[nexti + 1] do nexti = nexti + 1; dict():rpush("pending", ids[nexti]) end
    end
    local ths = {}
    for w = 1, math.min(conf.poll_concurrency, #ids) do ths[w] = stt.spawn(worker) end
    for w = 1, #ths do ths[w]:join() end
  end)
end

--- init_worker_by_lua: start this worker's poller.
function M.init_worker()
  local ok, err = ngx.timer.every(conf.poll_every, poll_tick)
  if not ok then ngx.log(ngx.ERR, "stt: cannot start the job poller: ", err) end
end

M.client = client

---------------------------------------------------------------- POST /stt/callback/{provider}
--- A per-task callback: the provider expects a quick 2xx (it retries otherwise), so the token is
-- checked here (pure: no I/O) and the marking, which may talk to Redis, runs after the answer.
function M.notify(provider)
  if not only("POST") then return end
  local c = client(provider)
  if not (c and c.callback) then
    return reply_json(404, { error = { kind = "unsupported", message = "no callbacks for " .. provider } })
  end
  local opts = { client = c, query = ngx.var.args, mark = false }
  local note, err = stt.notify(provider, read_body(), ngx.req.get_headers(), opts)
  if not note then
    -- a late or repeated notice of a finished task: acknowledged, so that the provider stops
    if err.code == "CallbackEnded" then return reply(200, "") end
    return reply_json(err.kind == "auth" and 401 or 400, { error = plain_error(err) })
  end
  local ok, terr = ngx.timer.at(0, function(premature)
    if premature then return end
    local _, merr = stt.mark(note, { client = c })
    if merr and merr.code ~= "CallbackEnded" then
      ngx.log(ngx.WARN, "stt: marking a callback failed: ", tostring(merr))
    end
  end)
  if not ok then           -- no timer left: mark now (a shared dict or this worker: no I/O)
    ngx.log(ngx.WARN, "stt: no timer for a callback (", terr, "); marking in the handler")
    stt.mark(note, { client = c })
  end
  ngx.status = 204
  return ngx.exit(204)
end

---------------------------------------------------------------- POST /callback/{provider}
function M.callback(provider)
  if not only("POST") then return end
  local okp, res, err = pcall(stt.parse, provider, read_body(),
    { kind = ngx.var.arg_kind or "result", model = ngx.var.arg_model })
  if not okp then
    return reply_json(404, { error = { kind = "invalid", message = "unknown provider " .. provider } })
  end
  if not res then return reply_json(400, { error = plain_error(err) }) end
  return reply_json(200, res)
end

return M
