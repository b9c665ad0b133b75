--- Many nginx hosts, one queue: the Redis work queue and task store of lua-stt behind
-- examples/openresty/nginx.conf, when STT_REDIS_URL is set (`env STT_REDIS_URL;`).
--   POST /fleet/jobs        {url, provider, options} -> 202 {id}: the job goes onto the queue
--   GET  /fleet/jobs/{id}   {id, state} (queued, running, succeeded, failed), then the Result
--                           (or ?format=srt|vtt): from any worker of any host sharing the Redis
-- Every worker of every host consumes the queue (ngx.timer threads started in init_worker); the
-- Redis task store makes each job's submit happen once across all of them, and one rate budget
-- per account is kept across the fleet. Redis goes through cosockets (never blocking a worker).
-- luacheck: globals ngx
local stt = require "stt"

local M = {}

local conf = {
  store = os.getenv("STT_REDIS_URL"),
  prefix = os.getenv("STT_REDIS_PREFIX") or "stt:",
  consumers = 4,           -- light threads per worker taking jobs
  idle_sleep = 0.25,       -- seconds between looks at an empty queue
  result_ttl = 24 * 3600,  -- seconds a result stays readable
  client = { timeout = 30, poll_first = 0.5 },
}

function M.configure(t) for k, v in pairs(t) do conf[k] = v end end

local queues, clients = {}, {}
local function queue()
  if not queues[1] then
    queues[1] = stt.queue.open(conf.store, { prefix = conf.prefix, result_ttl = conf.result_ttl })
  end
  return queues[1]
end

local function client(provider)
  provider = provider or "dashscope"
  if not clients[provider] then
    local o = { store = conf.store, store_prefix = conf.prefix }
    for k, v in pairs(conf.client) do o[k] = v end
    local ok, c = pcall(stt.client, provider, o)
    if not ok then return nil, (tostring(c):gsub("^.-: ", "")) end
    clients[provider] = c
  end
  return clients[provider]
end

local function reply(status, t)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  ngx.say(stt.json_encode(t))
  return ngx.exit(status)
end

--- POST /fleet/jobs
function M.submit()
  if not conf.store then return reply(503, { error = { kind = "invalid", message = "STT_REDIS_URL is not set" } }) end
  ngx.req.read_body()
  local ok, req = pcall(stt.json_decode, ngx.req.get_body_data() or "")
  if not ok or type(req) ~= "table" or type(req.url) ~= "string" then
    return reply(400, { error = { kind = "invalid", message = "{url, provider, options} expected" } })
  end
  local provider = req.provider or "dashscope"
  if not stt.providers()[provider] then
    return reply(400, { error = { kind = "invalid", message = "unknown provider " .. provider } })
  end
  local job = {}
  for k, v in pairs(type(req.options) == "table" and req.options or {}) do job[k] = v end
  job.url = req.url
  local id, err = queue():enqueue({ provider = provider }, { { job = job, name = "job" } })
  if not id then return reply(503, { error = { kind = "server", message = err } }) end
  ngx.header["Location"] = "/fleet/jobs/" .. id
  return reply(202, { id = id, state = "queued" })
end

--- GET /fleet/jobs/{id}
function M.job(id)
  if not conf.store then return reply(503, { error = { kind = "invalid", message = "STT_REDIS_URL is not set" } }) end
  local q = queue()
  local st, err = q:status(id)
  if not st then return reply(404, { error = { kind = "not_found", message = err } }) end
  local res = (q:results(id) or {})[1]
  if res and res.state == "succeeded" and res.result then
    local fmt = ngx.var.arg_format
    if fmt == "srt" or fmt == "vtt" then
      ngx.header["Content-Type"] = fmt == "srt" and "application/x-subrip; charset=utf-8" or "text/vtt; charset=utf-8"
      ngx.print(stt.subtitle[fmt](res.result))
      return ngx.exit(200)
    end
    return reply(200, { id = id, state = "succeeded", task_id = res.task_id, worker = res.worker, result = res.result })
  end
  if res then return reply(200, { id = id, state = res.state, task_id = res.task_id, error = res.error }) end
  return reply(200, { id = id, state = st.running > 0 and "running" or "queued" })
end

-- One job of the queue: transcribe (the store claims it: a job taken over from a dead worker
-- waits on the task that worker created) and record the result once.
local function work(q, item, me)
  local settings = (q:status(item.batch) or {}).settings or {}
  local c, cerr = client(settings.provider)
  local result
  if not c then
    result = { state = "failed", error = { kind = "invalid", message = cerr } }
  else
    local res, err = c:transcribe(item.job)
    if res then
      local plain = {}
      for k, v in pairs(res) do if k ~= "raw" then plain[k] = v end end
      result = { state = "succeeded", task_id = res.task_id, text = res.text, result = plain }
    else
      result = { state = "failed", error = { kind = err.kind, message = err.message, code = err.code } }
    end
  end
  result.worker = me
  local ok, derr = q:done(item, result)
  if not ok then ngx.log(ngx.ERR, "stt fleet: cannot record a result: ", tostring(derr)) end
end

local function consume(premature)
  if premature then return end
  -- (ngx.var does not exist in a timer: the host name comes from the kernel)
  local f = io.open("/proc/sys/kernel/hostname", "r")
  local hostname = f and f:read("*l") or "nginx"
  if f then f:close() end
  local consumer_base = ("%s-%d-%d"):format(hostname, ngx.worker.pid(), ngx.time())
  stt.run(function()
    local q = queue()
    local ths = {}
    for lane = 1, conf.consumers do
      ths[lane] = stt.spawn(function()
        local consumer = consumer_base .. "-" .. lane
        while not ngx.worker.exiting() do
          local items, err = q:take(consumer, 1)
          if not items then
            ngx.log(ngx.WARN, "stt fleet: ", tostring(err), " (retrying)")
            stt.sleep(1)
          elseif #items == 0 then
            stt.sleep(conf.idle_sleep)
          else
            local ok, werr = pcall(work, q, items[1], consumer_base)
            if not ok then ngx.log(ngx.ERR, "stt fleet: job failed: ", tostring(werr)) end
          end
        end
      end)
    end
    for _, t in ipairs(ths) do t:join() end
  end)
end

--- init_worker_by_lua: this worker's consumers (nothing without STT_REDIS_URL).
function M.init_worker()
  if not conf.store then return end
  local ok, err = ngx.timer.at(0, consume)
  if not ok then ngx.log(ngx.ERR, "stt fleet: cannot start the queue consumers: ", err) end
end

return M
