-- stt.subtitle: caption cutting rules (docs/subtitles.md) asserted on every
-- cue of long generated English, Mandarin, Japanese and mixed transcripts; widths of mixed-script
-- lines and reading times checked against the rules; the same cues whatever the order or repetition
-- of the input; every writer read back by ffmpeg (srt, vtt, ass, lrc) or xmllint (ttml); escaping
-- and odd inputs.
local H = require "helper"
local subtitle = require "stt.subtitle"

local G = require "subtitle_helper"
local CHAR, rng, transcript = G.CHAR, G.rng, G.transcript

local SETS = {
  { name = "English", kinds = { "en" }, profile = "latin", opts = { speakers = true, language = "en" } },
  { name = "Mandarin", kinds = { "zh" }, profile = "zh", opts = { speakers = true, language = "zh" } },
  { name = "Japanese", kinds = { "ja" }, profile = "ja", opts = { speakers = true } },   -- script detection
  { name = "mixed", kinds = { "en", "zh", "zh", "en", "ja" }, opts = { speakers = true } },
}

---------------------------------------------------------------- rule checks

local FUNCTION_WORDS = { a = true, an = true, the = true, of = true, to = true, ["and"] = true, ["or"] = true }

local function profile_of(line)
  local han, kana, latin = 0, 0, 0
  for ch in line:gmatch(CHAR) do
    if #ch == 3 then
      local b2 = ch:byte(2)
      if ch:byte(1) == 0xE3 and b2 >= 0x81 and b2 <= 0x83 then kana = kana + 1 else han = han + 1 end
    elseif ch:match("%a") then
      latin = latin + 1
    end
  end
  if kana > 0 then return "ja" end
  if han >= latin / 5 and han > 0 then return "zh" end
  return "latin"
end

