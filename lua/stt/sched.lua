--- The scheduler: stt.run / stt.spawn / stt.sleep.
-- Inside stt.run, threads are coroutines driven by one libcurl engine: each turn runs the ready
-- threads, drives the engine, resumes the threads whose HTTP exchanges finished or whose timers
-- fired, and then waits in the engine (epoll; curl_multi_poll off Linux) until the next socket
-- event or timer. Outside stt.run, every call blocks. This is the only place that waits.
--
-- Inside nginx (lua-nginx-module) the same calls map onto nginx's own scheduler instead: threads
-- are ngx.thread light threads, sleeping is ngx.sleep, and HTTP goes through cosockets
-- (lua/stt/transport/ngx.lua). No libcurl engine is ever created there: a blocking wait would
-- freeze every request of the worker.
local core = require "stt.core"

local M = {}

local now = core.now
local active            -- the scheduler of the stt.run in progress (one per Lua state)
local idle_engine       -- an engine with no transfers, used only to sleep outside stt.run
local TOKEN = {}        -- what our threads yield, so that foreign yields are told apart

---------------------------------------------------------------- nginx detection
-- The phases in which nginx allows cosockets, light threads and ngx.sleep.
local COSOCKET_PHASES = { rewrite = true, access = true, content = true, timer = true }

--- The `ngx` API table when running inside nginx (lua-nginx-module), else nil.
-- Looked up at call time: a plain Lua program never has it.
local function ngx_api()
  local ngx = rawget(_G, "ngx")
  if type(ngx) == "table" and type(ngx.get_phase) == "function" then return ngx end
  return nil
end
M.ngx_api = ngx_api

function M.in_nginx() return ngx_api() ~= nil end

--- Raise the one clear error for a phase without cosockets (a programming mistake).
local function need_cosockets(what, level)
  local phase = ngx_api().get_phase()
  if not COSOCKET_PHASES[phase] then
    error(("%s: nginx disables cosockets, light threads and ngx.sleep in the %s phase; call it "
      .. "from rewrite_by_lua, access_by_lua, content_by_lua or an ngx.timer (for example "
      .. "ngx.timer.at(0, fn) from init_worker_by_lua)"):format(what, tostring(phase)), (level or 1) + 1)
  end
end
M.need_cosockets = need_cosockets

-- ngx mode: light thread coroutine -> the stt thread it runs (weak keys: dead ones go away).
local ngx_by_co = setmetatable({}, { __mode = "k" })

---------------------------------------------------------------- timer heap (min-heap on `at`)
local function heap_push(h, item)
  local i = #h + 1
  h[i] = item
  while i > 1 do
    local p = (i - i % 2) / 2
    if h[p].at < item.at or (h[p].at == item.at and h[p].seq < item.seq) then break end
    h[i], h[p] = h[p], item
    i = p
  end
end

local function less(a, b) return a.at < b.at or (a.at == b.at and a.seq < b.seq) end

local function heap_pop(h)
  local top, n = h[1], #h
  local last = h[n]
  h[n] = nil
  n = n - 1
  if n > 0 then
    local i = 1
    h[1] = last
    while true do
      local l, r, m = 2 * i, 2 * i + 1, i
      if l <= n and less(h[l], h[m]) then m = l end
      if r <= n and less(h[r], h[m]) then m = r end
      if m == i then break end
      h[i], h[m] = h[m], h[i]
      i = m
    end
  end
  return top
end

---------------------------------------------------------------- threads
local Thread = {}
Thread.__index = Thread

function Thread.__tostring(t)
  return "stt.thread (" .. (t.done and (t.ok and "done" or "failed") or "running") .. ")"
end

local function unpack_n(t) return (table.unpack or unpack)(t, 1, t.n) end

local ngx_wait_done     -- (ngx mode) wait until a light thread has finished; defined below

