-- Test-only handler (location /_test/redis in spec/openresty/test.conf) that runs the nginx Redis
-- backend (lua/stt/redis/ngx.lua) where it really runs, for spec/openresty_redis_spec.lua.
-- POST {url = "redis://[:password@]host:port/db", op, ...}: nginx workers do not see the
-- suite's STT_REDIS_URL, so the spec sends it.
-- luacheck: globals ngx
local stt = require "stt"
local backend = require "stt.redis.ngx"

local M = {}

local function reply(t)
  ngx.header["Content-Type"] = "application/json"
  ngx.say(stt.json_encode(t))
end

local function msg(e) return type(e) == "table" and tostring(e.message or e) or tostring(e) end

-- The connection config from the URL, with the request's overrides (timeout, password, db).
local function config(q)
  local rest = assert(q.url:match("^redis://(.*)$"), "bad redis URL")
  local password = rest:match("^:([^@]*)@")
  rest = rest:gsub("^[^@/]*@", "")
  local host, port, db = rest:match("^([^:/]+):(%d+)/?(%d*)$")
  assert(host, "bad redis URL")
  local cfg = { host = host, port = tonumber(port), db = tonumber(db) or 0, password = password }
  for k, v in pairs(q.cfg or {}) do cfg[k] = v end
  return cfg
end

-- A reply value as JSON: error replies inside arrays keep their { err = ... } shape.
local function plain(v)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = plain(x) end
  return out
end

local function run_call(q)
  local c, err = backend.connect(config(q))
  if not c then return { connect_error = err } end
  local results = {}
  for i, args in ipairs(q.cmds) do
    local v, e = c:call(args)
    results[i] = e and { error = e } or { value = plain(v) }
  end
  local reused = c.reused
  c:close()
  return { results = results, reused = reused }
end

local ops = {}

--- {cmds}: each command on one connection, one call each.
ops.call = run_call

--- {cmds}: all in one pipeline.
function ops.pipeline(q)
  local c, err = backend.connect(config(q))
  if not c then return { connect_error = err } end
  local list, perr = c:pipeline(q.cmds)
  c:close()
  return { results = list and plain(list), error = perr }
end

--- {key}: binary-safe values (every byte, CR LF, NUL, RESP framing inside) and a 1 MiB one.
function ops.binary(q)
  local bytes = {}
  for b = 0, 255 do bytes[#bytes + 1] = string.char(b) end
  local small = table.concat(bytes) .. "\r\n\0\r\n*1\r\n$3\r\nfoo\r\n\0"
  local big = string.rep(small .. "\r\n", math.ceil(1048576 / (#small + 2))):sub(1, 1048576)
  local c, err = backend.connect(config(q))
  if not c then return { connect_error = err } end
  local out = {}
  for name, value in pairs({ small = small, big = big }) do
    local key = q.key .. ":" .. name
    local ok, serr = c:call({ "SET", key, value })
    local got, gerr = c:call({ "GET", key })
    -- the value as a key, too: keys are bulk strings like values
    local ok2 = c:call({ "SET", value, "v" })
    local got2 = c:call({ "GET", value })
    c:call({ "DEL", value })
    out[name] = { set = ok, set_error = serr, get_error = gerr, len = #value, equal = got == value,
                  got_len = type(got) == "string" and #got or nil, as_key = ok2 == "OK" and got2 == "v" }
  end
  c:close()
  return out
end

--- {key, n}: n light threads, each its own connection: INCR once.
function ops.concurrent(q)
  local cfg = config(q)
  local threads = {}
  for i = 1, q.n do
    threads[i] = ngx.thread.spawn(function()
      local c, err = backend.connect(cfg)
      if not c then return nil, err end
      local v, cerr = c:call({ "INCR", q.key })
      c:close()
      return v, cerr
    end)
  end
  local seen, errors, first = {}, 0, nil
  for i = 1, q.n do
    local _, v, err = ngx.thread.wait(threads[i])
    if type(v) == "number" then seen[v] = (seen[v] or 0) + 1
    else errors = errors + 1; first = first or msg(err) end
  end
  local distinct = 0
  for v, count in pairs(seen) do
    if count == 1 and v >= 1 and v <= q.n then distinct = distinct + 1 end
  end
  local c = assert(backend.connect(cfg))
  local final = c:call({ "GET", q.key })
  c:close()
  return { errors = errors, first_error = first, distinct = distinct, final = final }
end

--- {cmd, cfg = {timeout}}: a command that outlasts the timeout; then a fresh one works.
function ops.timeout(q)
  ngx.update_time()
  local t0 = ngx.now()
  local cfg = config(q)
  local c, err = backend.connect(cfg)
  if not c then return { connect_error = err } end
  local v, cerr = c:call(q.cmd)
  ngx.update_time()
  local took = ngx.now() - t0
  -- the timed-out socket was closed: the same conn answers with an error, without I/O
  local v2, again = c:call({ "PING" })
  c:close()
  local c2 = assert(backend.connect(cfg))
  local after = c2:call({ "PING" })
  c2:close()
  return { value = v, error = cerr, took = took, again = again, again_value = v2, after = after }
end

--- {}: what a connection object refuses (programming mistakes raise).
function ops.misuse(q)
  local cfg = config(q)
  local out = {}
  local function raised(f)
    local ok, e = pcall(f)
    return not ok and msg(e) or "no error"
  end
  local c = assert(backend.connect(cfg))
  -- (not tail calls: the error must name this file's line, the caller's)
  out.bad_arg = raised(function() local v = c:call({ "SET", "k", true }); return v end)
  out.empty = raised(function() local v = c:call({}); return v end)
  out.empty_pipeline = #assert(c:pipeline({}))
  -- two light threads on one connection at once
  local t = ngx.thread.spawn(function() return c:call({ "BLPOP", "stt:redis-test:never", "0.2" }) end)
  out.busy = raised(function() return c:call({ "PING" }) end)
  ngx.thread.wait(t)
  c:close()
  out.after_close = raised(function() return c:call({ "PING" }) end)
  out.no_cfg = raised(function() return backend.connect() end)
  return out
end

function M.handle()
  ngx.req.read_body()
  local q = stt.json_decode(ngx.req.get_body_data() or "{}")
  local op = ops[q.op]
  if not op then ngx.status = 400; return reply({ error = "unknown op " .. tostring(q.op) }) end
  local ok, out = pcall(op, q)
  if not ok then ngx.status = 500; return reply({ raised = msg(out) }) end
  reply(out)
end

--- header_filter_by_lua (no cosockets there): ?phase=1 answers connect's error in a header.
function M.header_filter()
  if not ngx.var.arg_phase then return end
  local ok, err = pcall(backend.connect, { host = "127.0.0.1", port = 1 })
  ngx.header["X-Phase-Error"] = ok and "no error" or msg(err)
end

return M
