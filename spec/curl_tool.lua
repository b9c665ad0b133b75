-- HTTP through the curl command-line tool, for specs that must not use lua-stt's own engine to
-- check the simulator (an independent client): http(target, opts) -> { status, time, rc, body,
-- stderr, headers (lower-case names) }.
-- opts: method, headers = { "Name: value" }, body (string), json (table: body + Content-Type),
--       file (path, sent with -T), path_as_is (send the path exactly as written), extra (further
--       curl arguments, already quoted)
local H = require "helper"
local cjson = require "cjson"

local M = {}

function M.http(target, opts)
  opts = opts or {}
  local q = H.sh_quote
  local tmp = os.tmpname()
  local args = { "curl -s -S", opts.path_as_is and "--path-as-is" or "", "-o", q(tmp .. ".body"), "-D",
                 q(tmp .. ".hdr"), "-w '%{http_code} %{time_total}'" }
  if opts.method then args[#args + 1] = "-X " .. opts.method end
  for _, h in ipairs(opts.headers or {}) do args[#args + 1] = "-H " .. q(h) end
  local body = opts.body
  if opts.json then
    body = cjson.encode(opts.json)
    args[#args + 1] = "-H 'Content-Type: application/json'"
  end
  if body then
    H.write(tmp .. ".req", body)
    args[#args + 1] = "--data-binary @" .. q(tmp .. ".req")
  end
  if opts.file then args[#args + 1] = "-T " .. q(opts.file) end
  if opts.extra then args[#args + 1] = opts.extra end
  args[#args + 1] = q(target)
  local p = assert(H.popen(table.concat(args, " ") .. " 2>" .. q(tmp .. ".err") .. "; echo \" $?\""))
  local out = p:read("*a")
  p:close()
  local code, t, rc = out:match("^(%d+) ([%d.]+) +(%d+)")
  local res = { status = tonumber(code), time = tonumber(t), rc = tonumber(rc), body = H.read(tmp .. ".body") or "",
                stderr = H.read(tmp .. ".err") or "", headers = {} }
  for line in (H.read(tmp .. ".hdr") or ""):gmatch("[^\r\n]+") do
    local k, v = line:match("^([^:]+):%s*(.-)%s*$")
    if k then res.headers[k:lower()] = v end
  end
  for _, ext in ipairs({ "", ".body", ".hdr", ".req", ".err" }) do os.remove(tmp .. ext) end
  return res
end

return M
