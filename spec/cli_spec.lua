-- bin/stt as a real process against the simulator: a batch of 20 files, a SIGKILL mid-batch and
-- a rerun that submits no URL twice, progress on a terminal (script(1)) and off it, --json
-- events, exit codes, bad inputs (nothing submitted), status/resume/providers.
local H = require "helper"
local core = require "stt.core"
local cli = require "stt.cli"

local SUBMIT = "POST /dashscope/api/v1/services/audio/asr/transcription"



local tmpdir, read, write = H.tmpdir, H.read, H.write

-- Run bin/stt through sh; returns exit status, stdout, stderr.
local function stt(args, env, dir) return H.cli(args, env, dir) end

local function base() return "--base-url " .. H.sh_quote(H.ds_base) end

local function submits() return (H.stats().requests or {})[SUBMIT] or 0 end

local function lines(s)
  local out = {}
  for l in s:gmatch("[^\n]+") do out[#out + 1] = l end
  return out
end

-- Count journal records by type.
local function journal_counts(path)
  local n = { intent = 0, task = 0, state = 0 }
  for l in (read(path) or ""):gmatch("[^\n]+") do
    local r = core.json_decode(l)
    if r and n[r.t] then n[r.t] = n[r.t] + 1 end
  end
  return n
end

local function make_batch(dir, n, prefix)
  local urls = {}
  for i = 1, n do
    urls[i] = H.media(("%s%02d"):format(prefix, i), 1, ("File number %d. It has words."):format(i))
  end
  write(dir .. "/list.txt", "# batch\n" .. table.concat(urls, "\n") .. "\n\n")
  return urls
end

local function sleep(s) os.execute("sleep " .. s) end

describe("bin/stt", function()
  local dir
  before_each(function()
    H.reset()
    H.config({ queue_ms = 0, rtf = 0.05, min_run_ms = 0 })
    dir = tmpdir()
  end)
  after_each(function() os.execute("rm -rf " .. H.sh_quote(dir)) end)

  it("transcribes a batch of 20 files to SRT and JSON, one line per event off a terminal", function()
    local urls = make_batch(dir, 20, "b")
    local code, out, err = stt(("transcribe %s -f srt,json -o %s -j 8 @%s"):format(
      base(), H.sh_quote(dir .. "/out"), H.sh_quote(dir .. "/list.txt")), nil, dir)
    assert.equal(0, code, err)
    assert.equal("", out)
    assert.is_nil(err:find("\27[", 1, true))             -- no terminal control off a terminal
    local done = 0
    for _, l in ipairs(lines(err)) do if l:match("^stt: %[%d+/20%] done ") then done = done + 1 end end
    assert.equal(20, done)
    assert.matches("20 of 20 done %(0 from earlier runs%), 0 failed", err)
    local subs = H.stats().submissions
    for i, u in ipairs(urls) do
      assert.equal(1, subs[u])
      local name = ("b%02d"):format(i)
      local srt = assert(read(dir .. "/out/" .. name .. ".srt"), name)
      assert.matches("^1\r?\n00:00:%d%d,%d%d%d %-%-> 00:00:", srt)
      assert.matches("File number " .. i .. "%.", srt)
      local doc = assert(core.json_decode(assert(read(dir .. "/out/" .. name .. ".json"))))
      -- the whole normalized Result, without the provider's raw body
      assert.matches("File number " .. i .. "%.", doc.text)
      assert.equal("dashscope", doc.provider)
      assert.is_true(#doc.segments >= 1 and #doc.segments[1].words >= 1)
      assert.is_nil(doc.raw)
    end
  end)

  it("survives SIGKILL mid-batch: the rerun finishes every file and submits no URL twice", function()
    H.config({ queue_ms = 0, rtf = 0.3, min_run_ms = 0 })
    local urls = make_batch(dir, 20, "k")
    local jpath = dir .. "/out/stt-journal.jsonl"
    local args = ("transcribe %s -f srt,json -o %s -j 4 @%s"):format(base(), H.sh_quote(dir .. "/out"),
      H.sh_quote(dir .. "/list.txt"))
    local p = assert(H.popen(("DASHSCOPE_API_KEY=%s bin/stt %s >%s 2>&1 </dev/null & echo $!"):format(
      H.key, args, H.sh_quote(dir .. "/killed.log"))))
    local pid = assert(tonumber(p:read("*l")))
    p:close()
    -- Let some files finish, then make new tasks long, so that every worker ends up waiting on a
    -- long task: no submit is in flight when the kill lands (that window is tested in
    -- journal_spec: an unknown outcome is never resubmitted). The journal must stay unchanged for
    -- 1.5 s first: longer than the client takes to notice a short task submitted before the change
    -- (first poll at 0.5 s; a sanitizer build runs several times slower), which would otherwise end
    -- and start a submit just as the kill lands; a long task (4 s) cannot end within the window.
    local n
    for _ = 1, 200 do
      n = journal_counts(jpath)
      if n.state >= 6 then break end
      sleep(0.05)
    end
    assert.is_true(n.state >= 6, "the batch did not start")
    H.config({ rtf = 4 })
    local stable = 0
    for _ = 1, 400 do
      local m = journal_counts(jpath)
      if m.intent == m.task and m.task - m.state == 4 and m.intent == n.intent and m.state == n.state then
        stable = stable + 1
      else
        stable = 0
      end
      n = m
      if stable >= 30 then break end
      sleep(0.05)
    end
    assert.equal(30, stable, "no quiet moment to kill in")
    os.execute(("kill -9 %d; while kill -0 %d 2>/dev/null; do sleep 0.02; done"):format(pid, pid))
    assert.is_true(n.state < 20 and n.task < 20, "the kill did not land mid-batch")
    local killed = read(dir .. "/killed.log")
    assert.is_nil(killed:find("of 20 done", 1, true))     -- it never reached its summary

    H.config({ rtf = 0.05 })
    local code, _, err = stt(args, nil, dir)
    assert.equal(0, code, err)
    assert.matches("20 of 20 done %(" .. n.state .. " from earlier runs%), 0 failed", err)
    local resumed = 0
    for _ in err:gmatch("stt: resumed ") do resumed = resumed + 1 end
    assert.equal(4, resumed)                               -- the four the kill interrupted
    local subs = H.stats().submissions
    for i, u in ipairs(urls) do
      assert.equal(1, subs[u], u .. " submitted " .. tostring(subs[u]) .. " times")
      assert.truthy(read(("%s/out/k%02d.srt"):format(dir, i)))
      assert.truthy(read(("%s/out/k%02d.json"):format(dir, i)))
    end
    assert.equal(20, submits())
    -- a third run does nothing at all
    code, _, err = stt(args, nil, dir)
    assert.equal(0, code, err)
    assert.matches("20 of 20 done %(20 from earlier runs%)", err)
    assert.equal(20, submits())
  end)

  -- Start bin/stt in the background; returns its pid and a function that waits for its exit
  -- status (the shell that started it records it).
  local function spawn_stt(args, log)
    local rc = dir .. "/rc"
    os.remove(rc)
    local p = assert(H.popen(("sh -c 'DASHSCOPE_API_KEY=%s bin/stt %s >%s 2>&1 </dev/null & echo $! >%s; "
      .. "wait $!; echo $? >%s' >/dev/null 2>&1 & sleep 0.2; cat %s"):format(H.key, args:gsub("'", "'\\''"),
      H.sh_quote(log), H.sh_quote(dir .. "/pid"), H.sh_quote(rc), H.sh_quote(dir .. "/pid"))))
    local pid = assert(tonumber(p:read("*a"):match("%d+")), "no pid")
    p:close()
    return pid, function()
      for _ = 1, 600 do
        local v = read(rc)
        if v and v:match("%d") then return tonumber(v:match("%d+")) end
        sleep(0.05)
      end
      error("bin/stt did not exit")
    end
  end

  it("stops cleanly on Ctrl-C (SIGINT) or SIGTERM: one line, the journal kept, exit 130; a rerun resumes", function()
    for _, sig in ipairs({ "INT", "TERM" }) do
      H.reset()
      H.config({ queue_ms = 60000 })                   -- every task waits in the queue
      local urls = make_batch(dir, 6, "int" .. sig)
      local out = dir .. "/out" .. sig
      local jpath = out .. "/stt-journal.jsonl"
      local args = ("transcribe %s -f srt -o %s -j 3 @%s"):format(base(), H.sh_quote(out),
        H.sh_quote(dir .. "/list.txt"))
      local pid, exit_status = spawn_stt(args, dir .. "/int.log")
      for _ = 1, 400 do
        if journal_counts(jpath).task == 3 then break end
        sleep(0.05)
      end
      assert.equal(3, journal_counts(jpath).task, "three tasks submitted")
      os.execute(("kill -%s %d"):format(sig, pid))
      assert.equal(130, exit_status())
      local log = read(dir .. "/int.log")
      assert.matches("stt: interrupted: 0 done, 3 submitted and still running; "
        .. "rerun the same command to resume\n$", log)
      assert.is_nil(log:find("traceback", 1, true), log)
      assert.is_nil(log:find("lua5.4:", 1, true), log)
      local note
      for l in read(jpath):gmatch("[^\n]+") do
        local r = core.json_decode(l)
        if r.t == "note" and r.cmd == "interrupted" then note = r end
      end
      assert.truthy(note, "the journal records the interruption")
      assert.equal(sig, note.signal)
      assert.equal(3, note.running)
      -- The held tasks finish; the same command resumes them and submits the other three.
      H.config({ queue_ms = 0 })
      for l in read(jpath):gmatch("[^\n]+") do
        local r = core.json_decode(l)
        if r.t == "task" then H.advance(r.task.id, "done") end
      end
      local code, _, err = stt(args, nil, dir)
      assert.equal(0, code, err)
      assert.matches("6 of 6 done %(0 from earlier runs%), 0 failed", err)
      local resumed = 0
      for _ in err:gmatch("stt: resumed ") do resumed = resumed + 1 end
      assert.equal(3, resumed)
      for _, u in ipairs(urls) do assert.equal(1, H.stats().submissions[u]) end
    end
  end)

  it("after Ctrl-C, a submit already on the wire gets its answer into the journal before exiting", function()
    H.config({ queue_ms = 60000 })
    local u = H.media("int_slow", 1, "Slow submit.")
    H.fault({ path = "/dashscope/api/v1/services/audio/asr/transcription", type = "slow", delay_ms = 1500 })
    local out = dir .. "/out"
    local pid, exit_status = spawn_stt(("transcribe %s -f srt -o %s %s"):format(base(), H.sh_quote(out),
      H.sh_quote(u)), dir .. "/slow.log")
    local jpath = out .. "/stt-journal.jsonl"
    for _ = 1, 200 do
      if journal_counts(jpath).intent == 1 then break end
      sleep(0.02)
    end
    assert.equal(1, journal_counts(jpath).intent)
    assert.equal(0, journal_counts(jpath).task)        -- the submit is in flight
    os.execute(("kill -INT %d"):format(pid))
    assert.equal(130, exit_status())
    assert.equal(1, journal_counts(jpath).task)        -- its answer was recorded
    assert.matches("stt: interrupted: 0 done, 1 submitted and still running;", read(dir .. "/slow.log"))
  end)

  it("draws a live bar with counts, failures and ETA on a terminal", function()
    local u1 = H.media("tty1", 1, "Terminal one.")
    local missing = H.sim_url .. "/media/no-such-file.wav"
    local cmd = ("DASHSCOPE_API_KEY=%s bin/stt transcribe %s -f srt -o %s %s %s"):format(H.key, base(),
      H.sh_quote(dir .. "/out"), H.sh_quote(u1), H.sh_quote(missing))
    local p = assert(H.popen("script -qfec " .. H.sh_quote(cmd) .. " /dev/null; echo rc=$?"))
    local out = p:read("*a")
    p:close()
    assert.matches("rc=1%s*$", out)
    assert.truthy(out:find("\r\27[K[", 1, true))
    assert.matches("%[%.+%] 0/2 done, 0 failed, %d running, %d:%d%d elapsed, ETA %-%-:%-%-", out)
    assert.matches("%[#+%] 1/2 done, 1 failed, 0 running", out)
    assert.matches("FAILED " .. missing:gsub("%p", "%%%0") .. ": task_failed %[InvalidFile.DownloadFailed%]", out)
    assert.matches("1 of 2 done %(0 from earlier runs%), 1 failed", out)
  end)

  it("--json writes one event per line on stdout; --quiet prints failures only", function()
    local u1, u2 = H.media("js1", 1, "Json one."), H.media("js2", 1, "Json two.")
    local missing = H.sim_url .. "/media/absent.wav"
    local code, out, err = stt(("transcribe %s --json -f txt -o %s %s %s %s"):format(base(),
      H.sh_quote(dir .. "/out"), u1, u2, missing), nil, dir)
    assert.equal(1, code)
    assert.equal("", err)
    local evs, by = {}, {}
    for _, l in ipairs(lines(out)) do
      local ev = assert(core.json_decode(l), l)
      evs[#evs + 1] = ev
      by[ev.event] = (by[ev.event] or 0) + 1
    end
    assert.same({ submitted = 3, done = 2, failed = 1, summary = 1 }, by)
    local summary = evs[#evs]
    assert.same({ "summary", 3, 2, 1 }, { summary.event, summary.total, summary.succeeded, summary.failed })
    for _, ev in ipairs(evs) do
      if ev.event == "failed" then
        assert.equal(missing, ev.input)
        assert.equal("task_failed", ev.error.kind)
        assert.equal("InvalidFile.DownloadFailed", ev.error.code)
      elseif ev.event == "done" then
        assert.equal(dir .. "/out/" .. (ev.input == u1 and "js1" or "js2") .. ".txt", ev.outputs[1])
      end
    end
    assert.matches("Json two", read(dir .. "/out/js2.txt"))
    H.reset()
    code, out, err = stt(("transcribe %s --quiet -f txt -o %s %s %s"):format(base(),
      H.sh_quote(dir .. "/q"), u1, missing), nil, dir)
    assert.equal(1, code)
    assert.equal("", out)
    local l = lines(err)
    assert.equal(2, #l, err)
    assert.matches("^stt: %[%d/2%] FAILED .*absent%.wav: task_failed", l[1])
    assert.matches("^stt: 1 of 2 done", l[2])
  end)

  it("exit status 2 and one line naming the problem for bad input; nothing is submitted", function()
    local good = H.media("good", 1, "Good file.")
    write(dir .. "/bad-list.txt", good .. "\nnot a url\n")
    write(dir .. "/hot.txt", "alpha\n")
    write(dir .. "/empty.txt", "# nothing here yet\n\n")
    local cases = {
      { "transcribe " .. base() .. " @" .. dir .. "/empty.txt",
        "list file " .. dir:gsub("%p", "%%%0") .. "/empty%.txt holds no inputs" },
      { "transcribe " .. base() .. " @" .. dir .. "/nonexistent.txt", "cannot read list file" },
      { "transcribe " .. base() .. " @" .. dir .. "/bad-list.txt", "no such file not a url %(line 2 of" },
      { "transcribe " .. base() .. " " .. good .. " ftp://host/a.wav", 'malformed URL "ftp://host/a.wav"' },
      { "transcribe " .. base() .. " " .. good .. " http:///a.wav", "no host" },
      { "transcribe --frobnicate " .. good, "unknown option '%-%-frobnicate'" },
      { "transcribe -p nosuch " .. good, 'unknown provider "nosuch"' },
      { "transcribe -f srt,docx " .. good, 'unknown format "docx"' },
      { "transcribe -j 0 " .. good, "%-%-concurrency must be an integer" },
      { "transcribe " .. base() .. " --hotwords " .. dir .. "/none.txt " .. good, "hotwords file" },
      { "transcribe " .. base(), "no input" },
      { "frobnicate", "unknown command 'frobnicate'" },
      { "transcribe " .. base() .. " " .. good, "no API key for dashscope: set DASHSCOPE_API_KEY",
        "env -u DASHSCOPE_API_KEY" },
      { "resume " .. dir .. "/bad-list.txt", "holds no batch" },
    }
    for _, c in ipairs(cases) do
      local code, out, err = stt(c[1] .. " -o " .. H.sh_quote(dir .. "/o"), c[3], dir)
      assert.equal(2, code, c[1] .. " -> " .. err)
      assert.equal("", out)
      local l = lines(err)
      assert.equal(1, #l, err)
      assert.matches("^stt: .*" .. c[2], l[1])
    end
    -- options the provider refuses are found before anything is sent
    local code, _, err = stt("transcribe " .. base() .. " -m sensevoice-v1 --speakers 2 -o " .. dir .. "/s "
      .. good, nil, dir)
    assert.equal(2, code)
    assert.matches("^stt: unsupported: option \"speakers\"[^\n]*sensevoice%-v1[^\n]*\n$", err)
    -- --hotwords with a file that exists: stt.hotwords reads it and the client validates it
    code, _, err = stt("transcribe " .. base() .. " --hotwords " .. dir .. "/hot.txt -o " .. dir .. "/h "
      .. H.media("hw", 1, "Hot words."), nil, dir)
    assert.equal(0, code, err)
    H.reset()                                            -- the hot-word run may have submitted
    for _, c in ipairs(cases) do stt(c[1], c[3], dir) end
    assert.equal(0, submits())
    assert.same({}, H.stats().submissions)
  end)

  it("an unknown submit outcome is reported, not repeated; --force resubmits it", function()
    local url = H.media("unk", 1, "Unknown outcome.")
    local args = ("transcribe %s -f txt -o %s %s"):format(base(), H.sh_quote(dir .. "/out"), url)
    H.fault({ path = "/dashscope/api/v1/services/audio/asr/transcription", count = 1, type = "reset" })
    local code, _, err = stt(args, nil, dir)
    assert.equal(1, code)
    assert.matches("FAILED .*unk%.wav: network", err)
    local before = submits()
    code, _, err = stt(args, nil, dir)
    assert.equal(1, code)
    assert.matches("FAILED .*unk%.wav: invalid %[JournalUnknown%]: .*may have been submitted", err)
    assert.equal(before, submits())
    local scode, sout = stt("status " .. H.sh_quote(dir .. "/out/stt-journal.jsonl"), nil, dir)
    assert.equal(0, scode)
    assert.matches("unknown .* " .. url:gsub("%p", "%%%0") .. "  %(may have been submitted", sout)
    code, _, err = stt(args .. " --force", nil, dir)
    assert.equal(0, code, err)
    assert.equal(before + 1, submits())
    assert.matches("Unknown outcome", read(dir .. "/out/unk.txt"))
  end)

  it("status, resume, providers, --help and --version", function()
    local u1, u2 = H.media("st1", 1, "Status one."), H.media("st2", 1, "Status two.")
    local jpath = dir .. "/out/stt-journal.jsonl"
    local code, _, err = stt(("transcribe %s -f srt -o %s %s %s"):format(base(), H.sh_quote(dir .. "/out"), u1, u2),
      nil, dir)
    assert.equal(0, code, err)
    local out
    code, out = stt("status " .. H.sh_quote(jpath), nil, dir)
    assert.equal(0, code)
    assert.matches("succeeded +%S+ +" .. u1:gsub("%p", "%%%0"), out)
    assert.matches(": 2 succeeded\n$", out)
    -- a task id: polled at the provider
    local id
    for _, l in ipairs(lines(read(jpath))) do
      local r = core.json_decode(l)
      if r.t == "task" then id = r.task.id end
    end
    code, out = stt("status " .. base() .. " " .. id, nil, dir)
    assert.equal(0, code)
    assert.equal(id .. " succeeded\n", out)
    -- the provider's own list finds the tasks even without the journal
    code, out = stt("status --list " .. base(), nil, dir)
    assert.equal(0, code)
    assert.matches("succeeded +" .. id:gsub("%p", "%%%0") .. " +paraformer%-v2", out)
    assert.matches("dashscope: 2 task%(s%) in the last 24 h", out)
    code, out = stt("status --list --json --state FAILED " .. base(), nil, dir)
    assert.equal(0, code)
    assert.equal("", out)
    code, _, err = stt("status " .. base() .. " 00000000-no-such-task", nil, dir)
    assert.equal(1, code)
    assert.matches("not_found", err)
    -- resume re-runs the batch the journal recorded: outputs deleted are written again, nothing resubmitted
    os.remove(dir .. "/out/st2.srt")
    local before = submits()
    code, _, err = stt("resume " .. H.sh_quote(jpath), nil, dir)
    assert.equal(0, code, err)
    assert.matches("2 of 2 done %(1 from earlier runs%)", err)
    assert.matches("Status two", read(dir .. "/out/st2.srt"))
    assert.equal(before, submits())
    code, out = stt("providers", nil, dir)
    assert.equal(0, code)
    assert.matches("dashscope +key: DASHSCOPE_API_KEY +base URL: DASHSCOPE_HTTP_BASE_URL", out)
    assert.matches("volcengine%-auc +key: VOLC_API_KEY | VOLC_APP_KEY%+VOLC_ACCESS_KEY +base URL: VOLC_AUC_BASE_URL",
      out)
    code, out = stt("--help", nil, dir)
    assert.equal(0, code)
    assert.matches("^Usage: stt ", out)
    assert.matches("transcribe +Transcribe inputs", out)
    code, out = stt("--version", nil, dir)
    assert.equal(0, code)
    assert.matches("^stt " .. core._VERSION:gsub("%p", "%%%0"), out)
  end)

  it("stt status marks the states of a journal that was not closed cleanly as last known", function()
    local u1, u2 = H.media("lk1", 1, "Last known one."), H.media("lk2", 1, "Last known two.")
    local jpath = dir .. "/out/stt-journal.jsonl"
    local code, _, err = stt(("transcribe %s -f srt -o %s %s"):format(base(), H.sh_quote(dir .. "/out"), u1),
      nil, dir)
    assert.equal(0, code, err)
    local out
    code, out = stt("status " .. H.sh_quote(jpath), nil, dir)
    assert.equal(0, code)
    assert.is_nil(out:find("last known", 1, true))           -- closed cleanly: states are final
    -- A run killed while its task waits leaves a running task behind, without the close marker.
    H.config({ queue_ms = 60000 })
    local p = assert(H.popen(("sh -c 'DASHSCOPE_API_KEY=%s bin/stt transcribe %s -f srt -o %s %s %s "
      .. ">/dev/null 2>&1 & echo $!'"):format(H.key, base(), H.sh_quote(dir .. "/out"), u1, u2)))
    local pid = tonumber(p:read("*l"))
    p:close()
    for _ = 1, 200 do
      if journal_counts(jpath).task == 2 then break end
      sleep(0.05)
    end
    os.execute(("kill -9 %d; while kill -0 %d 2>/dev/null; do sleep 0.02; done"):format(pid, pid))
    code, out = stt("status " .. H.sh_quote(jpath), nil, dir)
    assert.equal(0, code)
    assert.matches("queued%* +%S+ +" .. u2:gsub("%p", "%%%0"), out)
    assert.matches("succeeded +%S+ +" .. u1:gsub("%p", "%%%0"), out)   -- terminal states are kept as they are
    assert.matches("%* last known state: the journal was not closed cleanly", out)
    code, out = stt("status --json " .. H.sh_quote(jpath), nil, dir)
    assert.equal(0, code)
    assert.matches('"last_known":true', out)
    assert.matches('"closed":false', out)
  end)

  it("works through a symlink to bin/stt", function()
    local link = dir .. "/bin/stt"
    os.execute(("mkdir -p %s && ln -s %s/bin/stt %s"):format(H.sh_quote(dir .. "/bin"), H.sh("pwd"):gsub("%s+$", ""),
      H.sh_quote(link)))
    local out = H.sh(("cd %s && env -u LUA_PATH -u LUA_CPATH %s --version"):format(H.sh_quote(dir), H.sh_quote(link)))
    assert.matches("^stt " .. core._VERSION:gsub("%p", "%%%0") .. " %(lua%-stt", out)
  end)

  it("estimates the time left from the completion rate, not from the time elapsed", function()
    -- 20 inputs, 8 at once, each taking 10 s: when the first wave of 8 has just finished (10 s in),
    -- 12 are left for 8 lanes: about 15 s (elapsed/finished x left would say 15 s only by chance
    -- of this wave; with one input done it says 190 s).
    assert.is_nil(cli.estimate(nil, {}, 20, 8))
    local ages = {}
    for k = 1, 8 do ages[k] = 0 end
    assert.equal(15, cli.estimate(10, ages, 4, 8))           -- 8 just started, 4 waiting: (80 + 40) / 8
    assert.equal(10, cli.estimate(10, { 0 }, 0, 8))          -- the last one just started
    assert.equal(1, cli.estimate(10, { 9 }, 0, 8))           -- the last one nearly done
    assert.equal(0, cli.estimate(10, { 30 }, 0, 8))          -- running longer than average: no negative time
    assert.equal(50, cli.estimate(10, { 5, 5 }, 9, 2))       -- 2 lanes: (5 + 5 + 90) / 2
  end)

  it("transcribes through volcengine-auc (client-chosen ids, app + access keys from the environment)", function()
    local d = tmpdir()
    local url = H.media("cli_auc", 1, "Through the other provider.")
    local env = "VOLC_APP_KEY=sim-app-0001 VOLC_ACCESS_KEY=sim-access-key-0001"
    local code, _, err = stt(("transcribe -q -p volcengine-auc --base-url %s -f txt -o %s %s"):format(
      H.sh_quote(H.sim_url .. "/auc/api/v3"), H.sh_quote(d .. "/out"), H.sh_quote(url)), env, d)
    assert.equal(0, code, err)
    assert.matches("Through the other provider", read(d .. "/out/cli_auc.txt") or "")
  end)

  it("names outputs from the URL's file name, safe and unique", function()
    assert.equal("talk", cli.base_name("https://h/a/talk.mp3?sig=x#t"))
    assert.equal("my_talk_1", cli.base_name("https://h/my%20talk%3B1.wav"))
    assert.equal("etc_passwd", cli.base_name("https://h/..%2F..%2Fetc%2Fpasswd"))
    assert.equal("audio", cli.base_name("https://h/"))
    assert.equal("hidden", cli.base_name("https://h/.hidden"))
    assert.equal("audio", cli.base_name("https://h/.wav"))
    assert.equal("会议", cli.base_name("https://h/%E4%BC%9A%E8%AE%AE.wav"))
    assert.is_true(#cli.base_name("https://h/" .. ("x"):rep(300) .. ".wav") <= 80)
    assert.same({ "a", "a-2", "A-3", "b" },
      cli.unique_names({ "http://h1/a.wav", "http://h2/a.mp3", "http://h3/A.wav", "http://h/b.wav" }))
  end)
end)

describe("bin/stt --help of a command", function()
  it("shows the help even where the command takes an argument, and asks for the argument otherwise", function()
    local dir = H.tmpdir()
    for _, c in ipairs({ "transcribe", "resume", "status", "score", "compare", "render", "enqueue", "worker" }) do
      local code, out = stt(c .. " --help", nil, dir)
      assert.equal(0, code, c)
      assert.matches("Usage: stt " .. c, out, 1, c)
    end
    local code, _, err = stt("resume", nil, dir)
    assert.equal(2, code)
    assert.matches("takes the journal", err)
  end)
end)
