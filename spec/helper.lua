-- Shared by the specs: where the simulator is, how to talk to its control API, test media.
-- spec/run-tests starts one simulator for the whole run and exports STT_SIM_URL / STT_SIM_DIR.
local H = {}

H.sim_url = os.getenv("STT_SIM_URL")
H.tls_url = os.getenv("STT_SIM_TLS_URL")
H.sim_dir = os.getenv("STT_SIM_DIR")
H.key = "sk-sim-valid-key-0001"              -- a key the simulator accepts
H.ds_base = H.sim_url and (H.sim_url .. "/dashscope/api/v1")


local function sh_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
H.sh_quote = sh_quote

--- io.popen for the specs: child processes never inherit the sanitizer runtime that
-- `make sanitize-test` preloads into the interpreter.
function H.popen(cmd)
  return io.popen("env -u LD_PRELOAD -u ASAN_OPTIONS sh -c " .. H.sh_quote(cmd))
end

--- Call the simulator's control API with the curl command-line tool (independent of our engine).
function H.control(method, path, body)
  assert(H.sim_url, "no simulator: run the specs through `make test` (spec/run-tests)")
  local cmd = "curl -s -X " .. method .. " " .. sh_quote(H.sim_url .. path)
  if body then cmd = cmd .. " -H 'Content-Type: application/json' --data-binary " .. sh_quote(body) end
  local p = assert(H.popen(cmd))
  local out = p:read("*a")
  p:close()
  return out
end

function H.json(s) return require("stt.core").json_decode(s) end
function H.encode(v) return require("stt.core").json_encode(v) end

function H.reset() H.control("POST", "/_sim/reset") end
function H.config(t) H.control("POST", "/_sim/config", H.encode(t)) end
function H.fault(t) H.control("POST", "/_sim/faults", H.encode(t)) end
function H.stats() return H.json(H.control("GET", "/_sim/stats")) end

--- Write a 16 kHz mono 16-bit WAV of `seconds` of silence into the simulator's media folder,
-- with the reference transcript beside it; returns the URL the simulator serves it at.
function H.media(name, seconds, text, extra_json)
  local dir = H.sim_dir .. "/media/"
  local n = math.floor(16000 * seconds) * 2
  local function le(v, bytes)
    local t = {}
    for i = 1, bytes do t[i] = string.char(v % 256); v = math.floor(v / 256) end
    return table.concat(t)
  end
  local hdr = "RIFF" .. le(36 + n, 4) .. "WAVE" .. "fmt " .. le(16, 4) .. le(1, 2) .. le(1, 2)
    .. le(16000, 4) .. le(32000, 4) .. le(2, 2) .. le(16, 2) .. "data" .. le(n, 4)
  local f = assert(io.open(dir .. name .. ".wav", "wb"))
  f:write(hdr, string.rep("\0", n))
  f:close()
  if text then
    f = assert(io.open(dir .. name .. ".txt", "wb"))
    f:write(text)
    f:close()
  end
  if extra_json then
    f = assert(io.open(dir .. name .. ".json", "wb"))
    f:write(extra_json)
    f:close()
  end
  return H.sim_url .. "/media/" .. name .. ".wav"
end

--- True when the C core has a wire schema for `name` (specs of a provider still being written
-- mark themselves pending until it lands).
function H.has_provider(name)
  for _, p in ipairs(require("stt.core").providers()) do
    if p == name then return true end
  end
  return false
end

--- A record of the simulator about a task (GET /_sim/tasks/<id>).
function H.sim_task(id) return H.json(H.control("GET", "/_sim/tasks/" .. id)) end

package.loaded["helper"] = H
return H
