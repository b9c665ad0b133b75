--- The libcurl transport: request(req, opts) -> resp | nil, err.
-- Inside stt.run the exchange runs on the scheduler's engine and only this coroutine waits;
-- outside, it blocks on the transport's own engine (kept for connection reuse).
local core = require "stt.core"
local sched = require "stt.sched"

local Transport = {}
Transport.__index = Transport

local M = {}

function M.new(opts)
  return setmetatable({ opts = opts or {} }, Transport)
end

--- req: { method, url, headers = {{name, value}, ...}, body }
--- opts: { timeout, connect_timeout, max_body, insecure, ca_file }
--- Returns { status, headers, body, reused, time } or nil, { kind, message, sent }.
function Transport:request(req, opts)
  if not self.engine or self.engine:closed() then
    if not sched.current() then self.engine = core.engine(self.opts) end
  end
  local resp, err = sched.http(self.engine, req, opts)
  if not resp then return nil, { kind = "protocol", message = err, sent = false } end
  if resp.error then
    return nil, { kind = resp.error.kind, message = resp.error.message, sent = resp.sent,
                  curl_code = resp.error.curl_code }
  end
  return resp
end

function Transport:close()
  if self.engine then self.engine:close() end
end

M.Transport = Transport
return M