--- Wait for the thread to finish; returns its results, or raises its error.
function Thread:join()
  local S = self.sched
  if S and S.ngx then
    local me = ngx_by_co[coroutine.running()]
    if not me or me.sched ~= S then
      error("thread:join() must be called from a thread of the same stt.run", 2)
    end
    if me == self then error("a thread cannot join itself", 2) end
    ngx_wait_done(self)
    self.joined = true
    if not self.ok then error(self.err, 0) end
    return unpack_n(self.results)
  end
  local me = S and S.by_co[coroutine.running()]
  while not self.done do
    if not me then error("thread:join() must be called from a thread of the same stt.run", 2) end
    if me == self then error("a thread cannot join itself", 2) end
    self.joiners[#self.joiners + 1] = me
    coroutine.yield(TOKEN)
  end
  self.joined = true
  if not self.ok then error(self.err, 0) end
  return unpack_n(self.results)
end

-- The run queue: parallel arrays of threads and the one value each is resumed with (an HTTP
-- response, or nil), so queuing a thread allocates nothing.
local function ready(S, th, v)
  local n = S.nready + 1
  S.nready = n
  S.ready[n] = th
  S.ready_v[n] = v
end

local function finish(S, th, ok, ...)
  th.done, th.ok = true, ok
  if ok then th.results = { n = select("#", ...), ... }
  else
    th.err = ...
    S.failed[#S.failed + 1] = th
  end
  S.by_co[th.co] = nil
  S.live = S.live - 1
  for _, j in ipairs(th.joiners) do ready(S, j) end
  th.joiners = {}
end

-- After a resume: the common case (the thread yielded TOKEN) allocates nothing.
local function resumed(S, th, ok, first, ...)
  if coroutine.status(th.co) == "dead" then
    if ok then finish(S, th, true, first, ...)
    else
      -- The error value travels unchanged (tables stay tables); the traceback is kept beside it.
      th.traceback = debug.traceback(th.co, tostring(first))
      finish(S, th, false, first)
    end
  elseif first ~= TOKEN then
    ready(S, th)            -- a plain coroutine.yield(): let the others run, then continue
  end
end

local function step(S, th, v)
  resumed(S, th, coroutine.resume(th.co, v))
end

local function new_thread(S, fn, ...)
  local th = setmetatable({ sched = S, joiners = {}, done = false }, Thread)
  local args = { n = select("#", ...), ... }
  th.co = coroutine.create(function() return fn(unpack_n(args)) end)
  S.by_co[th.co] = th
  S.live = S.live + 1
  ready(S, th)
  return th
end

---------------------------------------------------------------- ngx mode (inside nginx)
-- Each stt thread is an ngx.thread light thread running `ngx_body`, which never raises (errors
-- are kept on the thread, as in the engine mode). nginx lets only a thread's parent
-- ngx.thread.wait for it, so the parent does that (which also reaps the finished thread) and any
-- other joiner sleeps on a semaphore that the finishing thread posts.
local function ngx_body(th, fn, args)
  local co = coroutine.running()
  th.co = co
  ngx_by_co[co] = th
  local res = { n = 0 }
  local function pack(...) res = { n = select("#", ...), ... } end
  pack(xpcall(function() return fn(unpack_n(args)) end,
              function(e) th.traceback = debug.traceback(tostring(e), 2); return e end))
  th.done, th.ok = true, res[1]
  if res[1] then
    th.results = { n = res.n - 1, select(2, unpack_n(res)) }
  else
    th.err = res[2]
    local S = th.sched
    S.failed[#S.failed + 1] = th
  end
  ngx_by_co[co] = nil
  if th.sema then th.sema:post(th.nwaiters) end
end

ngx_wait_done = function(th)
  local ngx = ngx_api()
  if th.parent == coroutine.running() and not th.waited then
    th.waited = true
    ngx.thread.wait(th.co)       -- returns at once when it has already finished
  end
  if th.done then return end
  th.sema = th.sema or require("ngx.semaphore").new()
  th.nwaiters = (th.nwaiters or 0) + 1
  while not th.done do th.sema:wait(3600) end
end

local function ngx_spawn(S, fn, ...)
  local th = setmetatable({ sched = S, joiners = {}, done = false, parent = coroutine.running() }, Thread)
  S.threads[#S.threads + 1] = th
  local co, err = ngx_api().thread.spawn(ngx_body, th, fn, { n = select("#", ...), ... })
  if not co then error("stt.spawn: ngx.thread.spawn failed: " .. tostring(err), 3) end
  th.co = co
  return th
end

-- stt.run inside nginx: fn runs in the calling light thread (the request's or the timer's);
-- then every thread spawned in this run is waited for.
local function ngx_run(fn, ...)
  need_cosockets("stt.run", 2)
  local me = coroutine.running()
  if ngx_by_co[me] then error("stt.run is already running (call stt.spawn inside it instead)", 3) end
  local S = { ngx = true, threads = {}, failed = {} }
  local main = setmetatable({ sched = S, joiners = {}, done = false }, Thread)
  ngx_by_co[me] = main
  local res = { n = 0 }
  local function pack(...) res = { n = select("#", ...), ... } end
  pack(pcall(fn, ...))
  local i = 1
  while i <= #S.threads do            -- threads may spawn more threads while we wait
    ngx_wait_done(S.threads[i])
    i = i + 1
  end
  ngx_by_co[me] = nil
  if not res[1] then error(res[2], 0) end
  for _, th in ipairs(S.failed) do
    if not th.joined then error(th.err, 0) end
  end
  return select(2, unpack_n(res))
end

---------------------------------------------------------------- the loop
-- A thread waiting for several completions at once (the commands of a Redis pipeline): it is
-- made ready, with the list of them in sending order, when the last one has come.
local Gather = {}
local function drive(S)
  local eng = S.engine
  while true do
    -- Swap in the spare arrays: threads made ready while these run go to the next turn.
    local q, qv, n = S.ready, S.ready_v, S.nready
    S.ready, S.ready_v, S.nready = S.spare, S.spare_v, 0
    for i = 1, n do
      local th, v = q[i], qv[i]
      q[i], qv[i] = nil, nil
      step(S, th, v)
    end
    S.spare, S.spare_v = q, qv
    if S.live == 0 then return end
    if S.nwaiting > 0 then
      local _, done = eng:perform()
      for i = 1, #done do
        local resp = done[i]
        local th = S.waiting[resp.id]
        if th then
          S.waiting[resp.id] = nil
          S.nwaiting = S.nwaiting - 1
          if getmetatable(th) == Gather then      -- one of several ids a thread waits for
            th.out[th.index[resp.id]] = resp
            th.left = th.left - 1
            if th.left == 0 then ready(S, th.th, th.out) end
          else
            ready(S, th, resp)
          end
        end
      end
    end
    local t = now()
    while S.timers[1] and S.timers[1].at <= t do
      local tm = heap_pop(S.timers)
      if not tm.dead then ready(S, tm.th) end          -- (dead: an event woke its thread first)
    end
    if S.nready == 0 then
      local wait
      if S.timers[1] then wait = S.timers[1].at - t end
      if S.nwaiting > 0 then
        local ct = eng:timeout()
        if ct and (not wait or ct < wait) then wait = ct end
        if not wait or wait > 1 then wait = 1 end
      end
      if not wait then
        error("stt.run: deadlock: every thread is waiting for another thread", 0)
      end
      eng:wait(wait)
    end
  end
end

--- Run fn(...) as the main thread of a scheduler; returns its results once every spawned thread
-- has finished. Raises the error of the first failed thread that nobody joined.
function M.run(fn, ...)
  if type(fn) ~= "function" then error("stt.run expects a function", 2) end
  if ngx_api() then return ngx_run(fn, ...) end
  if active then error("stt.run is already running (call stt.spawn inside it instead)", 2) end
  local S = { ready = {}, ready_v = {}, nready = 0, spare = {}, spare_v = {}, timers = {}, waiting = {},
              nwaiting = 0, by_co = {}, live = 0, seq = 0, failed = {} }
  S.engine = core.engine()
  active = S
  local main = new_thread(S, fn, ...)
  local ok, err = pcall(drive, S)
  active = nil
  S.engine:close()
  if not ok then error(err, 0) end
  if not main.ok then error(main.err, 0) end
  for _, th in ipairs(S.failed) do
    if th ~= main and not th.joined then error(th.err, 0) end
  end
  return unpack_n(main.results)
end

--- Start fn(...) concurrently inside the current stt.run; returns a thread with :join().
function M.spawn(fn, ...)
  if type(fn) ~= "function" then error("stt.spawn expects a function", 2) end
  if ngx_api() then
    need_cosockets("stt.spawn", 2)
    local me = ngx_by_co[coroutine.running()]
    if not me then error("stt.spawn must be called inside stt.run", 2) end
    return ngx_spawn(me.sched, fn, ...)
  end
  if not active then error("stt.spawn must be called inside stt.run", 2) end
  return new_thread(active, fn, ...)
end

--- The scheduler thread running now, or nil outside stt.run (or in a foreign coroutine).
-- The thread of the engine-mode run in progress that is running now, or nil. An engine-mode run
-- in progress also means we are not inside nginx (ngx_run never sets `active`).
local function run_thread() return active and active.by_co[coroutine.running()] end

function M.current()
  if active then return run_thread() end
  if ngx_api() then return ngx_by_co[coroutine.running()] end
  return nil
end

--- Sleep s seconds: yields inside stt.run, blocks outside it.
function M.sleep(s)
  s = tonumber(s) or 0
  local th = run_thread()
  if th then
    local S = active
    S.seq = S.seq + 1
    heap_push(S.timers, { at = now() + s, seq = S.seq, th = th })
    coroutine.yield(TOKEN)
    return
  end
  local ngx = not active and ngx_api()
  if ngx then
    need_cosockets("stt.sleep", 2)
    ngx.sleep(s > 0 and s or 0)
    return
  end
  if s <= 0 then return end
  idle_engine = idle_engine or core.engine()
  local deadline = now() + s
  repeat
    idle_engine:wait(deadline - now())
  until now() >= deadline
end

---------------------------------------------------------------- events
-- sched.event(): one thread waits on it with a timeout, anyone in the same Lua state signals it
-- (another thread, or, inside nginx, a request handler of the same worker). Inside stt.run the
-- waiter sleeps on a timer that a signal cancels; inside nginx on an ngx.semaphore; outside both,
-- a wait just sleeps (nothing else can run to signal it).
local Event = {}
Event.__index = Event

function M.event() return setmetatable({ fired = false }, Event) end

--- Wake the waiter (or let the next wait return at once).
function Event:signal()
  self.fired = true
  local w = self.waiter
  if w then
    self.waiter = nil
    w.tm.dead = true
    ready(w.S, w.th)
  end
  if self.sema then self.sema:post(1) end
end

--- Wait up to `timeout` seconds; true when signalled (the signal is consumed), false on timeout.
function Event:wait(timeout)
  timeout = math.max(0, tonumber(timeout) or 0)
  if not self.fired then
    local th = run_thread()
    if th then
      local S = active
      S.seq = S.seq + 1
      local tm = { at = now() + timeout, seq = S.seq, th = th }
      heap_push(S.timers, tm)
      self.waiter = { S = S, th = th, tm = tm }
      coroutine.yield(TOKEN)
      self.waiter = nil
    else
      local ngx = not active and ngx_api()
      if ngx then
        need_cosockets("event:wait", 2)
        self.sema = self.sema or require("ngx.semaphore").new()
        self.sema:wait(timeout)
      else
        M.sleep(timeout)
      end
    end
  end
  local fired = self.fired
  self.fired = false
  if self.sema and self.sema:count() > 0 then self.sema = nil end      -- drop a stale post
  return fired
end

--- One HTTP exchange on the scheduler's engine (inside stt.run) or on `engine` (blocking).
-- Returns the engine's response table (which may carry .error), or nil, message when the
-- request could not even be queued.
function M.http(engine, req, opts)
  if not active and ngx_api() then
    error("stt: the libcurl engine is never used inside nginx (it would block the worker); "
      .. "use the ngx transport (the default there)", 2)
  end
  local th = run_thread()
  if th then
    local S = active
    local id, err = S.engine:add(req, opts)
    if not id then return nil, err end
    -- opts.on_id(engine, id): who wants to watch the transfer (engine:progress) learns its id
    if opts and opts.on_id then opts.on_id(S.engine, id) end
    S.waiting[id] = th
    S.nwaiting = S.nwaiting + 1
    return coroutine.yield(TOKEN)
  end
  local id, err = engine:add(req, opts)
  if not id then return nil, err end
  if opts and opts.on_id then opts.on_id(engine, id) end
  while true do
    local _, done = engine:perform()
    for i = 1, #done do
      if done[i].id == id then return done[i] end
    end
    local ct = engine:timeout()
    engine:wait(ct and math.min(ct, 1) or 1)
  end
end

--- The engine of the stt.run thread running now (nil outside one, and inside nginx).
function M.engine() return run_thread() and active.engine or nil end

--- Redis commands on a connection of stt.core (engine:redis_connect, lua/stt/redis/engine.lua),
-- sent in one go: inside stt.run on the run's engine, the calling thread yields until every
-- reply is in; elsewhere it blocks on the connection's own engine. Returns the engine's
-- completions in sending order ({ id, redis = true, value | redis_error | error }), or nil,
-- message when a command could not be queued (the connection is closed).
function M.redis(conn, list, timeout)
  local n = #list
  local ids, index = {}, {}
  for i = 1, n do
    local id, err = conn:send(list[i], timeout)
    if not id then
      if i == 1 then return nil, err end
      error("stt.redis: the connection closed in the middle of a pipeline: " .. tostring(err), 2)
    end
    ids[i], index[id] = id, i
  end
  local engine = conn:engine()
  local th = run_thread()
  if th and engine == active.engine then
    local S = active
    local g = setmetatable({ th = th, out = {}, left = n, index = index }, Gather)
    for i = 1, n do S.waiting[ids[i]] = g end
    S.nwaiting = S.nwaiting + n
    return coroutine.yield(TOKEN)
  end
  local out, left = {}, n
  while true do
    local _, done = engine:perform()
    for i = 1, #done do
      local k = index[done[i].id]
      if k then out[k], left = done[i], left - 1 end
    end
    if left == 0 then return out end
    local ct = engine:timeout()
    engine:wait(ct and math.min(ct, 1) or 1)
  end
end

M.now = now
return M
