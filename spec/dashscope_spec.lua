-- The client end to end against the simulator: blocking and under stt.run, retries, deadlines,
-- batch failures, restored tasks, and no API key in any error or event.
local H = require "helper"
local stt = require "stt"
local core = require "stt.core"

local function client(opts)
  return H.client("dashscope", { api_key = H.key, base_url = H.ds_base }, opts)
end

local EN = "Hello world. This is a simulated transcript! Does it work? Yes it does."

describe("client (dashscope, against the simulator)", function()
  before_each(H.quick_sim)

  it("transcribes one file, blocking, into a normalized Result", function()
    local url = H.media("en1", 2, EN)
    local c = client()
    local res, err = c:transcribe({ url = url, language = "en" })
    assert.is_nil(err)
    assert.equal("dashscope", res.provider)
    assert.equal("paraformer-v2", res.model)
    assert.is_string(res.task_id)
    assert.matches("Hello world", res.text)
    assert.is_true(#res.segments >= 3)
    local prev = -1
    for _, s in ipairs(res.segments) do
      assert.is_true(s.start_ms == math.floor(s.start_ms) and s.end_ms >= s.start_ms)
      assert.is_true(s.start_ms >= prev)
      prev = s.start_ms
      assert.is_true(#s.words >= 1)
    end
    assert.is_true(res.duration_ms >= 1990 and res.duration_ms <= 2010)
    local st = H.stats()
    assert.equal(0, st.result_fetch_auth_rejected or 0)
  end)

  it("runs 100 one-second jobs in about one second under stt.run", function()
    H.config({ queue_ms = 0, rtf = 1.0, min_run_ms = 0 })
    local url = H.media("one_second", 1, "One second of talk.")
    -- The scheduler's concurrency, not the provider's QPS (spec/ratelimit_spec.lua): no limit.
    local c = client({ poll_first = 0.2, rate_limit = false })
    local jobs = {}
    for i = 1, 100 do jobs[i] = { url = url } end
    local t0 = core.now()
    local out = c:transcribe_all(jobs, { concurrency = 100 })
    local took = core.now() - t0
    assert.equal(100, #out)
    for i = 1, 100 do
      assert.is_nil(out[i].error, out[i].error and tostring(out[i].error))
      assert.matches("One second", out[i].result.text)
    end
    -- one after the other they would take ~30 s
    assert.is_true(took < 10, "100 one-second jobs took " .. took .. " s")
  end)

  it("a task restored from JSON can be waited on by another client", function()
    local url = H.media("restore", 1, "Restored task works.")
    local task = assert(client():submit({ url = url }))
    local copy = H.json(H.encode(task))
    local res = assert(client():wait(copy))
    assert.matches("Restored", res.text)
  end)

  it("retries a throttled submit and honours Retry-After", function()
    local url = H.media("thr", 1, "Throttled once.")
    H.fault({ path = "/dashscope/api/v1/services/audio/asr/transcription", count = 1, type = "429",
              retry_after = 1 })
    local events = {}
    local c = client({ on_event = function(ev) events[#events + 1] = ev end })
    local t0 = core.now()
    local task = assert(c:submit({ url = url }))
    assert.is_true(core.now() - t0 >= 0.99)
    assert.is_string(task.id)
    local retry
    for _, ev in ipairs(events) do if ev.type == "retry" then retry = ev end end
    assert.equal("throttled", retry.error.kind)
    assert.equal(1, retry.error.retry_after)
  end)

  it("does not sleep through a Retry-After longer than max_retry_wait: the caller gets the error", function()
    H.fault({ path = "/dashscope/api/v1/services/audio/asr/transcription", count = 1, type = "429",
              retry_after = 86400 })
    local c = client({ max_retry_wait = 20 })
    local t0 = core.now()
    local task, err = c:submit({ url = H.media("thr_long", 1, "Throttled for a day.") })
    assert.is_nil(task)
    assert.is_true(core.now() - t0 < 10, "submit slept " .. (core.now() - t0) .. " s")
    assert.equal("throttled", err.kind)
    assert.is_true(err.retryable)
    assert.equal(86400, err.retry_after)
  end)

  it("retries polls that fail with 500 and 503", function()
    local url = H.media("p500", 1, "Polls fail twice.")
    local c = client()
    local task = assert(c:submit({ url = url }))
    H.fault({ path = "/dashscope/api/v1/tasks", count = 1, type = "500" })
    H.fault({ path = "/dashscope/api/v1/tasks", count = 1, type = "503" })
    local res, err = c:wait(task)
    assert.is_nil(err)
    assert.matches("Polls fail", res.text)
  end)

  it("gives up after `retries` and says the error is retryable", function()
    H.fault({ path = "/dashscope/api/v1/services/audio/asr/transcription", count = 10, type = "500" })
    local c = client({ retries = 1 })
    local task, err = c:submit({ url = H.media("gu", 1, "x") })
    assert.is_nil(task)
    assert.equal("server", err.kind)
    assert.equal(500, err.status)
    assert.is_true(err.retryable)
  end)

  it("never repeats a submit whose outcome is unknown (connection reset)", function()
    local c = client()
    assert(c:submit({ url = H.media("rst0", 1, "x") }))   -- leaves a keep-alive connection to reuse
    local before = H.stats().requests or {}
    H.fault({ path = "/dashscope/api/v1/services/audio/asr/transcription", count = 1, type = "reset" })
    local task, err = c:submit({ url = H.media("rst", 1, "x") })
    assert.is_nil(task)
    assert.is_false(err.retryable)
    assert.is_true(err.ambiguous)
    local after = H.stats().requests or {}
    local k = "POST /dashscope/api/v1/services/audio/asr/transcription"
    assert.equal((before[k] or 0) + 1, after[k])
  end)

  it("waits poll_first before polling a fresh task, and polls a restored one at once", function()
    H.config({ queue_ms = 0, rtf = 10, min_run_ms = 0 })
    local first
    local c = client({ poll_first = 2, on_event = function(ev)
      if ev.type == "poll" and not first then first = core.now() end
    end })
    local task = assert(c:submit({ url = H.media("pf", 2, "Poll timing.") }))
    local t0 = core.now()
    c:wait(task, { timeout = 2.2 })
    assert.is_true(first - t0 >= 1.99, "first poll after " .. (first - t0) .. " s")
    first = nil
    task.submitted_at = os.time() - 60          -- as if restored from an earlier run
    t0 = core.now()
    c:wait(task, { timeout = 0.1 })
    assert.is_true(first - t0 < 1, "restored task first polled after " .. (first - t0) .. " s")
  end)

  it("honours the wait deadline", function()
    H.config({ queue_ms = 0, rtf = 10, min_run_ms = 0 })
    local c = client()
    local task = assert(c:submit({ url = H.media("long", 2, "Long job.") }))
    local t0 = core.now()
    local res, err = c:wait(task, { timeout = 0.5 })
    assert.is_nil(res)
    assert.equal("timeout", err.kind)
    assert.is_true(err.retryable)
    assert.is_true(core.now() - t0 < 5)                 -- the task itself runs 20 s
  end)

  it("reports a batch with a failed file per file", function()
    local ok1 = H.media("b1", 1, "First file.")
    local ok2 = H.media("b2", 1, "Second file.")
    local c = client({ model = "sensevoice-v1" })
    local res = assert(c:transcribe({ urls = { ok1, H.sim_url .. "/media/missing.wav", ok2 } }))
    assert.equal(3, #res.files)
    assert.matches("First", res.files[1].result.text)
    assert.equal("task_failed", res.files[2].error.kind)
    assert.equal("InvalidFile.DownloadFailed", res.files[2].error.code)
    assert.matches("Second", res.files[3].result.text)
    assert.is_nil(res.text:find("<|", 1, true))
  end)

  it("transcribes with qwen3-asr-flash-filetrans", function()
    local c = client({ model = "qwen3-asr-flash-filetrans" })
    local res = assert(c:transcribe({ url = H.media("q1", 2, EN), language = "en", words = true }))
    assert.matches("Hello world", res.text)
    assert.is_true(#res.segments >= 1)
    assert.equal("qwen3-asr-flash-filetrans", res.model)
  end)

  it("fails the whole task when its only file cannot be downloaded", function()
    local res, err = client():transcribe({ url = H.sim_url .. "/media/nope.wav" })
    assert.is_nil(res)
    assert.equal("task_failed", err.kind)
  end)

  it("answers a task the service does not know with not_found", function()
    local res, err = client():wait({ id = "00000000-0000-0000-0000-000000000000", model = "paraformer-v2" })
    assert.is_nil(res)
    assert.equal("not_found", err.kind)
  end)

  it("cancels a queued task", function()
    H.config({ queue_ms = 5000 })
    local c = client()
    local task = assert(c:submit({ url = H.media("cx", 1, "x") }))
    assert.is_true(c:cancel(task))
    local st = assert(c:poll(task))
    assert.equal("canceled", st.state)
    assert.equal("canceled", st.error.kind)
  end)

  it("refuses options the model does not support, before any request", function()
    local before = H.stats().requests or {}
    local task, err = client():submit({ url = "http://x/a.wav", itn = true })
    assert.is_nil(task)
    assert.equal("unsupported", err.kind)
    assert.matches("itn", err.message)
    assert.same(before, H.stats().requests or {})
  end)

  it("never shows the API key in errors, events or tostring", function()
    local secret = "sk-sim-SECRET-canary-7f3a"
    local seen, on_event = H.event_log()
    local c = stt.client("dashscope", { api_key = secret, base_url = H.ds_base, retries = 1, on_event = on_event })
    local task, err = c:submit({ url = H.media("k", 1, "x") })
    assert.is_nil(task)
    assert.equal("auth", err.kind)
    assert.is_false(err.retryable)
    H.assert_secret_hidden(secret, err, c, seen)
  end)

  it("stt.parse normalizes a body obtained elsewhere (sans I/O)", function()
    local body = [[{"file_url":"https://h/a.wav","properties":{"original_duration_in_milliseconds":1500},
      "transcripts":[{"channel_id":0,"text":"<|Speech|> Hi there. <|/Speech|> <|HAPPY|>",
      "sentences":[{"begin_time":0,"end_time":1400,"text":"<|Speech|> Hi there. <|/Speech|> <|HAPPY|>"}]}]}]]
    local res = assert(stt.parse("dashscope", body, { kind = "result", model = "sensevoice-v1" }))
    assert.equal("Hi there.", res.text)
    assert.equal("happy", res.segments[1].emotion)
    local none, err = stt.parse("dashscope", "{oops", { kind = "result" })
    assert.is_nil(none)
    assert.equal("protocol", err.kind)
    assert.matches("dashscope parse", tostring(err))
  end)

  it("says which key is missing", function()
    local c = stt.client("dashscope", { api_key = false, base_url = H.ds_base })
    local task, err = c:submit({ url = "http://x/a.wav" })
    assert.is_nil(task)
    assert.equal("auth", err.kind)
    assert.matches("DASHSCOPE_API_KEY", err.message)
  end)
  it("transcribes qwen-audio filetrans and fun-asr-mtl (file_urls family)", function()
    local url = H.media("qa1", 2, EN)
    for _, m in ipairs({ "qwen-audio-3.1-asr-flash-filetrans", "fun-asr-mtl", "fun-asr-2025-11-07" }) do
      local res = assert(client({ model = m }):transcribe({ url = url, language = "en" }))
      assert.matches("Hello world", res.text)
      assert.equal(m, res.model)
      assert.same({ url }, H.sim_task(res.task_id).urls)
    end
  end)

  it("refuses a model it does not know before any request, unless the client names its family", function()
    local before = H.stats().requests or {}
    local task, err = client({ model = "paraformer-realtime-v2" }):submit({ url = H.media("fam", 1, "x") })
    assert.is_nil(task)
    assert.equal("unsupported", err.kind)
    assert.matches("known families", err.message)
    assert.same(before, H.stats().requests or {})
    -- with a family the request goes out; the simulator (like the service) knows no such model
    task, err = client({ model = "paraformer-v3", family = "paraformer" }):submit({ url = H.media("fam", 1, "x") })
    assert.is_nil(task)
    assert.equal("invalid", err.kind)
    assert.equal("InvalidParameter", err.code)
    assert.matches("Model not exist", err.message)
  end)

  it("words = true sends no field for paraformer and the result has words", function()
    local res = assert(client():transcribe({ url = H.media("w1", 2, EN), words = true }))
    assert.is_true(#res.segments[1].words >= 1)
    assert.same({}, H.sim_task(res.task_id).raw_parameters)
  end)

  it("sensitive_words_filter reaches the service as a JSON string and filters the result", function()
    local url = H.media("swf", 3, "This is a secret plan. We start it now.")
    local res = assert(client():transcribe({ url = url, sensitive_words_filter = {
      filter_with_signed = { "secret" }, filter_with_empty = { "now" }, system_reserved_filter = true } }))
    assert.matches("This is a %*%*%*%*%*%* plan%.", res.text)
    assert.is_nil(res.text:find("secret", 1, true))
    assert.is_nil(res.text:find("now", 1, true))
    assert.equal('{"filter_with_signed":{"word_list":["secret"]},"filter_with_empty":{"word_list":["now"]},'
      .. '"system_reserved_filter":true}', H.sim_task(res.task_id).raw_parameters.special_word_filter)
  end)

  it("audio_events: sensevoice always tags them; paraformer refuses before any request", function()
    local c = client({ model = "sensevoice-v1" })
    local res = assert(c:transcribe({ url = H.media("ev", 2, EN), audio_events = true }))
    assert.matches("Hello world", res.text)
    local task, err = client():submit({ url = "http://x/a.wav", audio_events = true })
    assert.is_nil(task)
    assert.equal("unsupported", err.kind)
    assert.matches("audio_event_detection_enabled", err.message)
  end)

  describe("oss:// inputs (temporary storage)", function()
    -- <media dir>/oss/<key>: where the simulator resolves oss://<key> (its upload endpoint writes there)
    local function oss_file(key, text)
      local path = H.sim_dir .. "/media/oss/" .. key
      assert(os.execute("mkdir -p " .. H.sh_quote(path:match("^(.*)/[^/]*$"))))
      H.media("oss_src", 2, text)
      H.write(path, assert(H.read(H.sim_dir .. "/media/oss_src.wav")))
      H.write((path:gsub("%.wav$", ".txt")), text)
    end

    it("are resolved: the client sends X-DashScope-OssResourceResolve: enable", function()
      oss_file("dashscope-instant/acc1/2026-01-01/talk.wav", "Uploaded file works.")
      for _, m in ipairs({ "paraformer-v2", "qwen3-asr-flash-filetrans" }) do
        local res = assert(client({ model = m }):transcribe({
          url = "oss://dashscope-instant/acc1/2026-01-01/talk.wav" }))
        assert.matches("Uploaded file works", res.text)
      end
    end)

    it("a missing oss:// object fails the task like an undownloadable file", function()
      local res, err = client():transcribe({ url = "oss://dashscope-instant/acc1/none.wav" })
      assert.is_nil(res)
      assert.equal("task_failed", err.kind)
      assert.equal("InvalidFile.DownloadFailed", err.code)
    end)
  end)

  describe("workspace", function()
    it("X-DashScope-WorkSpace rides on submit, poll, cancel, list and vocabulary calls, not on result fetches",
      function()
        H.config({ workspaces = { "ws-1" } })
        local c = client({ workspace = "ws-1" })
        local res = assert(c:transcribe({ url = H.media("ws", 1, "In a workspace.") }))
        assert.matches("In a workspace", res.text)
        assert.is_nil(H.stats().last_headers["x-dashscope-workspace"])   -- the last request: the result fetch
        H.config({ queue_ms = 60000 })
        local task = assert(c:submit({ url = H.media("ws2", 1, "Queued.") }))
        assert.is_true(c:cancel(task))
        assert(c:list_tasks())
        assert(c:vocabulary_create({ target_model = "paraformer-v2", prefix = "ws",
                                     vocabulary = { { text = "Lua" } } }))
        local seen = H.stats().dashscope_workspace
        for _, op in ipairs({ "submit", "query", "cancel", "list", "vocabulary" }) do
          assert.is_true((seen[op .. " ws-1"] or 0) >= 1, op)
          assert.is_nil(seen[op .. " -"], op)
        end
      end)

    it("a workspace the account lacks answers 404 WorkSpaceNotFound", function()
      H.config({ workspaces = { "ws-1" } })
      local task, err = client({ workspace = "ws-9" }):submit({ url = H.media("ws3", 1, "x") })
      assert.is_nil(task)
      assert.equal("not_found", err.kind)
      assert.equal("WorkSpaceNotFound", err.code)
    end)
  end)

  describe("a SUCCEEDED answer without results", function()
    it("is retried: the next poll brings the results", function()
      local events = {}
      local c = client({ on_event = function(ev) events[#events + 1] = ev end })
      local task = assert(c:submit({ url = H.media("nr", 1, "Results come later.") }))
      H.advance(task.id, "done")
      H.config({ succeeded_without_results = 1 })
      local res = assert(c:wait(task))
      assert.matches("Results come later", res.text)
      local retry
      for _, ev in ipairs(events) do if ev.type == "retry" then retry = ev end end
      assert.equal("protocol", retry.error.kind)
      assert.matches("SUCCEEDED but its answer lists no results", retry.error.message)
    end)

    it("is a retryable protocol error, never an empty success", function()
      local c = client({ retries = 0 })
      local task = assert(c:submit({ url = H.media("nr2", 1, "Never listed.") }))
      H.advance(task.id, "done")
      H.config({ succeeded_without_results = 5 })
      local st, err = c:poll(task)
      assert.is_nil(st)
      assert.same({ "protocol", true }, { err.kind, err.retryable })
      assert.matches("SUCCEEDED but its answer lists no results", err.message)
    end)
  end)

  describe("list_tasks", function()
    it("finds three tasks whose ids were lost, and each can be waited on", function()
      local c = client()
      local urls = { H.media("l1", 1, "First listed."), H.media("l2", 1, "Second listed."),
                     H.media("l3", 1, "Third listed.") }
      local models = { "paraformer-v2", "fun-asr", "paraformer-v2" }
      for i = 1, 3 do assert(c:submit({ url = urls[i], model = models[i] })) end   -- ids dropped
      local out = assert(c:list_tasks())
      assert.same({ 1, 1, 3 }, { out.page, out.pages, out.total })
      assert.equal(3, #out.tasks)
      local texts = {}
      for _, t in ipairs(out.tasks) do
        assert.is_string(t.id)
        assert.equal("dashscope", t.provider)
        assert.is_true(math.abs(t.submitted_at - os.time()) < 120)
        local res = assert(c:wait(t))
        texts[#texts + 1] = res.text
      end
      table.sort(texts)
      assert.same({ "First listed.", "Second listed.", "Third listed." }, texts)
    end)

    it("filters by status, model and time, and pages", function()
      H.config({ queue_ms = 60000 })            -- the tasks stay queued; the first is moved on
      local c = client()
      local ids = {}
      for i = 1, 3 do
        ids[i] = assert(c:submit({ url = H.media("lf" .. i, 1, "Listed " .. i .. "."),
                                   model = i == 2 and "fun-asr" or "paraformer-v2" })).id
      end
      H.advance(ids[1], "done")
      local done = assert(c:list_tasks({ status = "succeeded" }))
      assert.equal(ids[1], done.tasks[1].id)
      assert.equal("succeeded", done.tasks[1].state)
      local fun = assert(c:list_tasks({ model = "fun-asr" }))
      assert.same({ 1, ids[2], "fun-asr" }, { fun.total, fun.tasks[1].id, fun.tasks[1].model })
      local p1 = assert(c:list_tasks({ page_size = 2 }))
      local p2 = assert(c:list_tasks({ page_size = 2, page = 2 }))
      assert.same({ 2, 2, 1, 3 }, { #p1.tasks, p1.pages, #p2.tasks, p2.total })
      assert.equal(0, assert(c:list_tasks({ from = os.time() + 3600 })).total)
      assert.equal(3, assert(c:list_tasks({ from = os.time() - 3600, to = os.time() + 3600 })).total)
      local none, err = c:list_tasks({ status = "finished" })
      assert.is_nil(none)
      assert.equal("invalid", err.kind)
    end)
  end)
end)
