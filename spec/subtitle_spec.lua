-- The first-cut subtitle writers: cue splitting, escaping, and ffmpeg reading back what we write.
local H = require "helper"
local subtitle = require "stt.subtitle"

local function tmpfile(ext, content)
  local p = assert(H.popen("mktemp --suffix=." .. ext))
  local path = p:read("l")
  p:close()
  local f = assert(io.open(path, "wb"))
  f:write(content)
  f:close()
  return path
end

-- ffmpeg re-encodes the file as SRT: the cue count and times it read come back out.
local function ffmpeg_cues(path)
  local p = assert(H.popen("ffmpeg -loglevel error -i " .. H.sh_quote(path) .. " -f srt - 2>&1"))
  local out = p:read("*a")
  p:close()
  local times = {}
  for a, b in out:gmatch("(%d%d:%d%d:%d%d,%d%d%d) %-%-> (%d%d:%d%d:%d%d,%d%d%d)") do
    times[#times + 1] = a .. " --> " .. b
  end
  return times, out
end

local RESULT = {
  segments = {
    { start_ms = 0, end_ms = 1500, text = "Tom & Jerry <b>bold</b> --> arrow", speaker = "0" },
    { start_ms = 1600, end_ms = 9000, speaker = "1",
      text = "This sentence is long enough that it must be cut into more than one caption somewhere." },
    { start_ms = 9100, end_ms = 12000, text = "欢迎使用语音转写。这是一个模拟的服务。它会返回参考文本。" },
  },
}

describe("subtitle (first cut)", function()
  it("cuts long segments into cues of at most max_chars, in time order, without overlaps", function()
    local cues = subtitle.cues(RESULT)
    assert.is_true(#cues >= 4)
    for i, c in ipairs(cues) do
      assert.is_true(c.end_ms > c.start_ms)
      if i > 1 then assert.is_true(c.start_ms >= cues[i - 1].end_ms) end
      local _, chars = c.lines[1]:gsub("[^\128-\191]", "")
      assert.is_true(chars <= 42, c.lines[1])
    end
  end)

  it("never puts --> inside SRT text, and escapes & < > in WebVTT", function()
    local srt = subtitle.srt(RESULT)
    for line in srt:gmatch("[^\n]+") do
      if line:find("-->", 1, true) then assert.matches("^%d%d:%d%d:%d%d,%d%d%d %-%-> %d%d:%d%d:%d%d,%d%d%d$", line) end
    end
    local vtt = subtitle.vtt(RESULT)
    assert.matches("^WEBVTT\n", vtt)
    assert.truthy(vtt:find("Tom &amp; Jerry &lt;b&gt;bold&lt;/b&gt;", 1, true))
    assert.truthy(vtt:find("<v Speaker 0>", 1, true))
  end)

  it("writes SRT and WebVTT that ffmpeg reads back with the same cues and times", function()
    local want = {}
    for _, c in ipairs(subtitle.cues(RESULT)) do
      local function t(ms)
        return string.format("%02d:%02d:%02d,%03d", math.floor(ms / 3600000), math.floor(ms / 60000) % 60,
          math.floor(ms / 1000) % 60, ms % 1000)
      end
      want[#want + 1] = t(c.start_ms) .. " --> " .. t(c.end_ms)
    end
    for _, fmt in ipairs({ "srt", "vtt" }) do
      local path = tmpfile(fmt, subtitle[fmt](RESULT))
      local got, raw = ffmpeg_cues(path)
      assert.same(want, got, fmt .. ": " .. raw)
      os.remove(path)
    end
  end)

  it("labels speakers and times in the text export", function()
    local txt = subtitle.txt(RESULT)
    assert.truthy(txt:find("[00:00:01.600] Speaker 1: This sentence", 1, true))
  end)
end)
