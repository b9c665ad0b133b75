-- Bench 6: a local file of BENCH_UPLOAD_MB (1024) uploaded on loopback to the simulator's
-- S3-compatible store (which receives, hashes and stores it the same way for both): lua-stt
-- (SigV4-signed PUT streamed from disk by libcurl, after its SHA-256 pass) against `curl -T`
-- with the same signed headers. Throughput, CPU of the uploading process, and peak RSS above
-- the idle process (the file must never be in memory). Median of BENCH_RUNS (3).
package.path = "lua/?.lua;lua/?/init.lua;spec/bench/?.lua;" .. package.path
local B = require "common"
local stt = require "stt"

local MB = tonumber(os.getenv("BENCH_UPLOAD_MB") or 1024)
local RUNS = tonumber(os.getenv("BENCH_RUNS") or 3)
local lua_bin = os.getenv("BENCH_LUA") or "lua5.4"
local cpath = os.getenv("BENCH_CPATH") or "build/lua5.4/?.so"
if B.sh("command -v /usr/bin/time") == "" then
  print("Bench 6 skipped: needs /usr/bin/time (apt install time)")
  return
end

local work = B.sh("mktemp -d " .. B.sh_quote((os.getenv("TMPDIR") or "/tmp") .. "/stt-upload.XXXXXX")):gsub("%s+$", "")
local file = work .. "/bench.wav"
B.sh(("head -c %d /dev/urandom > %s"):format(MB * 1048576, B.sh_quote(file)))
local sha = B.sh("sha256sum " .. B.sh_quote(file)):match("^%x+")
local endpoint = B.sim_url .. "/s3"

