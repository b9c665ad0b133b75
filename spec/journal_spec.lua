-- The task journal (client option `journal = path`) against the simulator: records and replay,
-- a torn last line, pending(), the same job returning its journaled task, force, unknown
-- outcomes after a crash between sending and recording, and no API key in the file.
local H = require "helper"
local stt = require "stt"
local core = require "stt.core"
local journal = require "stt.journal"

local tmpdir, write = H.tmpdir, H.write

local function client(path, opts)
  local o = { api_key = H.key, base_url = H.ds_base, timeout = 5, poll_first = 0.05, journal = path }
  for k, v in pairs(opts or {}) do o[k] = v end
  return stt.client("dashscope", o)
end

local function read(path) return H.read(path) or "" end

local function records(path)
  local out = {}
  for line in read(path):gmatch("[^\n]+") do out[#out + 1] = core.json_decode(line) or { torn = line } end
  return out
end


local function submissions(url) return (H.stats().submissions or {})[url] or 0 end

describe("journal", function()
  local dir, path
  before_each(function()
    H.reset()
    H.config({ queue_ms = 10, rtf = 0.02, min_run_ms = 20 })
    dir = tmpdir()
    path = dir .. "/tasks.jsonl"
  end)
  after_each(function() os.execute("rm -rf " .. H.sh_quote(dir)) end)

  it("records intent, task and terminal state, in that order, one JSON object per line", function()
    local url = H.media("j_rec", 1, "Journal records this.")
    local c = client(path)
    local task = assert(c:submit({ url = url, language = "en" }))
    local recs = records(path)
    assert.equal(2, #recs)                 -- durable before submit returned
    assert.equal("intent", recs[1].t)
    assert.equal("dashscope", recs[1].provider)
    assert.equal("paraformer-v2", recs[1].model)
    assert.equal(url, recs[1].job.url)
    assert.equal("en", recs[1].job.language)
    assert.equal("task", recs[2].t)
    assert.equal(recs[1].key, recs[2].key)
    assert.equal(task.id, recs[2].task.id)
    local res = assert(c:wait(task))
    assert.matches("Journal records", res.text)
    recs = records(path)
    assert.equal(3, #recs)
    assert.same({ "state", task.id, "succeeded" }, { recs[3].t, recs[3].id, recs[3].state })
    assert.same({}, c:pending())
    c:wait(task)                           -- polling a finished task again writes nothing more
    assert.equal(3, #records(path))
  end)

  it("the same job returns the journaled task in a later process, without a second submit", function()
    local url = H.media("j_same", 1, "Submitted only once.")
    local first = assert(client(path):submit({ url = url, speakers = 2 }))
    assert.equal(1, submissions(url))
    local c2 = client(path)                -- a fresh client reads the file: a restarted process
    local events = {}
    c2.on_event = function(ev) events[#events + 1] = ev end
    local again = assert(c2:submit({ url = url, speakers = 2 }))
    assert.equal(first.id, again.id)
    assert.equal(1, submissions(url))
    assert.is_true(events[1].journaled)
    assert.matches("Submitted only once", assert(c2:wait(again)).text)
    -- after it finished, still the same task (nothing paid twice), now with its state
    local third = assert(client(path):submit({ url = url, speakers = 2 }))
    assert.equal(first.id, third.id)
    assert.equal("succeeded", third.state)
    assert.equal(1, submissions(url))
  end)

  it("other options, another model or force = true make a new task", function()
    local url = H.media("j_force", 1, "Forced again.")
    local c = client(path)
    local a = assert(c:submit({ url = url }))
    local b = assert(c:submit({ url = url, language = "en" }))
    local m = assert(c:submit({ url = url, model = "paraformer-v1" }))
    assert.are_not.equal(a.id, b.id)
    assert.are_not.equal(a.id, m.id)
    assert.equal(3, submissions(url))
    local f = assert(c:submit({ url = url, force = true }))
    assert.are_not.equal(a.id, f.id)
    assert.equal(4, submissions(url))
    -- the forced task is now the journaled one for that job
    assert.equal(f.id, assert(client(path):submit({ url = url })).id)
    assert.equal(4, submissions(url))
  end)

  it("job keys are stable: option order and number types do not matter, options do", function()
    local k1, c1 = journal.key("dashscope", "paraformer-v2", { url = "http://h/a.wav", speakers = 2, language = "en" })
    local k2, c2 = journal.key("dashscope", "paraformer-v2", { language = "en", speakers = 2.0, url = "http://h/a.wav",
                                                              force = true })
    assert.equal(k1, k2)
    assert.equal(c1, c2)
    assert.matches("^%x+$", k1)
    assert.are_not.equal(k1, (journal.key("dashscope", "paraformer-v2", { url = "http://h/b.wav", speakers = 2,
                                                                          language = "en" })))
    assert.are_not.equal(k1, (journal.key("dashscope", "sensevoice-v1", { url = "http://h/a.wav", speakers = 2,
                                                                          language = "en" })))
  end)

  it("pending() lists unfinished tasks; a terminal state removes them", function()
    H.config({ queue_ms = 10, rtf = 0.02, min_run_ms = 20 })
    local u1, u2 = H.media("j_p1", 1, "One."), H.media("j_p2", 1, "Two.")
    local c = client(path)
    local t1 = assert(c:submit({ url = u1 }))
    local t2 = assert(c:submit({ url = u2 }))
    local p = client(path):pending()
    assert.equal(2, #p)
    assert.equal(t1.id, p[1].task.id)
    assert.equal(u1, p[1].job.url)
    assert.equal("queued", p[1].state)
    assert.equal(t2.id, p[2].task.id)
    assert(c:wait(t1))
    p = client(path):pending()
    assert.equal(1, #p)
    assert.equal(t2.id, p[1].task.id)
    -- a restored client resumes what is pending
    local c2 = client(path)
    for _, e in ipairs(c2:pending()) do assert.matches("Two", assert(c2:wait(e.task)).text) end
    assert.same({}, client(path):pending())
  end)

  it("tolerates a torn last line and starts the next record on a fresh line", function()
    local u1 = H.media("j_torn1", 1, "Before the crash.")
    local t1 = assert(client(path):submit({ url = u1 }))
    -- the process died inside the write of its next record
    local whole = read(path)
    write(path, whole .. '{"t":"intent","key":"abc","provider":"dash')
    local c = client(path)
    assert.is_true(c.journal.torn)
    assert.equal(t1.id, c:pending()[1].task.id)
    local u2 = H.media("j_torn2", 1, "After the crash.")
    local t2 = assert(c:submit({ url = u2 }))
    local lines, bad = 0, 0
    for line in read(path):gmatch("[^\n]+") do
      lines = lines + 1
      if not core.json_decode(line) then bad = bad + 1 end
    end
    assert.equal(5, lines)                  -- 2 + torn + 2
    assert.equal(1, bad)                    -- only the torn one
    local c3 = client(path)
    assert.equal(0, c3.journal.bad_lines + (c3.journal.torn and 1 or 0) - 1)
    assert.equal(2, #c3:pending())
    assert.equal(t2.id, c3:pending()[2].task.id)
  end)

  it("a submit whose outcome is unknown is not repeated, and force resubmits it", function()
    local url = H.media("j_unknown", 1, "Maybe submitted.")
    -- The connection is reset after the request was sent: the provider may have created the task.
    H.fault({ path = "/dashscope/api/v1/services/audio/asr/transcription", count = 1, type = "reset" })
    local _, err = client(path):submit({ url = url })
    assert.is_true(err.ambiguous)
    local before = submissions(url)
    local c = client(path)
    local p = c:pending()
    assert.equal(1, #p)
    assert.equal("unknown", p[1].state)
    assert.is_nil(p[1].task)
    assert.equal(url, p[1].job.url)
    local task, err2 = c:submit({ url = url })
    assert.is_nil(task)
    assert.equal("JournalUnknown", err2.code)
    assert.is_true(err2.ambiguous)
    assert.matches("force", tostring(err2))
    assert.equal(before, submissions(url))
    task = assert(c:submit({ url = url, force = true }))
    assert.equal(before + 1, submissions(url))
    assert.equal(task.id, assert(client(path):submit({ url = url })).id)
  end)

  it("the same crash window, cut by truncating the file after the intent", function()
    local url = H.media("j_cut", 1, "Cut after intent.")
    assert(client(path):submit({ url = url }))
    local first = read(path):match("^[^\n]*\n")
    write(path, first)                       -- as if killed between the HTTP answer and the task record
    local _, err = client(path):submit({ url = url })
    assert.equal("JournalUnknown", err.code)
    assert.equal(1, submissions(url))
  end)

  it("a refused submit is recorded and the job may be submitted again", function()
    local url = H.media("j_refused", 1, "Refused first.")
    local _, err = client(path, { api_key = "sk-wrong-key" }):submit({ url = url })
    assert.equal("auth", err.kind)
    local recs = records(path)
    assert.equal("rejected", recs[#recs].t)
    assert.same({}, client(path):pending())
    assert(client(path):submit({ url = url }))
    assert.equal(1, submissions(url))
  end)

  it("an intent with a client-chosen id is resumed by polling that id", function()
    -- volcengine-auc lets the client choose the task id; the intent record then carries it.
    local url = H.media("j_planned", 1, "Planned id.")
    local real = assert(client(dir .. "/other.jsonl"):submit({ url = url }))
    local key = journal.key("dashscope", "paraformer-v2", { url = url })
    write(path, core.json_encode({ t = "intent", key = key, provider = "dashscope", model = "paraformer-v2",
                                   job = { url = url }, planned_id = real.id, at = os.time() }) .. "\n")
    local c = client(path)
    assert.equal("unknown", c:pending()[1].state)
    local task = assert(c:submit({ url = url }))
    assert.equal(real.id, task.id)
    assert.equal(1, submissions(url))       -- found by polling, not submitted again
    assert.equal(real.id, client(path):pending()[1].task.id)
    assert.matches("Planned id", assert(c:wait(task)).text)
  end)

  it("concurrent submits of the same job inside stt.run make one task", function()
    local url = H.media("j_conc", 1, "Concurrent.")
    local c = client(path)
    local ids = {}
    stt.run(function()
      local ths = {}
      for i = 1, 5 do ths[i] = stt.spawn(function() return assert(c:submit({ url = url })).id end) end
      for i = 1, 5 do ids[i] = ths[i]:join() end
    end)
    for i = 2, 5 do assert.equal(ids[1], ids[i]) end
    assert.equal(1, submissions(url))
  end)

  it("never writes the API key", function()
    local url = H.media("j_secret", 1, "No secrets here.")
    local c = client(path)
    local task = assert(c:submit({ url = url, extra = { token = H.key } }))
    assert(c:wait(task))
    H.fault({ path = "/dashscope/api/v1/services/audio/asr/transcription", count = 1, type = "reset" })
    c:submit({ url = url, language = "en" })
    client(path, { api_key = "sk-wrong-key-secret" }):submit({ url = url, language = "zh" })
    local text = read(path)
    assert.is_true(#text > 0)
    assert.is_nil(text:find(H.key, 1, true))
    assert.is_nil(text:find("sk-wrong-key-secret", 1, true))
    local p = assert(H.popen("grep -c -e " .. H.sh_quote(H.key) .. " -e sk-wrong-key-secret " .. H.sh_quote(path)))
    assert.equal("0", p:read("*l"))
    p:close()
  end)

  it("refuses a journal path it cannot use, and reports a write failure without submitting", function()
    assert.has_error(function() client(dir) end)        -- a folder
    local c = client(dir .. "/missing-folder/j.jsonl")
    local url = H.media("j_nofolder", 1, "Nowhere to write.")
    local task, err = c:submit({ url = url })
    assert.is_nil(task)
    assert.equal("JournalWrite", err.code)
    assert.matches("nothing was submitted", err.message)
    assert.equal(0, submissions(url))
  end)
end)
