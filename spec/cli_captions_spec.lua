-- bin/stt's caption flags, -O and stt render against the simulator: the flags reach every format
-- (the files are what stt.subtitle writes from the saved Result with the same options), -O options
-- arrive typed in the provider's request, refused ones stop the run before any submit, a resume
-- keeps both, and stt render re-cuts saved Results (files and folders) with no key in the
-- environment and no request to the simulator.
local H = require "helper"
local core = require "stt.core"
local subtitle = require "stt.subtitle"

local SUBMIT = "POST /dashscope/api/v1/services/audio/asr/transcription"

local tmpdir, read, write = H.tmpdir, H.read, H.write

-- bin/stt inside `dir` (H.cli); env "" leaves nothing in the environment but PATH (no key at all).
local function stt(args, env, dir) return H.cli(args, env, dir, true) end

local function base() return "--base-url " .. H.sh_quote(H.ds_base) end
local function submits() return (H.stats().requests or {})[SUBMIT] or 0 end
local function requests()
  local n = 0
  for k, v in pairs(H.stats().requests or {}) do if not k:find("/_sim/", 1, true) then n = n + v end end
  return n
end

local TEXT = "Welcome to the show, everybody. Thanks for having me here today, it is good to be back. "
  .. "Let us talk about captions and how they are cut into lines. Sure, that sounds like a great plan to me. "
  .. "Then we begin with the speaker labels and the karaoke."