-- CPU seconds of the simulator's nginx workers (the receiving end: it reads the body, checks its
-- SHA-256 and stores it, the same for both clients).
local function server_cpu()
  local master = B.sh("cat " .. B.sh_quote(B.sim_dir .. "/nginx.pid") .. " 2>/dev/null"):match("%d+")
  local total = 0
  for pid in B.sh("pgrep -P " .. (master or "0")):gmatch("%d+") do
    local f = io.open("/proc/" .. pid .. "/stat", "rb")
    if f then
      local fields = {}
      for w in f:read("*a"):match("%) (.*)$"):gmatch("%S+") do fields[#fields + 1] = w end
      f:close()
      total = total + (tonumber(fields[12]) + tonumber(fields[13])) / 100
    end
  end
  return total
end

local function drop_objects() B.sh("rm -rf " .. B.sh_quote(B.sim_dir .. "/media/s3/bench")) end

-- /usr/bin/time -f: wall seconds, user + sys CPU seconds, max RSS KiB, then the command's output
local function timed(cmd)
  local out = B.sh(("/usr/bin/time -f 'TIME %%e %%U %%S %%M' %s 2>&1"):format(cmd))
  local e, u, s, m = out:match("TIME ([%d.]+) ([%d.]+) ([%d.]+) (%d+)")
  assert(e, out)
  return out, tonumber(e), tonumber(u) + tonumber(s), tonumber(m)
end

local ours, peer = { wall = {}, put = {}, cpu = {}, hash = {}, hash_cpu = {}, rss = {}, server = {} },
                   { wall = {}, cpu = {}, rss = {}, server = {} }
for _ = 1, RUNS do
  B.reset()
  drop_objects()
  local s0 = server_cpu()
  local out, wall, cpu = timed(("env LUA_CPATH=%s STT_SIM_URL=%s STT_SIM_DIR=%s %s spec/bench/upload_one.lua %s %s")
    :format(B.sh_quote(cpath .. ";;"), B.sh_quote(B.sim_url), B.sh_quote(B.sim_dir), lua_bin, B.sh_quote(file),
            B.sh_quote(endpoint)))
  assert(out:match("status=ok"), out)
  ours.server[#ours.server + 1] = server_cpu() - s0
  ours.wall[#ours.wall + 1] = wall
  ours.cpu[#ours.cpu + 1] = cpu
  ours.put[#ours.put + 1] = tonumber(out:match("put_s=([%d.]+)"))
  ours.hash[#ours.hash + 1] = tonumber(out:match("hash_s=([%d.]+)"))
  ours.hash_cpu[#ours.hash_cpu + 1] = tonumber(out:match("hash_cpu=([%d.]+)"))
  ours.rss[#ours.rss + 1] = (tonumber(out:match("peak=(%d+)")) - tonumber(out:match("idle=(%d+)"))) / 1024
  local key = out:match("key=(%S+)")
  assert(B.stats().s3_bytes["bench/" .. key] == MB * 1048576, "the store did not get the whole file")

  drop_objects()
  -- the peer: the same signed PUT, by curl
  local url = endpoint .. "/bench/peer/bench.wav"
  local signed = assert(stt.s3.sign({ method = "PUT", url = url, region = "us-east-1",
    access_key = "AKIDSIMEXAMPLE0001", secret_key = "sim-secret-0001", payload_hash = sha,
    headers = { { "Content-Type", "audio/wav" } } }))
  local hdrs = {}
  for _, h in ipairs(signed.headers) do
    if h[1]:lower() ~= "host" then hdrs[#hdrs + 1] = "-H " .. B.sh_quote(h[1] .. ": " .. h[2]) end
  end
  s0 = server_cpu()
  local pout, pwall, pcpu, prss = timed(("curl -s -o /dev/null -w 'HTTP %%{http_code}' -T %s %s %s")
    :format(B.sh_quote(file), table.concat(hdrs, " "), B.sh_quote(endpoint:match("^(%a+://[^/]+)") .. signed.path)))
  assert(pout:match("HTTP 200"), pout)
  peer.server[#peer.server + 1] = server_cpu() - s0
  peer.wall[#peer.wall + 1] = pwall
  peer.cpu[#peer.cpu + 1] = pcpu
  peer.rss[#peer.rss + 1] = prss / 1024
end
drop_objects()
B.sh("rm -rf " .. B.sh_quote(work))

local m = B.median
local put_mbs, peer_mbs = MB / m(ours.put), MB / m(peer.wall)
local put_cpu = m(ours.cpu) - m(ours.hash_cpu)
B.table(("Bench 6: upload of a %d MiB file on loopback to the S3 simulator (median of %d)"):format(MB, RUNS),
  { "", "MiB/s", "wall s", "client CPU s", "server CPU s", "client peak RSS MiB" }, {
    { "curl -T (peer)", ("%.0f"):format(peer_mbs), ("%.2f"):format(m(peer.wall)), ("%.2f"):format(m(peer.cpu)),
      ("%.2f"):format(m(peer.server)), ("%.1f"):format(m(peer.rss)) .. " (whole process)" },
    { "lua-stt PUT (streamed)", ("%.0f"):format(put_mbs), ("%.2f"):format(m(ours.put)), ("%.2f"):format(put_cpu),
      ("%.2f"):format(m(ours.server)), ("%.1f"):format(m(ours.rss)) .. " above idle" },
    { "lua-stt SHA-256 pass", ("%.0f"):format(MB / m(ours.hash)), ("%.2f"):format(m(ours.hash)),
      ("%.2f"):format(m(ours.hash_cpu)), "", "" },
  })
print(("lua-stt PUT / curl -T throughput: %.2fx. The SHA-256 pass: %.0f %% of the upload's wall time; %.0f %% of the "
  .. "upload's CPU (client + server), %.0f %% of the client's PUT CPU alone"):format(put_mbs / peer_mbs,
  100 * m(ours.hash) / m(ours.put), 100 * m(ours.hash_cpu) / (put_cpu + m(ours.server)),
  100 * m(ours.hash_cpu) / math.max(0.001, put_cpu)))
