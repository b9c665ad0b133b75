-- Shared by the benchmarks (spec/bench/run starts the simulator and exports STT_SIM_URL/DIR).
local core = require "stt.core"

local B = {}

B.sim_url = assert(os.getenv("STT_SIM_URL"), "run the benchmarks through `make bench` (spec/bench/run)")
B.sim_dir = assert(os.getenv("STT_SIM_DIR"), "STT_SIM_DIR not set")
B.key = "sk-sim-valid-key-0001"
B.ds_base = B.sim_url .. "/dashscope/api/v1"

local function sh_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
B.sh_quote = sh_quote

function B.sh(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("*a")
  p:close()
  return out
end

--- The simulator's control API through the curl tool (independent of our engine).
function B.control(method, path, body)
  local cmd = "curl -s -X " .. method .. " " .. sh_quote(B.sim_url .. path)
  if body then cmd = cmd .. " -H 'Content-Type: application/json' --data-binary " .. sh_quote(body) end
  return B.sh(cmd)
end
function B.reset() B.control("POST", "/_sim/reset") end
function B.config(t) B.control("POST", "/_sim/config", core.json_encode(t)) end
function B.stats() return core.json_decode(B.control("GET", "/_sim/stats")) end

--- A WAV of `seconds` of silence (+ its transcript) in the simulator's media dir; returns its URL.
function B.media(name, seconds, text)
  local n = math.floor(16000 * seconds) * 2
  local function le(v, bytes)
    local t = {}
    for i = 1, bytes do t[i] = string.char(v % 256); v = math.floor(v / 256) end
    return table.concat(t)
  end
  local hdr = "RIFF" .. le(36 + n, 4) .. "WAVE" .. "fmt " .. le(16, 4) .. le(1, 2) .. le(1, 2)
    .. le(16000, 4) .. le(32000, 4) .. le(2, 2) .. le(16, 2) .. "data" .. le(n, 4)
  local f = assert(io.open(B.sim_dir .. "/media/" .. name .. ".wav", "wb"))
  f:write(hdr, string.rep("\0", n))
  f:close()
  if text then
    f = assert(io.open(B.sim_dir .. "/media/" .. name .. ".txt", "wb"))
    f:write(text)
    f:close()
  end
  return B.sim_url .. "/media/" .. name .. ".wav"
end

--- CPU seconds (user + sys) of this process so far, from /proc/self/stat (clock ticks of 1/100 s).
function B.cpu()
  local f = assert(io.open("/proc/self/stat", "rb"))
  local s = f:read("*a")
  f:close()
  local rest = s:match("%) (.*)$")
  local fields = {}
  for w in rest:gmatch("%S+") do fields[#fields + 1] = w end
  -- rest starts at field 3 (state); utime is field 14, stime field 15
  return (tonumber(fields[12]) + tonumber(fields[13])) / 100
end

--- { rss = KiB, hwm = KiB } from /proc/self/status.
function B.mem()
  local f = assert(io.open("/proc/self/status", "rb"))
  local s = f:read("*a")
  f:close()
  return { rss = tonumber(s:match("VmRSS:%s*(%d+)")), hwm = tonumber(s:match("VmHWM:%s*(%d+)")) }
end

B.now = core.now

function B.median(t)
  local c = {}
  for i = 1, #t do c[i] = t[i] end
  table.sort(c)
  local n = #c
  if n % 2 == 1 then return c[(n + 1) / 2] end
  return (c[n / 2] + c[n / 2 + 1]) / 2
end

B.table = require("common_table").table

return B
