-- Transcribe the demo's sample files concurrently against the simulator and write subtitles.
-- Run through `make demo` (examples/demo), which starts the simulator and sets STT_SIM_URL.
local stt = require "stt"

local outdir = arg[1] or "."
local sim = assert(os.getenv("STT_SIM_URL"), "STT_SIM_URL is not set: run `make demo`")

local c = stt.client("dashscope", {
  api_key = "sk-demo",                          -- a key the simulator accepts
  base_url = sim .. "/dashscope/api/v1",        -- the real default is https://dashscope.aliyuncs.com/api/v1
  poll_first = 0.2,
})

local files = {
  { name = "welcome_en", url = sim .. "/media/welcome_en.mp3", language = "en" },
  { name = "welcome_zh", url = sim .. "/media/welcome_zh.wav", language = "zh" },
}

local function ts(ms) return string.format("%02d:%02d.%03d", ms // 60000, ms // 1000 % 60, ms % 1000) end

print("lua-stt demo: DashScope protocol against the bundled SIMULATOR at " .. sim)
print("(the simulator returns the reference text beside each file: no real recognition happens)\n")

local jobs = {}
for i, f in ipairs(files) do jobs[i] = { url = f.url, language = f.language } end
local started = os.time()
local results = c:transcribe_all(jobs, {
  concurrency = #jobs,
  on_result = function(i, r) io.stderr:write(string.format("  done: %s%s\n", files[i].name,
    r.error and (" (" .. tostring(r.error) .. ")") or "")) end,
})

local failed = 0
for i, r in ipairs(results) do
  local f = files[i]
  print(string.format("== %s (%s)", f.name, f.url))
  if r.error then
    failed = failed + 1
    print("  error: " .. tostring(r.error))
  else
    local res = r.result
    print(string.format("  task %s, model %s, %d ms of audio", res.task_id, res.model, res.duration_ms or 0))
    for _, s in ipairs(res.segments) do
      print(string.format("  [%s - %s] %s", ts(s.start_ms), ts(s.end_ms), s.text))
    end
    for _, fmt in ipairs({ "srt", "vtt" }) do
      local path = string.format("%s/%s.%s", outdir, f.name, fmt)
      local fh = assert(io.open(path, "w"))
      fh:write(stt.subtitle[fmt](res))
      fh:close()
      print("  wrote " .. path)
    end
  end
  print()
end
print(string.format("%d of %d files transcribed in about %d s", #results - failed, #results, os.time() - started))

-- The same English file through the other providers' protocols (each its own simulated service).
print("\n== welcome_en through the other providers")
local built = {}
for _, p in ipairs(require("stt.core").providers()) do built[p] = true end
local others = {
  { "volcengine", { api_key = "sk-demo", base_url = sim .. "/las/api/v1" } },                -- LAS las_asr
  { "volcengine-auc", { app_key = "demo-app", access_key = "demo-access-key", base_url = sim .. "/auc/api/v3" } },
  { "turing", { api_key = "sk-demo", base_url = sim .. "/turing/api/v1" } },
}
for _, p in ipairs(others) do
  local name, opts = p[1], p[2]
  if not built[name] then
    print(string.format("  %-15s (not in this build yet)", name))
  else
    opts.poll_first = 0.2
    local res, err = stt.client(name, opts):transcribe({ url = files[1].url, language = "en" })
    if not res then failed = failed + 1 end
    print(string.format("  %-15s %s", name, res and string.format("%d segments, %d ms: %s", #res.segments,
      res.duration_ms or 0, res.text) or ("error: " .. tostring(err))))
  end
end
os.exit(failed == 0 and 0 or 1)
