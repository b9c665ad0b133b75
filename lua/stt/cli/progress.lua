--- What the command line says while a batch runs: a live bar on a terminal, one line per event
-- off it, JSON events with --json; and the time-left estimate.
local stt = require "stt"
local util = require "stt.cli.util"

local M = {}

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

local Progress = {}
Progress.__index = Progress

--- mode: "tty" | "lines" | "quiet" | "json"; total inputs; lanes (concurrency).
function M.new(mode, total, lanes)
  return setmetatable({ mode = mode, total = total, done = 0, failed = 0, skipped = 0, running = 0,
                        submitting = 0, t0 = stt.now(), last_draw = 0, lanes = lanes or 1,
                        start_at = {}, work_time = 0, work_n = 0, uploads = {} }, Progress)
end

function Progress:started(i)
  self.start_at[i] = stt.now()
end

-- Input i finished (done or failed) after work in this run: its time feeds the estimate.
function Progress:finished(i)
  local t = self.start_at[i]
  if t then
    self.work_time, self.work_n = self.work_time + (stt.now() - t), self.work_n + 1
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

-- The client's events: `upload` (bytes of a local file sent so far) feed the bar; its first and
-- last become events of their own.
function Progress:client_event(ev)
  if ev.type ~= "upload" then return end
  local was = self.uploads[ev.file]
  if ev.sent >= ev.total then
    self.uploads[ev.file] = nil
    if was then self:event({ event = "uploaded", file = ev.file, bytes = ev.total }) end
  else
    self.uploads[ev.file] = { sent = ev.sent, total = ev.total }
    if not was then self:event({ event = "uploading", file = ev.file, bytes = ev.total }) end
    self:draw()
  end
end

-- "uploading 12.5/50.0 MB" over every file on its way, or "".
function Progress:upload_text()
  local sent, total, n = 0, 0, 0
  for _, u in pairs(self.uploads) do sent, total, n = sent + u.sent, total + u.total, n + 1 end
  if n == 0 then return "" end
  return (", uploading %s%s of %s"):format(n > 1 and (n .. " files, ") or "", util.fmt_bytes(sent),
    util.fmt_bytes(total))
end

function Progress:bar()
  local finished = self.done + self.failed
  local width = 24
  local fill = self.total > 0 and math.floor(width * finished / self.total) or width
  local now = stt.now()
  local left = self:eta(now)
  return ("[%s%s] %d/%d done, %d failed, %d running%s, %s elapsed, ETA %s"):format(
    ("#"):rep(fill), ("."):rep(width - fill), self.done, self.total, self.failed, self.running,
    self:upload_text(), util.fmt_duration(now - self.t0), left and util.fmt_duration(left) or "--:--")
end

function Progress:draw(force)
  if self.mode ~= "tty" then return end
  local t = stt.now()
  if not force and t - self.last_draw < 0.1 then return end
  self.last_draw = t
  io.stderr:write("\r\27[K", self:bar())
  io.stderr:flush()
end

-- One event: JSON on stdout (--json), a line on stderr (not a terminal), the bar (terminal).
-- Failures are always reported, with their reason, except in --json where they are events.
function Progress:event(ev)
  if self.mode == "json" then
    io.stdout:write(stt.json_encode(ev), "\n")
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
    elseif ev.event == "uploading" then
      line = ("stt: uploading %s (%s)"):format(ev.file, util.fmt_bytes(ev.bytes))
    elseif ev.event == "uploaded" then
      line = ("stt: uploaded %s"):format(ev.file)
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

return M
