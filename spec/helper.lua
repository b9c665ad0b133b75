-- Shared by the specs: where the simulator is, how to talk to its control API, test media.
-- spec/run-tests starts one simulator for the whole run and exports STT_SIM_URL / STT_SIM_DIR.
local H = {}

H.sim_url = os.getenv("STT_SIM_URL")
H.tls_url = os.getenv("STT_SIM_TLS_URL")
H.sim_dir = os.getenv("STT_SIM_DIR")
-- The suite's redis-server (spec/run-tests starts one through spec/redis/redisctl).
H.redis_url = os.getenv("STT_REDIS_URL")
H.redis_dir = os.getenv("STT_REDIS_DIR")
H.key = "sk-sim-valid-key-0001"              -- a key the simulator accepts
H.ds_base = H.sim_url and (H.sim_url .. "/dashscope/api/v1")


local function sh_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
H.sh_quote = sh_quote

--- io.popen for the specs: child processes never inherit the sanitizer runtime that
-- `make sanitize-test` preloads into the interpreter.
function H.popen(cmd)
  return io.popen("env -u LD_PRELOAD -u ASAN_OPTIONS sh -c " .. H.sh_quote(cmd))
end

--- Run bin/stt ARGS as a process: exit status, stdout, stderr (the two kept in dir/stdout and
-- dir/stderr). env: "VAR=value ..." to set (default: the DashScope key), or "" for an environment
-- with nothing but PATH (no key at all); cd: run inside dir instead of the checkout.
function H.cli(args, env, dir, cd)
  local out, err = dir .. "/stdout", dir .. "/stderr"
  local prefix = env == "" and ("env -i PATH=%s"):format(sh_quote(os.getenv("PATH") or ""))
    or (env or ("DASHSCOPE_API_KEY=" .. H.key))
  local bin = cd and (sh_quote(os.getenv("PWD")) .. "/bin/stt") or "bin/stt"
  local p = assert(H.popen(("%s%s %s %s >%s 2>%s </dev/null; echo $?"):format(cd and ("cd " .. sh_quote(dir) .. " && ")
    or "", prefix, bin, args, sh_quote(out), sh_quote(err))))
  local code = tonumber(p:read("*a"):match("(%d+)%s*$"))
  p:close()
  return code, H.read(out) or "", H.read(err) or ""
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
--- The sum of a stats table's counts whose key matches `pattern` (e.g. requests "^POST /las/").
function H.count(t, pattern)
  local n = 0
  for k, v in pairs(t or {}) do if k:find(pattern) then n = n + v end end
  return n
end

--- Write a 16 kHz mono 16-bit WAV of `seconds` of silence into the simulator's media folder,
-- with the reference transcript beside it; returns the URL the simulator serves it at.
-- `channels` (default 1) makes it stereo and more.
function H.media(name, seconds, text, extra_json, channels)
  local dir = H.sim_dir .. "/media/"
  channels = channels or 1
  local n = math.floor(16000 * seconds) * 2 * channels
  local function le(v, bytes)
    local t = {}
    for i = 1, bytes do t[i] = string.char(v % 256); v = math.floor(v / 256) end
    return table.concat(t)
  end
  local hdr = "RIFF" .. le(36 + n, 4) .. "WAVE" .. "fmt " .. le(16, 4) .. le(1, 2) .. le(channels, 2)
    .. le(16000, 4) .. le(32000 * channels, 4) .. le(2 * channels, 2) .. le(16, 2) .. "data" .. le(n, 4)
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

--- Move a simulated task's clock forward (no wall-clock races in specs): `to` is "running"
-- (leave the queue now), "done" (finish now, once processed) or a number of milliseconds.
function H.advance(id, to)
  local body = type(to) == "number" and { ms = to } or { to = to }
  for _ = 1, 200 do
    local r = H.json(H.control("POST", "/_sim/tasks/" .. id .. "/advance", H.encode(body)))
    if r.id then return r end
    assert(r.error and r.error:find("not processed yet", 1, true), "advance " .. id .. ": " .. tostring(r.error))
    H.sleep(0.02)                                  -- processing runs right after the submit
  end
  error("advance " .. id .. ": the simulator never processed the task")
end

--- A record of the simulator about a task (GET /_sim/tasks/<id>).
function H.sim_task(id) return H.json(H.control("GET", "/_sim/tasks/" .. id)) end

---------------------------------------------------------------- files and shell commands

--- The contents of a file, or nil when it cannot be opened.
function H.read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