describe("stt caption flags, -O and stt render", function()
  local dir
  before_each(function()
    H.reset()
    H.config({ queue_ms = 0, rtf = 0.05, min_run_ms = 0 })
    dir = tmpdir()
  end)
  after_each(function() os.execute("rm -rf " .. H.sh_quote(dir)) end)

  it("writes every format with the caption flags, and stt render re-cuts the saved Result with no provider",
    function()
      local url = H.media("cap1", 20, TEXT)
      write(dir .. "/names.txt", "# who is who\n0=Host\n1 = Guest\n")
      local code, _, err = stt(("transcribe %s -l en --speakers 2 -f srt,json,ass,vtt,sbv,csv,tsv,txt,cues "
        .. "--speaker-labels turn --speaker-names names.txt --line-chars 30 --karaoke --ass-style size=44,outline=2 "
        .. "--ass-style 'primary_colour=#FFFF00' -o out %s"):format(base(), url), nil, dir)
      assert.equal(0, code, err)
      local res = assert(core.json_decode(read(dir .. "/out/cap1.json")))
      assert.is_true(#res.segments >= 4)
      local names = { ["0"] = "Host", ["1"] = "Guest" }
      local opts = { speaker_labels = "turn", speaker_names = names, line_chars = 30, karaoke = "kf",
                     word_timestamps = true, style = { size = "44", outline = "2", primary_colour = "#FFFF00" } }
      for _, f in ipairs({ "srt", "ass", "vtt", "sbv", "csv", "tsv", "txt" }) do
        assert.equal(subtitle[f](res, opts), read(dir .. "/out/cap1." .. f), f)
      end
      assert.equal(subtitle.cues_json(res, opts), read(dir .. "/out/cap1.cues.json"))
      -- what those options mean, seen in the files
      local srt = read(dir .. "/out/cap1.srt")
      assert.truthy(srt:find("\nHost: ", 1, true) and srt:find("\nGuest: ", 1, true), srt)
      for line in srt:gmatch("[^\n]+") do
        if not line:find("-->", 1, true) and not line:match("^%d+$") then
          assert.is_true(subtitle.width(line) <= 30, line)
        end
      end
      assert.truthy(read(dir .. "/out/cap1.ass"):find("{\\kf%d+}"))
      assert.truthy(read(dir .. "/out/cap1.ass"):find("Style: Default,Arial,44,&H0000FFFF,", 1, true))
      assert.truthy(read(dir .. "/out/cap1.vtt"):find("<%d%d:%d%d:%d%d%.%d%d%d><c>"))

      -- stt render: no key in the environment, no request reaches the simulator
      local before = requests()
      local out
      code, out, err = stt("render out/cap1.json -f srt,vtt,txt -o again --speaker-labels every "
        .. "--speaker-format '[%s] ' --max-lines 1", "", dir)
      assert.equal(0, code, err)
      assert.equal("", out)
      assert.matches("1 of 1 Result%(s%) rendered, 0 failed; no provider was called", err)
      local again = { speaker_labels = "every", speaker_format = "[%s] ", max_lines = 1 }
      for _, f in ipairs({ "srt", "vtt", "txt" }) do
        assert.equal(subtitle[f](res, again), read(dir .. "/again/cap1." .. f), f)
      end
      for _, c in ipairs(subtitle.cues(res, again)) do assert.equal(1, #c.lines) end
      assert.truthy(read(dir .. "/again/cap1.srt"):find("\n[Speaker 0] ", 1, true))
      -- a folder of Results, written beside them (the cue list of -f cues is no Result)
      code, _, err = stt("render out -f sbv,lrc", "", dir)
      assert.equal(0, code, err)
      assert.equal(subtitle.sbv(res), read(dir .. "/out/cap1.sbv"))
      assert.equal(subtitle.lrc(res), read(dir .. "/out/cap1.lrc"))
      assert.is_nil(err:find("cap1.cues.json", 1, true))
      -- karaoke from a Result without word timings: plain cues and a warning
      local plain = { language = "en", segments = {} }
      for i, s in ipairs(res.segments) do
        plain.segments[i] = { start_ms = s.start_ms, end_ms = s.end_ms, text = s.text, speaker = s.speaker }
      end
      write(dir .. "/plain.json", core.json_encode(plain))
      code, _, err = stt("render plain.json -f ass --karaoke", "", dir)
      assert.equal(0, code, err)
      assert.matches("warning: .*plain%.ass: ass karaoke: the Result has no word timings", err)
      assert.equal(subtitle.ass(plain), read(dir .. "/plain.ass"))
      assert.equal(before, requests())
      -- a file that is no Result fails (exit 1); bad flags are usage errors (exit 2), nothing written
      write(dir .. "/list.json", "[1, 2]")
      code, _, err = stt("render list.json", "", dir)
      assert.equal(1, code)
      assert.matches("FAILED .*list%.json: not a Result", err)
      for _, bad in ipairs({ "--speaker-labels sometimes", "--ass-style size=big", "--ass-style colour=red",
                             "--karaoke-tag sing", "--line-chars 0", "--max-lines 1.5", "--profile xx",
                             "--speaker-names nothing.txt", "-f json", "-f doc" }) do
        code, _, err = stt("render out/cap1.json -o bad " .. bad, "", dir)
        assert.equal(2, code, bad .. ": " .. err)
        assert.is_nil(read(dir .. "/bad/cap1.srt"), bad)
      end
      code, _, err = stt("render", "", dir)
      assert.equal(2, code)
      assert.matches("no Result given", err)
      assert.equal(before, requests())
    end)

  it("-O passes typed provider options, refuses what the model does not take before any submit, and resume "
    .. "keeps them and the caption flags", function()
    local url = H.media("opt1", 6, "One option. Two options. Three options for the model.")
    local _
    local code, out, err = stt(("transcribe %s -l en --speakers 2 -O disfluency=true -O channels=[0] -f srt,json "
      .. "--speaker-labels every --json -o out %s"):format(base(), url), nil, dir)
    assert.equal(0, code, err)
    local id
    for l in out:gmatch("[^\n]+") do
      local ev = core.json_decode(l)
      if ev.event == "submitted" then id = ev.task_id end
    end
    local params = H.sim_task(id).raw_parameters
    assert.equal(true, params.disfluency_removal_enabled)
    assert.same({ 0 }, params.channel_id)
    local srt = read(dir .. "/out/opt1.srt")
    assert.matches("\nSpeaker %d: ", srt)
    -- resume: the same job (the options are part of it: nothing resubmitted), the same captions
    os.remove(dir .. "/out/opt1.srt")
    local before = submits()
    code, _, err = stt("resume out/stt-journal.jsonl", nil, dir)
    assert.equal(0, code, err)
    assert.equal(before, submits())
    assert.equal(srt, read(dir .. "/out/opt1.srt"))
    -- refused before anything is sent, with the capability table's reason (exit 2)
    local cases = {
      { "-O emotion=true", 'option "emotion" is not supported by dashscope model "paraformer%-v2"' },
      { "-O punctuation=false", "always punctuates" },
      { "-O disfluency=maybe", 'option "disfluency" must be a boolean' },
      { "-O no_such=1", "unknown option for dashscope model \"paraformer%-v2\" %(it takes: .*disfluency" },
      { "-O url=http://x", "inputs are the command's arguments" },
      { "-l en -O language=en", "given twice" },
      { "-O 'channels=[0'", "not closed" },
      { "-O disfluency", "expected key=value" },
      { "-m fun-asr -O itn=true", 'option "itn" is not supported by dashscope model "fun%-asr"' },
    }
    for _, case in ipairs(cases) do
      code, _, err = stt(("transcribe %s %s -o out2 %s"):format(base(), case[1], url), nil, dir)
      assert.equal(2, code, case[1] .. ": " .. err)
      assert.matches(case[2], err)
    end
    assert.equal(before, submits())
  end)
end)
