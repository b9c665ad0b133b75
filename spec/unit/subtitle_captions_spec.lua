-- stt.subtitle beyond plain cues: speaker labels in SRT, SBV, LRC and TXT (turn, every, none; a
-- names map and formats; the label's room on the first line, Latin and CJK), karaoke ASS and
-- word-timed WebVTT read back cue for cue by ffmpeg (text without tags, exact times, one cue per
-- event, never per word), the fallback to plain cues with a warning, ASS styles (checked, written,
-- and burned into a 1080p frame by libass), and the SBV, CSV and TSV writers (CSV and TSV read by
-- Python's csv module).
local H = require "helper"
local G = require "subtitle_helper"
local subtitle = require "stt.subtitle"

local have, ffmpeg_cues = G.have, G.ffmpeg_cues

local SETS = {
  { name = "English", profile = "latin", names = { ["0"] = "Host", ["1"] = "Guest" }, format = "%s: ",
    res = G.transcript(301, { "en" }, 80, { speakers = true, language = "en" }) },
  { name = "Mandarin", profile = "zh", names = { ["0"] = "主持人", ["1"] = "嘉宾" }, format = "%s：",
    res = G.transcript(302, { "zh" }, 80, { speakers = true, language = "zh" }) },
}

-- The same Result without word timings (segment text only).
local function untimed(res)
  local out = { language = res.language, segments = {} }
  for i, s in ipairs(res.segments) do
    out.segments[i] = { start_ms = s.start_ms, end_ms = s.end_ms, text = s.text, speaker = s.speaker }
  end
  return out
end

local function write_tmp(ext, text) return H.tmpfile(text, ext) end

-- ffmpeg's SRT of an ASS file with a style size other than ASS's default wraps the text in a
-- <font size> tag, and its SRT writes a line break inside a cue as CRLF: formatting, not text.
local function untagged(text) return (text:gsub("</?font[^>]*>", ""):gsub("\r\n", "\n")) end

local function starts_turn(cues, i) return i == 1 or cues[i - 1].speaker ~= cues[i].speaker end

describe("speaker labels", function()
  for _, set in ipairs(SETS) do
    it("label the first cue of each speaker turn in SRT, with names and room on the first line (" .. set.name .. ")",
      function()
        local opts = { speaker_labels = "turn", speaker_names = set.names, speaker_format = set.format }
        local labelled = subtitle.cues(set.res, opts)
        local plain = subtitle.cues(set.res)
        local limit = subtitle.PROFILES[set.profile].line_chars
        local turns, changed = 0, 0
        for i, c in ipairs(labelled) do
          local want = starts_turn(labelled, i) and set.format:gsub("%%s", set.names[c.speaker]) or nil
          assert.equal(want, c.label, "cue " .. i)
          if want then
            turns = turns + 1
            -- the label takes room on the first line: label and line together fit the line length
            assert.is_true(subtitle.width(c.label .. c.lines[1], set.profile) <= limit,
              ("cue %d: %q is too wide"):format(i, c.label .. c.lines[1]))
          end
          for _, l in ipairs(c.lines) do assert.is_true(subtitle.width(l, set.profile) <= limit) end
        end
        assert.is_true(turns >= 10, "turns: " .. turns)
        -- ... which changes where lines break somewhere: the cues are not the unlabelled ones
        for i, c in ipairs(plain) do
          if not labelled[i] or table.concat(c.lines, "\n") ~= table.concat(labelled[i].lines, "\n") then
            changed = changed + 1
          end
        end
        assert.is_true(changed > 0, "no line made room for its label")
        -- ffmpeg reads the SRT back: each cue's text starts with its label, and only those
        local path = write_tmp("srt", subtitle.srt(set.res, opts))
        local got = ffmpeg_cues(path)
        os.remove(path)
        assert.equal(#labelled, #got)
        for i, c in ipairs(labelled) do
          assert.equal((c.label or "") .. table.concat(c.lines, "\n"), untagged(got[i].text), "cue " .. i)
          assert.equal(c.start_ms, got[i].start_ms)
        end
      end)
  end

  it("label every cue with \"every\", none with false, and mark a change with a dash format", function()
    local res = SETS[1].res
    for _, c in ipairs(subtitle.cues(res, { speaker_labels = "every" })) do
      assert.equal("Speaker " .. c.speaker .. ": ", c.label)
    end
    for _, c in ipairs(subtitle.cues(res, { speaker_labels = false })) do assert.is_nil(c.label) end
    local dashed = subtitle.cues(res, { speaker_labels = "turn", speaker_format = "- " })
    local sbv = subtitle.sbv(res, { speaker_labels = "turn", speaker_format = "- " })
    local i = 0
    for times, text in sbv:gmatch("(%d+:%d%d:%d%d%.%d%d%d,%d+:%d%d:%d%d%.%d%d%d)\n(.-)\n\n") do
      i = i + 1
      local c = dashed[i]
      assert.equal(c.start_ms, G.ms_of(times:match("^(%d+):(%d%d):(%d%d)%.(%d%d%d)")))
      assert.equal((starts_turn(dashed, i) and "- " or "") .. table.concat(c.lines, "\n"), text)
    end
    assert.equal(#dashed, i)
    -- numeric keys in a names table written in Lua; a function as the format; a percent sign
    local named = subtitle.cues(res, { speaker_labels = "turn", speaker_names = { [0] = "Zero", [1] = "100%" },
                                       speaker_format = "[%s] " })
    assert.equal("[" .. (named[1].speaker == "0" and "Zero" or "100%") .. "] ", named[1].label)
    local f = subtitle.cues(res, { speaker_labels = "every", speaker_format = function(name, id)
      return ">> " .. name:upper() .. " (" .. id .. ") " end })
    assert.equal(">> SPEAKER " .. f[1].speaker .. " (" .. f[1].speaker .. ") ", f[1].label)
    assert.has_error(function() subtitle.srt(res, { speaker_labels = "sometimes" }) end)
  end)

  it("write labels in TXT on every segment by default, at speaker changes with turn, and none with false", function()
    local res = SETS[2].res
    local function lines(opts)
      local out = {}
      for l in subtitle.txt(res, opts):gmatch("[^\n]+") do out[#out + 1] = l end
      return out
    end
    local every, turn, none = lines(), lines({ speaker_labels = "turn", speaker_names = SETS[2].names,
                                               speaker_format = "%s：" }), lines({ speaker_labels = false })
    assert.equal(#res.segments, #every)
    local changes = 0
    for i, seg in ipairs(res.segments) do
      assert.truthy(every[i]:find("] Speaker " .. seg.speaker .. ": " .. seg.text, 1, true), every[i])
      assert.truthy(none[i]:find("] " .. seg.text, 1, true), none[i])
      local change = i == 1 or res.segments[i - 1].speaker ~= seg.speaker
      if change then changes = changes + 1 end
      local want = (change and SETS[2].names[seg.speaker] .. "：" or "") .. seg.text
      assert.equal("] " .. want, turn[i]:match("^%[[%d:.]+(%] .*)$"), turn[i])
    end
    assert.is_true(changes > 5 and changes < #res.segments)
    -- the Result's labels leave the other formats alone: VTT keeps <v>, ASS keeps Name
    local opts = { speaker_labels = "every", speaker_names = SETS[2].names }
    assert.equal(subtitle.vtt(res, { speaker_names = SETS[2].names }), subtitle.vtt(res, opts))
    assert.equal(subtitle.ass(res, { speaker_names = SETS[2].names }), subtitle.ass(res, opts))
  end)
end)

-- The karaoke syllables of an ASS Dialogue text: { { tag, cs, text } } in order.
local function syllables(text)
  local out = {}
  for tag, cs, rest in text:gmatch("{\\(k[fo]?)(%d+)}([^{]*)") do out[#out + 1] = { tag, tonumber(cs), rest } end
  return out
end

describe("karaoke and word timestamps", function()
  for _, set in ipairs(SETS) do
    it("write karaoke ASS that ffmpeg reads back cue for cue, each word's \\kf at its time (" .. set.name .. ")",
      function()
        local cues = subtitle.cues(set.res, { words = true })
        local ass = subtitle.ass(set.res, { karaoke = true })
        local n = 0
        for s1, e1, text in ass:gmatch("\nDialogue: 0,([%d:.]+),([%d:.]+),Default,[^,]*,0,0,0,,([^\n]*)") do
          n = n + 1
          local c = cues[n]
          local base = math.floor(c.start_ms / 10)
          assert.equal(require("stt.subtitle.write").timestamp(c.start_ms, "ass"), s1)
          assert.truthy(e1)
          -- one \kf syllable per word, starting at the word's start (centiseconds from the cue's)
          local at, k = 0, 0
          for _, syl in ipairs(syllables(text)) do
            if syl[1] == "kf" then
              k = k + 1
              local w = c.words[k]
              assert.equal(math.floor(w.start_ms / 10) - base, at, ("cue %d word %d"):format(n, k))
              assert.equal(w.sep .. w.text, (syl[3]:gsub("\\N$", "")))
            else
              assert.equal("", syl[3])                         -- silence: an empty \k syllable
            end
            at = at + syl[2]
          end
          assert.equal(#c.words, k)
          assert.is_true(at <= math.floor(c.end_ms / 10) - base, "cue " .. n .. ": karaoke longer than the cue")
        end
        assert.equal(#cues, n)
        -- ffmpeg: the same cues (never one per word), times exact to the centisecond, text without tags
        local path = write_tmp("ass", ass)
        local got = ffmpeg_cues(path)
        os.remove(path)
        assert.equal(#cues, #got)
        for i, c in ipairs(cues) do
          assert.equal(math.floor(c.start_ms / 10) * 10, got[i].start_ms, "cue " .. i)
          assert.equal(math.floor(c.end_ms / 10) * 10, got[i].end_ms, "cue " .. i)
          assert.equal(table.concat(c.lines, "\n"), untagged(got[i].text), "cue " .. i)
        end
      end)

    it("write word-timed WebVTT inside normal cues that ffmpeg reads back cue for cue (" .. set.name .. ")", function()
      local cues = subtitle.cues(set.res, { words = true })
      local vtt = subtitle.vtt(set.res, { word_timestamps = true })
      local n, stamps = 0, 0
      for s1, e1, text in vtt:gmatch("([%d:.]+) %-%-> ([%d:.]+)\n(.-)\n\n") do
        n = n + 1
        local c = cues[n]
        local s, e = G.ms_of(s1:match("(%d+):(%d+):(%d+)%.(%d+)")), G.ms_of(e1:match("(%d+):(%d+):(%d+)%.(%d+)"))
        assert.equal(c.start_ms, s)
        -- timestamps rise strictly and stay inside the cue; one <c> span per word
        local last = s
        for ts in text:gmatch("<(%d+:%d%d:%d%d%.%d%d%d)>") do
          local t = G.ms_of(ts:match("(%d+):(%d+):(%d+)%.(%d+)"))
          assert.is_true(t > last and t < e, ("cue %d: timestamp %s"):format(n, ts))
          last = t
          stamps = stamps + 1
        end
        local _, spans = text:gsub("<c>", "")
        assert.equal(#c.words, spans)
      end
      assert.equal(#cues, n)
      assert.is_true(stamps > #cues, "word timestamps: " .. stamps)
      local path = write_tmp("vtt", vtt)
      local got = ffmpeg_cues(path)
      os.remove(path)
      assert.equal(#cues, #got)
      for i, c in ipairs(cues) do
        assert.equal(c.start_ms, got[i].start_ms, "cue " .. i)
        assert.equal(c.end_ms, got[i].end_ms, "cue " .. i)
        assert.equal(table.concat(c.lines, "\n"), untagged(got[i].text), "cue " .. i)
      end
    end)
  end

  it("falls back to plain cues with a warning when the Result has no word timings", function()
    local res = untimed(SETS[1].res)
    local warnings = {}
    local opts = { karaoke = true, word_timestamps = true, on_warning = function(m) warnings[#warnings + 1] = m end }
    assert.equal(subtitle.ass(res), subtitle.ass(res, opts))
    assert.equal(subtitle.vtt(res), subtitle.vtt(res, opts))
    assert.equal(2, #warnings)
    assert.matches("no word timings", warnings[1])
    -- a Result with both: only the cues without timings are plain, and the warning counts them
    local mixed = { segments = { SETS[1].res.segments[1], untimed(SETS[1].res).segments[2] } }
    mixed.segments[2].start_ms = mixed.segments[1].end_ms + 3000
    mixed.segments[2].end_ms = mixed.segments[2].start_ms + 3000
    warnings = {}
    local ass = subtitle.ass(mixed, opts)
    assert.truthy(ass:find("{\\kf", 1, true))
    assert.matches("%d+ of %d+ cues have no word timings", warnings[1])
    -- the karaoke tag asked for
    assert.truthy(subtitle.ass(SETS[1].res, { karaoke = "k" }):find("{\\k%d+}%a"))
    assert.falsy(subtitle.ass(SETS[1].res, { karaoke = "k" }):find("{\\kf", 1, true))
    assert.has_error(function() subtitle.ass(res, { karaoke = "sing" }) end)
  end)
end)

describe("ASS styles", function()
  local function style_line(ass) return ass:match("\nStyle: ([^\n]*)") end

  it("default to 1080p and take every field as an option, colours as #RRGGBB or &HAABBGGRR", function()
    local ass = subtitle.ass(SETS[1].res)
    assert.truthy(ass:find("\nPlayResX: 1920\nPlayResY: 1080\n", 1, true))
    local d = subtitle.ass_style()
    local fields = {}
    for f in style_line(ass):gmatch("[^,]+") do fields[#fields + 1] = f end
    assert.same({ "Default", d.font, tostring(d.size) }, { fields[1], fields[2], fields[3] })
    local s = subtitle.ass(SETS[1].res, { style = { font = "Noto Sans CJK SC", size = 48, outline = 2,
      primary_color = "#FFFF00", outline_colour = "&H40102030", back_colour = "#00000080", bold = "true",
      margin_v = 40, alignment = 8, play_res_x = 1280, play_res_y = 720 } })
    assert.truthy(s:find("\nPlayResX: 1280\nPlayResY: 720\n", 1, true))
    assert.equal("Default,Noto Sans CJK SC,48,&H0000FFFF,&H00A0A0A0,&H40102030,&H7F000000,-1,0,0,0,100,100,0,0,1,2,"
      .. "1,8,120,120,40,0", style_line(s))
    for _, bad in ipairs({ { colour = "red" }, { primary_colour = "red" }, { font = "A,B" }, { alignment = 10 },
                           { size = -1 }, { border_style = 2 }, { bold = "maybe" } }) do
      local ok, err = subtitle.ass_style(bad)
      assert.is_nil(ok)
      assert.is_string(err)
      assert.has_error(function() subtitle.ass(SETS[1].res, { style = bad }) end)
    end
    assert.matches("unknown ASS style key colour", select(2, subtitle.ass_style({ colour = "red" })))
  end)

  it("burn into a 1080p frame inside the margins, two lines at most, by libass", function()
    if not have("ffmpeg") then return pending("ffmpeg is not installed") end
    -- the widest two-line cue of the English set, alone, on a black 1920x1080 frame
    local cues = subtitle.cues(SETS[1].res)
    local best, bw = nil, -1
    for _, c in ipairs(cues) do
      local w = #c.lines == 2 and math.max(subtitle.width(c.lines[1]), subtitle.width(c.lines[2])) or 0
      if w > bw then best, bw = c, w end
    end
    assert.is_true(bw >= 36, "a long two-line cue: " .. bw)
    local one = { segments = { { start_ms = 0, end_ms = 4000, text = table.concat(best.lines, " ") } } }
    local lines = subtitle.cues(one)[1].lines
    assert.equal(2, #lines)
    local dir = H.tmpdir()
    H.write(dir .. "/x.ass", subtitle.ass(one))
    local rc, out = H.run("cd " .. H.sh_quote(dir) .. " && ffmpeg -v error -f lavfi -i color=c=black:s=1920x1080:d=1 "
      .. "-vf subtitles=x.ass -frames:v 1 -f rawvideo -pix_fmt gray x.gray")
    assert.equal(0, rc, out)
    local raw = H.read(dir .. "/x.gray")
    os.execute("rm -rf " .. H.sh_quote(dir))
    assert.equal(1920 * 1080, #raw)
    -- the box of the white text (the outline and shadow are black on black)
    local top, bottom, left, right, rows = nil, nil, 1920, 0, {}
    for y = 0, 1079 do
      local row = raw:sub(y * 1920 + 1, y * 1920 + 1920)
      local a = row:find("[\200-\255]")
      if a then
        local b = #row - row:reverse():find("[\200-\255]") + 1
        top, bottom = top or y, y
        left, right = math.min(left, a - 1), math.max(right, b - 1)
        rows[#rows + 1] = y
      end
    end
    assert.truthy(top, "no text was drawn")
    local st = subtitle.ass_style()
    -- inside the side margins, above the bottom margin, in the lower third: as the style says
    assert.is_true(left >= st.margin_l and right <= 1920 - st.margin_r, ("text from x=%d to %d"):format(left, right))
    assert.is_true(bottom <= 1080 - st.margin_v and bottom >= 1080 - st.margin_v - 30, "bottom at " .. bottom)
    assert.is_true(top >= 1080 * 2 / 3, "top at " .. top)
    -- two lines (two runs of rows with text), not re-wrapped by libass into three
    local runs = 1
    for i = 2, #rows do if rows[i] > rows[i - 1] + 4 then runs = runs + 1 end end
    assert.equal(2, runs)
    -- and wide enough to be read: a 42-character line is more than a third of the width
    assert.is_true(right - left > 1920 / 3, "text width " .. (right - left))
  end)
end)

describe("SBV, CSV and TSV", function()
  local ODD = { language = "en", segments = {
    { start_ms = 0, end_ms = 2500, speaker = "a", text = 'She said "hi, there", then left' },
    { start_ms = 3000, end_ms = 5000, speaker = "b,c", text = "=SUM(A1) costs $5, 50% off" },
    { start_ms = 6000, end_ms = 9000, text = "我们今天讨论语音识别系统以及字幕应该如何切分" },
  } }

  -- Python's csv module reads the file: [[start, end, speaker, text], ...] with the header first.
  local function python_rows(path, dialect)
    local rc, out = H.run("python3 -c " .. H.sh_quote("import csv, json, sys\n"
      .. "with open(sys.argv[1], newline='', encoding='utf-8') as f:\n"
      .. "    print(json.dumps(list(csv.reader(f, dialect=sys.argv[2]))))")
      .. " " .. H.sh_quote(path) .. " " .. dialect)
    assert.equal(0, rc, out)
    return H.json(out)
  end

  for _, case in ipairs({ { "csv", "excel" }, { "tsv", "excel-tab" } }) do
    it("write " .. case[1] .. " that Python's csv module reads back, one row per cue or per segment", function()
      if not have("python3") then return pending("python3 is not installed") end
      for _, res in ipairs({ ODD, SETS[1].res, SETS[2].res }) do
        local names = { a = "Ann", ["b,c"] = "Bob, Jr." }
        local path = write_tmp(case[1], subtitle[case[1]](res, { speaker_names = names }))
        local rows = python_rows(path, case[2])
        os.remove(path)
        assert.same({ "start", "end", "speaker", "text" }, rows[1])
        local cues = subtitle.cues(res)
        assert.equal(#cues + 1, #rows)
        for i, c in ipairs(cues) do
          local sep = subtitle.width(c.lines[1], "latin") == #c.lines[1] and " " or ""
          local who = c.speaker and (names[c.speaker] or ("Speaker " .. c.speaker)) or ""
          assert.same({ tostring(c.start_ms), tostring(c.end_ms), case[1] == "tsv" and who or who,
                        table.concat(c.lines, sep) }, rows[i + 1], case[1] .. " row " .. i)
        end
      end
      local seg = subtitle[case[1]](ODD, { rows = "segments" })
      local path = write_tmp(case[1], seg)
      local rows = python_rows(path, case[2])
      os.remove(path)
      assert.equal(#ODD.segments + 1, #rows)
      for i, s in ipairs(ODD.segments) do
        assert.same({ tostring(s.start_ms), tostring(s.end_ms), s.speaker and "Speaker " .. s.speaker or "", s.text },
          rows[i + 1])
      end
    end)
  end

  it("write SBV with H:MM:SS.mmm times, one block per cue", function()
    -- No program here reads SBV (ffmpeg has no demuxer for it): the form is checked as YouTube
    -- documents it.
    local res = SETS[2].res
    local cues = subtitle.cues(res)
    local sbv = subtitle.sbv(res)
    local i = 0
    for block in sbv:gmatch("(.-)\n\n") do
      i = i + 1
      local a, b, text = block:match("^(%d+:%d%d:%d%d%.%d%d%d),(%d+:%d%d:%d%d%.%d%d%d)\n(.+)$")
      assert.truthy(a, block)
      assert.equal(cues[i].start_ms, G.ms_of(a:match("(%d+):(%d+):(%d+)%.(%d+)")))
      assert.equal(cues[i].end_ms, G.ms_of(b:match("(%d+):(%d+):(%d+)%.(%d+)")))
      assert.equal(table.concat(cues[i].lines, "\n"), text)
    end
    assert.equal(#cues, i)
    assert.equal(#sbv, #(sbv:gsub("\r", "")))
    assert.equal("", subtitle.sbv({ segments = {} }))
    assert.equal("start,end,speaker,text\r\n", subtitle.csv({ segments = {} }))
  end)
end)