-- Words of the transcript, in time order, with their speaker.
local function all_words(res)
  local list = {}
  for _, s in ipairs(res.segments) do
    for _, w in ipairs(s.words) do
      list[#list + 1] = { text = w.text .. (w.punct or ""), s = w.start_ms, e = w.end_ms, speaker = s.speaker }
    end
  end
  table.sort(list, function(a, b) return a.s < b.s end)
  return list
end

-- Every caption rule (docs/subtitles.md) on every cue; returns counts for the aggregate checks.
local function check_rules(res, cues, label)
  local D = subtitle.DEFAULTS
  local gap = math.ceil(D.gap_frames * 1000 / D.fps)
  local words = all_words(res)
  local wi = 1
  local stats = { cues = #cues, punct_or_pause_end = 0, two_line = 0, weak_line_end = 0 }
  local pieces = {}
  for i, c in ipairs(cues) do
    local where = ("%s cue %d [%d..%d] %q"):format(label, i, c.start_ms, c.end_ms, table.concat(c.lines, " / "))
    local prof = subtitle.PROFILES[profile_of(table.concat(c.lines))]
    -- at most 2 lines, each within the line length (half-width counts 0.5 in CJK text)
    assert(#c.lines >= 1 and #c.lines <= 2, where .. ": line count")
    local chars_total = 0
    for _, l in ipairs(c.lines) do
      assert(l ~= "", where .. ": empty line")
      local w = subtitle.width(l, profile_of(table.concat(c.lines)))
      assert(w <= prof.line_chars, where .. ": line too long (" .. w .. ")")
      chars_total = chars_total + w
    end
    -- duration 5/6 s .. 7 s; ordered; gap >= 2 frames, gaps up to half a second closed to 2 frames
    local dur = c.end_ms - c.start_ms
    assert(dur > 0 and dur <= D.max_ms, where .. ": duration " .. dur)
    local nx = cues[i + 1]
    if nx then
      local g = nx.start_ms - c.end_ms
      assert(g >= gap, where .. ": gap " .. g)
      assert(g > D.chain_ms or g == gap or dur == D.max_ms, where .. ": unchained gap " .. g)
    end
    assert(dur >= D.min_ms or (nx and nx.start_ms - gap == c.end_ms), where .. ": too short " .. dur)
    -- the words spoken in this cue: all of one speaker, all inside it (never across a speaker change)
    local speech_end, cue_words = c.start_ms, {}
    while words[wi] and words[wi].s < c.end_ms do
      local w = words[wi]
      assert(w.s >= c.start_ms, where .. ": word " .. w.text .. " at " .. w.s .. " fell between cues")
      assert(w.speaker == c.speaker, where .. ": speaker change inside the cue")
      speech_end = math.max(speech_end, w.e)
      cue_words[#cue_words + 1] = w
      wi = wi + 1
    end
    assert(#cue_words > 0, where .. ": no speech")
    -- reading speed, where the speech allows: otherwise held as long as the rules let it be
    local cps = chars_total / (dur / 1000)
    if cps > prof.cps then
      local limit = math.min(c.start_ms + D.max_ms, speech_end + D.linger_ms, nx and nx.start_ms - gap or math.huge)
      assert(c.end_ms >= limit, where .. (": reads at %.1f cps but ends before %d"):format(cps, limit))
    end
    -- text preserved, and never split inside a word
    local joined = table.concat(c.lines, prof.half == 1 and " " or "")
    local expect = {}
    for k, w in ipairs(cue_words) do expect[k] = w.text end
    if prof.half == 1 then
      local got = {}
      for p in joined:gmatch("%S+") do got[#got + 1] = p end
      assert.same(expect, got, where)
    else
      assert.equal(table.concat(expect):gsub(" ", ""), (joined:gsub(" ", "")), where)
    end
    for _, p in ipairs(expect) do pieces[#pieces + 1] = p end
    -- aggregate: breaks at punctuation or pauses; line balance
    local last = cue_words[#cue_words]
    local nextw = words[wi]
    if last.text:find("[%.,%?!]$") or last.text:find("[。，、？]$") or not nextw or nextw.s - last.e >= 250 then
      stats.punct_or_pause_end = stats.punct_or_pause_end + 1
    end
    if #c.lines == 2 then
      stats.two_line = stats.two_line + 1
      local lw = c.lines[1]:match("(%a+)$")
      if lw and FUNCTION_WORDS[lw:lower()] then stats.weak_line_end = stats.weak_line_end + 1 end
      local w1 = subtitle.width(c.lines[1], profile_of(c.lines[1] .. c.lines[2]))
      local w2 = subtitle.width(c.lines[2], profile_of(c.lines[1] .. c.lines[2]))
      local ends_punct = c.lines[1]:find("[%.,%?!]$") or c.lines[1]:find("[。，、？]$")
      assert(ends_punct or math.min(w1, w2) >= 0.4 * math.max(w1, w2), where .. ": unbalanced lines")
    end
  end
  assert.equal(#words, #pieces, label .. ": every word in exactly one cue")
  return stats
end

---------------------------------------------------------------- ffmpeg / xmllint

local function tmpfile(ext, content) return H.tmpfile(content, ext) end

local run = H.run

local ms_of, ffmpeg_cues = G.ms_of, G.ffmpeg_cues

local function same_times(want, got, unit, label)
  assert.equal(#want, #got, label .. ": cue count")
  assert.is_true(#got > 0, label .. ": no cues")
  for i, c in ipairs(want) do
    local s, e = math.floor(c.start_ms / unit) * unit, math.floor(c.end_ms / unit) * unit
    assert.equal(s, got[i].start_ms, label .. " cue " .. i .. " start")
    assert.equal(e, got[i].end_ms, label .. " cue " .. i .. " end")
  end
end

local have = G.have

---------------------------------------------------------------- specs

describe("subtitle cues", function()
  for _, set in ipairs(SETS) do
    it("follow every caption rule on a long " .. set.name .. " transcript", function()
      local res = transcript(11 + #set.name, set.kinds, 80, set.opts)
      local cues = subtitle.cues(res)
      assert.is_true(#cues >= 60, "cues: " .. #cues)
      local st = check_rules(res, cues, set.name)
      -- most events end at punctuation or a pause; two-line events exist and rarely end a line on
      -- an article/conjunction
      assert.is_true(st.punct_or_pause_end >= 0.7 * st.cues, ("%d of %d"):format(st.punct_or_pause_end, st.cues))
      assert.is_true(st.two_line > 0)
      assert.is_true(st.weak_line_end <= 0.1 * st.two_line, "weak line ends: " .. st.weak_line_end)
    end)
  end

  it("chooses the limits per language: 16 per line in Mandarin, 13 in Japanese, 42 in English", function()
    local function longest(res)
      local m = 0
      for _, c in ipairs(subtitle.cues(res)) do
        for _, l in ipairs(c.lines) do m = math.max(m, subtitle.width(l, profile_of(l))) end
      end
      return m
    end
    local zh, ja, en = longest(transcript(3, { "zh" }, 40)), longest(transcript(3, { "ja" }, 40)),
      longest(transcript(3, { "en" }, 40))
    assert.is_true(zh <= 16 and zh > 13, "zh " .. zh)
    assert.is_true(ja <= 13 and ja > 9, "ja " .. ja)
    assert.is_true(en <= 42 and en > 30, "en " .. en)
  end)

  it("takes every number as an option", function()
    local res = transcript(5, { "en" }, 30)
    local cues = subtitle.cues(res, { line_chars = 20, max_lines = 1, max_ms = 3000 })
    for _, c in ipairs(cues) do
      assert.equal(1, #c.lines)
      assert.is_true(#c.lines[1] <= 20 or not c.lines[1]:find(" "), c.lines[1])
      assert.is_true(c.end_ms - c.start_ms <= 3000)
    end
    local zh = subtitle.cues(transcript(5, { "zh" }, 20), { zh = { line_chars = 8 } })
    for _, c in ipairs(zh) do
      for _, l in ipairs(c.lines) do assert.is_true(subtitle.width(l, "zh") <= 8, l) end
    end
  end)

  it("splits segment text proportionally when there are no word timings", function()
    local res = { segments = {
      { start_ms = 0, end_ms = 12000, speaker = "0",
        text = "Without word timings the text of a long segment is shared out in proportion to its length, "
          .. "and cut at punctuation, so that no caption runs too wide or stays up too long." },
      { start_ms = 13000, end_ms = 20000,
        text = "没有词级时间戳的时候，字幕按照文字长度平均分配时间，并且在标点处切分，保证每一行都不超过十六个字。" },
    } }
    local cues = subtitle.cues(res)
    assert.is_true(#cues >= 4)
    local last_end, words = 0, {}
    for _, c in ipairs(cues) do
      assert.is_true(c.start_ms >= last_end and c.end_ms > c.start_ms)
      assert.is_true(c.end_ms - c.start_ms <= 7000)
      last_end = c.end_ms
      for _, l in ipairs(c.lines) do
        assert.is_true(subtitle.width(l, profile_of(l)) <= (profile_of(l) == "zh" and 16 or 42), l)
        if profile_of(l) == "latin" then for w in l:gmatch("%S+") do words[#words + 1] = w end end
      end
    end
    local orig = {}
    for w in res.segments[1].text:gmatch("%S+") do orig[#orig + 1] = w end
    assert.same(orig, words)
    assert.is_true(cues[1].start_ms == 0 and cues[#cues].end_ms >= 19000)
  end)

  -- Width by the rules (docs/subtitles.md), decoded here on its own: CJK ideographs, kana and
  -- full-width forms 1, combining marks 0, anything else `half` (valid UTF-8 of up to 3 bytes).
  local function ref_width(s, half)
    local w = 0
    for ch in s:gmatch(CHAR) do
      local b1, b2, b3 = ch:byte(1, 3)
      local cp = #ch == 1 and b1 or #ch == 2 and (b1 % 32) * 64 + b2 % 64
        or ((b1 % 16) * 64 + b2 % 64) * 64 + b3 % 64
      if (cp >= 0x3041 and cp <= 0x30FF) or (cp >= 0x4E00 and cp <= 0x9FFF) or (cp >= 0xFF01 and cp <= 0xFF60) then
        w = w + 1
      elseif cp < 0x300 or cp > 0x36F then
        w = w + half
      end
    end
    return w
  end

  -- Words mixing ASCII, CJK, kana, half-width katakana, full-width Latin and combining marks; with
  -- their punctuation each fits a 6-wide line in Chinese (half-width 0.5) and a 12-wide one in Latin.
  -- Spoken fast, so that reading speed decides when many events end.
  local MIXED = { "abc", "Python3", "中文", "漢字かな", "ｶﾀｶﾅ", "Ａｌｐ", "cafe\204\129", "e\204\129\204\129x",
                  "テキスト", "x", "OK", "字幕" }
  local function mixed_transcript(seed, n)
    local r = rng(seed)
    local segs, t, speaker = {}, r(0, 2000), "0"
    for i = 1, n do
      if r(1, 4) == 1 then speaker = speaker == "0" and "1" or "0" end
      local words, parts = {}, {}
      for k = 1, r(3, 14) do
        local w = { start_ms = t, end_ms = t + r(60, 300), text = MIXED[r(1, #MIXED)] }
        if r(1, 5) == 1 then w.punct = r(1, 2) == 1 and "，" or "." end
        words[k], parts[k] = w, w.text .. (w.punct or "")
        t = w.end_ms + (r(1, 8) == 1 and r(300, 1500) or r(0, 80))
        if not w.punct and r(1, 9) == 1 then       -- now and then a punctuation "word" of its own
          words[#words + 1] = { start_ms = t, end_ms = t + 20, text = "!" }
          parts[k] = parts[k] .. "!"
          t = t + 20
        end
      end
      segs[i] = { start_ms = words[1].start_ms, end_ms = words[#words].end_ms, words = words,
                  speaker = speaker, text = table.concat(parts, " ") }
      t = t + r(100, 900)
    end
    return { segments = segs }
  end

  it("measures mixed ASCII, CJK, combining and full-width text by the rules, in tight lines", function()
    local D = subtitle.DEFAULTS
    local gap = math.ceil(D.gap_frames * 1000 / D.fps)
    local res = mixed_transcript(21, 90)
    local words = all_words(res)
    for _, case in ipairs({ { profile = "zh", half = 0.5, line_chars = 6 },
                            { profile = "latin", half = 1, line_chars = 12 },
                            { profile = "latin", half = 1, line_chars = 42 } }) do
      local cps = subtitle.PROFILES[case.profile].cps
      local cues = subtitle.cues(res, { profile = case.profile, line_chars = case.line_chars })
      local wi, two, by_reading = 1, 0, 0
      for i, c in ipairs(cues) do
        local where = ("%s cue %d %q"):format(case.profile, i, table.concat(c.lines, " / "))
        assert.is_true(#c.lines <= 2, where .. ": lines")
        local reading, widths = 0, {}
        for k, l in ipairs(c.lines) do
          widths[k] = ref_width(l, case.half)
          assert.equal(widths[k], subtitle.width(l, case.profile), where)
          assert.is_true(widths[k] <= case.line_chars, where .. ": too wide")
          reading = reading + widths[k]
        end
        -- two lines only when one (with a joiner of at most half a character) would not do
        if #c.lines == 2 then
          two = two + 1
          assert.is_true(widths[1] + widths[2] + case.half > case.line_chars, where .. ": fits one line")
        end
        -- its words, in order: the text of its lines (spoken this fast, the last can end after it)
        local text, said, speech_end = table.concat(c.lines):gsub(" ", ""), "", c.start_ms
        while #said < #text and words[wi] do
          said = said .. words[wi].text
          speech_end = math.max(speech_end, words[wi].e)
          wi = wi + 1
        end
        assert.equal(text, said, where)
        -- on screen as long as its width takes to read, as far as the rules let it
        local nx = cues[i + 1]
        local limit = nx and nx.start_ms - gap or math.huge
        local need = c.start_ms + math.ceil(reading / cps * 1000)
        local target = math.max(speech_end, math.min(need, speech_end + D.linger_ms), c.start_ms + D.min_ms)
        local e = math.min(target, c.start_ms + D.max_ms, limit)
        if nx and nx.start_ms - e <= D.chain_ms then e = math.min(limit, c.start_ms + D.max_ms) end
        if e <= c.start_ms then e = c.start_ms + 1 end
        assert.equal(e, c.end_ms, where)
        if e == need then by_reading = by_reading + 1 end
      end
      assert.equal(#words + 1, wi, case.profile .. ": every word in a cue")
      assert.is_true(two > 10, case.profile .. ": two-line cues " .. two)
      assert.is_true(by_reading > 10, case.profile .. ": cues timed by their reading speed " .. by_reading)
    end
  end)

  it("gives the same cues for segments or words out of order and for a transcript said again later", function()
    local OFFSET = 100 * 3600000                 -- 100 hours: SRT times of three-digit hours
    local sets = { mixed_transcript(33, 60), transcript(9, { "en", "zh", "en", "ja" }, 60, { speakers = true }) }
    for _, res in ipairs(sets) do
      local base = subtitle.cues(res)
      assert.is_true(#base >= 40, "cues: " .. #base)
      local r = rng(77)
      local function shuffled(list)
        local out = {}
        for i, v in ipairs(list) do out[i] = v end
        for i = #out, 2, -1 do
          local j = r(1, i)
          out[i], out[j] = out[j], out[i]
        end
        return out
      end
      local function moved(seg, by, words)
        local ws = {}
        for i, w in ipairs(words or seg.words) do
          ws[i] = { start_ms = w.start_ms + by, end_ms = w.end_ms + by, text = w.text, punct = w.punct }
        end
        return { start_ms = seg.start_ms + by, end_ms = seg.end_ms + by, text = seg.text, speaker = seg.speaker,
                 language = seg.language, words = ws }
      end
      assert.same(base, subtitle.cues({ segments = shuffled(res.segments) }), "segments out of order")
      local segs = {}
      for i, s in ipairs(res.segments) do segs[i] = moved(s, 0, shuffled(s.words)) end
      assert.same(base, subtitle.cues({ segments = segs }), "words out of order")
      -- the transcript twice, the second time 100 hours later: the same cues, 100 hours later
      local twice = {}
      for i, s in ipairs(res.segments) do twice[i], twice[#res.segments + i] = s, moved(s, OFFSET) end
      local cues = subtitle.cues({ segments = twice })
      assert.equal(2 * #base, #cues)
      for i, c in ipairs(base) do
        assert.same(c, cues[i])
        assert.same({ start_ms = c.start_ms + OFFSET, end_ms = c.end_ms + OFFSET, lines = c.lines,
                      speaker = c.speaker }, cues[#base + i])
      end
      -- and SRT writes every time as it is, past 99 hours too
      local i = 0
      for a1, a2, a3, a4, b1, b2, b3, b4 in subtitle.srt({ segments = twice })
          :gmatch("\n(%d+):(%d%d):(%d%d),(%d%d%d) %-%-> (%d+):(%d%d):(%d%d),(%d%d%d)\n") do
        i = i + 1
        assert.equal(cues[i].start_ms, ms_of(a1, a2, a3, a4), "srt start " .. i)
        assert.equal(cues[i].end_ms, ms_of(b1, b2, b3, b4), "srt end " .. i)
      end
      assert.equal(#cues, i)
    end
  end)
end)

describe("subtitle writers", function()
  local sets = {}
  for i, set in ipairs(SETS) do sets[i] = { name = set.name, res = transcript(100 + i, set.kinds, 50, set.opts) } end

  for _, fmt in ipairs({ "srt", "vtt", "ass", "lrc" }) do
    it("write " .. fmt .. " that ffmpeg reads back with the same cues and times", function()
      -- ASS and LRC keep centiseconds
      local unit = (fmt == "ass" or fmt == "lrc") and 10 or 1
      for _, s in ipairs(sets) do
        local cues = subtitle.cues(s.res)
        local path = tmpfile(fmt, subtitle[fmt](s.res))
        local got, raw = ffmpeg_cues(path)
        os.remove(path)
        same_times(cues, got, unit, fmt .. " " .. s.name .. "\n" .. raw:sub(1, 300))
        for i, c in ipairs(cues) do
          -- the text survives (ffmpeg drops the voice tags of VTT and the Name of ASS)
          local first = c.lines[1]:match("^[^ ]+")
          assert.truthy(got[i].text:find(first, 1, true), fmt .. " cue " .. i .. ": " .. got[i].text)
        end
      end
    end)
  end

  it("write TTML that is well-formed XML with one <p> per cue and the same times", function()
    assert.is_true(have("xmllint"), "xmllint (Debian libxml2-utils) is needed")
    for _, s in ipairs(sets) do
      local cues = subtitle.cues(s.res)
      local doc = subtitle.ttml(s.res)
      local path = tmpfile("ttml", doc)
      local rc, out = run("xmllint --noout " .. H.sh_quote(path))
      os.remove(path)
      assert.equal(0, rc, out)
      local i = 0
      for b, e in doc:gmatch('<p begin="([%d:.]+)" end="([%d:.]+)"') do
        i = i + 1
        local h, m, sec, f = b:match("(%d+):(%d+):(%d+)%.(%d+)")
        assert.equal(cues[i].start_ms, ms_of(h, m, sec, f))
        h, m, sec, f = e:match("(%d+):(%d+):(%d+)%.(%d+)")
        assert.equal(cues[i].end_ms, ms_of(h, m, sec, f))
      end
      assert.equal(#cues, i)
    end
  end)

  it("write JSON with integer milliseconds and TXT with speaker labels and times", function()
    local res = sets[1].res
    local j = H.json(subtitle.cues_json(res))
    local cues = subtitle.cues(res)
    assert.equal(#cues, #j.cues)
    assert.same(cues[3], j.cues[3])
    assert.equal("en", j.language)
    local txt = subtitle.txt(res)
    local seg = res.segments[2]
    local stamp = ("[%02d:%02d:%02d.%03d] Speaker %s: "):format(math.floor(seg.start_ms / 3600000),
      math.floor(seg.start_ms / 60000) % 60, math.floor(seg.start_ms / 1000) % 60, seg.start_ms % 1000, seg.speaker)
    assert.truthy(txt:find(stamp .. seg.text, 1, true), stamp)
    assert.equal('{"cues":[]}\n', subtitle.cues_json({ segments = {} }))
  end)
end)

describe("subtitle escaping and odd input", function()
  local ODD = { segments = {
    { start_ms = 9000, end_ms = 10500, text = "out of order: Tom & Jerry <b>bold</b> --> arrow --->", speaker = "1" },
    { start_ms = 0, end_ms = 1500, text = "A & B < C > D", speaker = "0" },
    { start_ms = 1000, end_ms = 4000, text = "overlapping the first one", speaker = "1" },
    { start_ms = 5000, end_ms = 6000, text = "" },
    { start_ms = 6000, end_ms = 6000, text = "zero", words = {
        { start_ms = 6000, end_ms = 6000, text = "zero" }, { start_ms = 6000, end_ms = 6000, text = "length" } } },
    { start_ms = 7000, end_ms = 8500, text = "emoji 😀👍🏽 and 中文 {x} \\N", speaker = "2" },
  } }

  it("orders cues, removes overlaps and keeps zero-length words visible", function()
    local cues = subtitle.cues(ODD)
    assert.equal(5, #cues)
    for i, c in ipairs(cues) do
      assert.is_true(c.end_ms > c.start_ms, "cue " .. i)
      if i > 1 then assert.is_true(c.start_ms >= cues[i - 1].end_ms + 84, "cue " .. i) end
    end
    assert.equal("A & B < C > D", cues[1].lines[1])
    assert.equal("zero length", cues[3].lines[1])
  end)

  it("never writes --> inside SRT or WebVTT text and escapes & < > in WebVTT and TTML", function()
    local srt = subtitle.srt(ODD)
    for line in srt:gmatch("[^\n]+") do
      if line:find("-->", 1, true) then assert.matches("^%d%d:%d%d:%d%d,%d%d%d %-%-> %d%d:%d%d:%d%d,%d%d%d$", line) end
    end
    local vtt = subtitle.vtt(ODD)
    assert.matches("^WEBVTT\n\n", vtt)
    for line in vtt:gmatch("[^\n]+") do
      if line:find("-->", 1, true) then assert.matches("^[%d:.]+ %-%-> [%d:.]+$", line) end
    end
    assert.truthy(vtt:find("<v Speaker 0>A &amp; B &lt; C &gt; D</v>", 1, true))
    assert.truthy(vtt:find("Tom &amp; Jerry", 1, true))
    assert.truthy(vtt:find("&lt;b&gt;bold&lt;/b&gt; --&gt; arrow ---&gt;", 1, true))
    assert.truthy(vtt:find("emoji 😀👍🏽", 1, true))
    -- ffmpeg reads all five back, the text decoded again
    local path = tmpfile("vtt", vtt)
    local got = ffmpeg_cues(path)
    os.remove(path)
    assert.equal(5, #got)
    assert.equal("A & B < C > D", got[1].text)
    local ttml = subtitle.ttml(ODD)
    assert.truthy(ttml:find("A &amp; B &lt; C &gt; D", 1, true))
    if have("xmllint") then
      path = tmpfile("ttml", ttml)
      local rc, out = run("xmllint --noout " .. H.sh_quote(path))
      os.remove(path)
      assert.equal(0, rc, out)
    end
  end)

  it("keeps ASS override braces and backslashes out of the text", function()
    local ass = subtitle.ass(ODD)
    assert.falsy(ass:find("{x}", 1, true))
    assert.truthy(ass:find("｛x｝ ＼N", 1, true))
    assert.truthy(ass:find(",Default,Speaker 2,", 1, true))
  end)

  it("never puts words of two overlapping segments of one speaker in one event", function()
    local function seg(t0, t1, list)
      local words, t = {}, t0
      for i, w in ipairs(list) do
        local e = i == #list and t1 or t + 400
        words[i] = { start_ms = t, end_ms = e, text = w }
        t = e
      end
      return { start_ms = t0, end_ms = t1, speaker = "a", text = table.concat(list, " "), words = words }
    end
    local res = { segments = { seg(0, 3000, { "one", "two", "three", "four" }),
                               seg(2000, 5000, { "five", "six", "seven", "eight" }),   -- overlaps "four"
                               seg(5100, 6500, { "nine", "ten" }) } }
    local from = {}
    for i, s in ipairs(res.segments) do for _, w in ipairs(s.words) do from[w.text] = i end end
    local cues, said, last_end = subtitle.cues(res), {}, -1
    for i, c in ipairs(cues) do
      assert.is_true(c.start_ms > last_end and c.end_ms > c.start_ms, "cue " .. i)
      last_end = c.end_ms
      local segs = {}
      for w in table.concat(c.lines, " "):gmatch("%S+") do
        segs[from[w]] = true
        said[#said + 1] = w
      end
      assert.is_false(segs[1] and segs[2] or false, "cue " .. i .. ": " .. table.concat(c.lines, " / "))
    end
    assert.equal("one two three four five six seven eight nine ten", table.concat(said, " "))
  end)

  it("writes nothing but a header for an empty result", function()
    local empty = { segments = { { start_ms = 0, end_ms = 1000, text = "   " } } }
    assert.same({}, subtitle.cues(empty))
    assert.equal("", subtitle.srt(empty))
    assert.equal("WEBVTT\n\n", subtitle.vtt(empty))
    assert.equal("", subtitle.lrc({ segments = {} }))
    assert.equal("", subtitle.txt({ segments = {} }))
    assert.equal("hello\n", subtitle.txt({ text = "hello" }))
  end)
end)

describe("subtitle package", function()
  it("keeps the public names of stt.subtitle", function()
    local names = {}
    for k, v in pairs(subtitle) do names[#names + 1] = k .. ":" .. type(v) end
    table.sort(names)
    assert.same({ "DEFAULTS:table", "PROFILES:table", "ass:function", "ass_style:function", "csv:function",
                  "cues:function", "cues_json:function", "lrc:function", "sbv:function", "srt:function",
                  "tsv:function", "ttml:function", "txt:function", "vtt:function", "width:function" },
      names)
  end)

  it("shares a segment's time among zero-width units by count (no NaN times)", function()
    -- Text of zero-width characters only (a zero-width space, combining marks) and no word
    -- timings: the width-proportional split divided 0 by 0.
    local res = { segments = { { start_ms = 1000, end_ms = 3000, text = "\226\128\139 \204\129\204\129" } } }
    for _, c in ipairs(subtitle.cues(res)) do
      assert.is_true(c.start_ms == c.start_ms and c.end_ms == c.end_ms, "NaN time")
      assert.is_true(c.start_ms >= 1000 and c.end_ms <= 3000 and c.start_ms <= c.end_ms)
    end
    assert.matches("00:00:01,000 %-%->", subtitle.srt(res))
  end)

  it("writes the times of every format with one formatter", function()
    local timestamp = require("stt.subtitle.write").timestamp
    local MS = { 0, 59999, 3600000, 36000123 }
    local hms = { "00:00:00%s000", "00:00:59%s999", "01:00:00%s000", "10:00:00%s123" }
    local want = {
      ass = { "0:00:00.00", "0:00:59.99", "1:00:00.00", "10:00:00.12" },
      lrc = { "00:00.00", "00:59.99", "60:00.00", "600:00.12" },
    }
    for fmt, sep in pairs({ srt = ",", vtt = ".", ttml = ".", txt = "." }) do
      want[fmt] = {}
      for i, f in ipairs(hms) do want[fmt][i] = f:format(sep) end
    end
    for fmt, list in pairs(want) do
      for i, ms in ipairs(MS) do assert.equal(list[i], timestamp(ms, fmt), fmt .. " " .. ms) end
    end
    -- past 99 hours, negative and fractional times; an unknown format
    assert.equal("100:00:00,000", timestamp(360000000, "srt"))
    assert.equal("123:45:06.789", timestamp(((123 * 60 + 45) * 60 + 6) * 1000 + 789, "vtt"))
    assert.equal("00:00:00.000", timestamp(-5, "ttml"))
    assert.equal("00:00:01,999", timestamp(1999.9, "srt"))
    assert.equal("[00:01.99]", "[" .. timestamp(1999, "lrc") .. "]")
    assert.has_error(function() timestamp(0, "sub") end, "subtitle: unknown time format sub")
  end)
end)