function H.write(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

--- A new empty directory (mktemp -d).
function H.tmpdir()
  local p = assert(H.popen("mktemp -d"))
  local d = p:read("*l")
  p:close()
  return d
end

--- A new file holding `content`; `ext` (optional) is its name's ending, without the dot.
function H.tmpfile(content, ext)
  local p = assert(H.popen(ext and ("mktemp --suffix=." .. ext) or "mktemp"))
  local path = p:read("*l")
  p:close()
  H.write(path, content)
  return path
end

--- Run a shell command; returns its exit code and its output (stdout and stderr together).
-- The code comes back in the output: LuaJIT's popen:close() does not return it.
function H.run(cmd)
  local p = assert(H.popen("(" .. cmd .. ") 2>&1; echo \"rc=$?\""))
  local out = p:read("*a")
  p:close()
  local code = tonumber(out:match("rc=(%d+)%s*$"))
  return code, (out:gsub("rc=%d+%s*$", ""))
end

function H.sleep(seconds)
  local p = assert(H.popen(string.format("sleep %.3f", seconds)))
  p:read("*a")
  p:close()
end

---------------------------------------------------------------- clients against the simulator

--- Specs of a provider still being written: when the core has no wire schema for `name`, declare
-- `title` pending and return true (the spec file then returns).
function H.pending_without(name, title)
  if H.has_provider(name) then return false end
  local busted = require "busted"   -- describe/pending are globals of spec files only
  busted.describe(title, function()
    busted.pending("the " .. name .. " wire schema is not in the core yet")
  end)
  return true
end

--- stt.client(provider, ...) with quick polling and a 5 s timeout, then `defaults` (credentials,
-- base_url), then the test's own `opts` on top.
function H.client(provider, defaults, opts)
  local o = { timeout = 5, poll_first = 0.05 }
  for k, v in pairs(defaults) do o[k] = v end
  for k, v in pairs(opts or {}) do o[k] = v end
  return require("stt").client(provider, o)
end

--- The simulator's quick settings most end-to-end tests start from (after a reset).
function H.quick_sim()
  H.reset()
  H.config({ queue_ms = 20, rtf = 0.05, min_run_ms = 50 })
end

--- An on_event handler that writes down every event (type and error text); returns the list and
-- the handler.
function H.event_log()
  local seen = {}
  return seen, function(ev)
    seen[#seen + 1] = ev.type .. (ev.error and tostring(ev.error) or "")
  end
end

--- Fails when `secret` shows in the error (text and fields), the client (text and fields) or the
-- event log.
function H.assert_secret_hidden(secret, err, c, seen)
  local all = tostring(err) .. H.encode(setmetatable(err, nil)) .. tostring(c) .. table.concat(seen)
  for k, v in pairs(c) do all = all .. tostring(k) .. tostring(v) end
  assert(not all:find(secret, 1, true), "the secret shows in an error, the client or an event")
end

--- The simulator's TLS listeners besides H.tls_url (spec/sim/README.md): the CA file that makes
-- H.tls_url trusted, and a listener whose certificate, trusted through H.tls_wronghost_ca, is for
-- another host name (wrong.example).
H.tls_ca = os.getenv("STT_SIM_TLS_CA")
H.tls_wronghost_url = os.getenv("STT_SIM_TLS_WRONGHOST_URL")
H.tls_wronghost_ca = os.getenv("STT_SIM_TLS_WRONGHOST_CA")

--- Run a shell command; returns its output (stdout and stderr together).
function H.sh(cmd)
  local p = assert(H.popen(cmd .. " 2>&1"))
  local out = p:read("*a")
  p:close()
  return out
end

--- Start the example nginx (spec/openresty/examplectl) against the simulator's DashScope; `env`
-- prefixes the command (e.g. "EXAMPLE_WORKERS=2 "). Returns its folder and its base URL.
function H.example_start(env)
  local dir = H.sh("mktemp -d \"${TMPDIR:-/tmp}/stt-openresty.XXXXXX\""):gsub("%s+$", "")
  local out = H.sh((env or "") .. "bash spec/openresty/examplectl start " .. sh_quote(dir) .. " "
    .. sh_quote(H.ds_base))
  local base = out:match("EXAMPLE_URL=(%S+)")
  if not base then
    H.example_stop(dir)
    error("the example nginx did not start: " .. out, 2)
  end
  return dir, base
end

--- Stop the example nginx of H.example_start and remove its folder.
function H.example_stop(dir)
  if dir and dir:match("stt%-openresty") then
    H.sh("bash spec/openresty/examplectl stop " .. sh_quote(dir) .. "; rm -rf " .. sh_quote(dir))
  end
end

package.loaded["helper"] = H
--- redis-cli against the suite's Redis: the output, trimmed (the specs' independent client).
function H.redis_cli(args)
  local port = H.redis_url and H.redis_url:match(":(%d+)/") or "0"
  return (H.sh("redis-cli -p " .. port .. " " .. args .. " 2>&1"):gsub("%s+$", ""))
end

--- Restart the suite's redis-server (same port and data: the append-only file) / kill it.
function H.redis_restart() H.sh("bash spec/redis/redisctl restart " .. H.sh_quote(H.redis_dir)) end
function H.redis_kill() H.sh("bash spec/redis/redisctl kill " .. H.sh_quote(H.redis_dir)) end

return H
