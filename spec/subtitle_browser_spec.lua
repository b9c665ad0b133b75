-- Word-timed WebVTT in a real player: headless Chromium plays a silent clip made by ffmpeg through a
-- <video> with a <track>, seeks to two times, and the active cue's text (tags and timestamps taken
-- out by the browser's own WebVTT parser) must be the cue stt.subtitle cut for that time, Latin at
-- one time and CJK at the other.
local H = require "helper"
local B = require "browser_helper"
local G = require "subtitle_helper"
local subtitle = require "stt.subtitle"

local PAGE = [[<!doctype html><meta charset="utf-8"><body>
<video src="clip.webm" preload="auto" muted><track default kind="subtitles" srclang="en" src="x.vtt"></video>
<pre id="out">pending</pre>
<script>
var v = document.querySelector("video"), t = document.querySelector("track"), tr = v.textTracks[0];
var times = TIMES, out = [];
tr.mode = "hidden";
// Virtual time (--virtual-time-budget) runs ahead while nothing is scheduled, but a seek takes real
// time: a short heartbeat keeps the page busy until the answer is written, then lets it end.
var beat = setInterval(function () {}, 5);
function step(i) {
  if (i >= times.length) {
    document.getElementById("out").textContent = JSON.stringify(out);
    clearInterval(beat);
    return;
  }
  v.addEventListener("seeked", function h() {
    v.removeEventListener("seeked", h);
    setTimeout(function () {
      var c = tr.activeCues;
      out.push({ t: times[i], n: c ? c.length : -1, text: c && c.length ? c[0].getCueAsHTML().textContent : null });
      step(i + 1);
    }, 200);
  });
  v.currentTime = times[i];
}
v.addEventListener("error", function () { document.getElementById("out").textContent = "video error"; });
t.addEventListener("error", function () { document.getElementById("out").textContent = "track error"; });
var wait = setInterval(function () {
  if (v.readyState >= 1 && t.readyState === 2) { clearInterval(wait); step(0); }
}, 50);
</script>
]]

local missing = not B.available() and "chromium" or not G.have("ffmpeg") and "ffmpeg" or nil

describe("word-timed WebVTT in Chromium", function()
  if missing then
    pending(missing .. " is not installed (make deps)")
    return
  end

  it("shows the cue of each time through <video> and <track>, text without the word tags", function()
    -- English then Mandarin, each with speakers
    local en = G.transcript(501, { "en" }, 2, { speakers = true, language = "en" })
    local zh = G.transcript(502, { "zh" }, 2, { speakers = true, language = "zh" })
    local res = { segments = {} }
    for _, s in ipairs(en.segments) do res.segments[#res.segments + 1] = s end
    local shift = en.segments[#en.segments].end_ms + 600
    for _, s in ipairs(zh.segments) do
      local words = {}
      for i, w in ipairs(s.words) do
        words[i] = { text = w.text, punct = w.punct, start_ms = w.start_ms + shift, end_ms = w.end_ms + shift }
      end
      res.segments[#res.segments + 1] = { start_ms = s.start_ms + shift, end_ms = s.end_ms + shift, text = s.text,
                                          speaker = s.speaker, language = "zh", words = words }
    end
    local cues = subtitle.cues(res, { words = true })
    -- a Latin cue and a CJK cue, each with word timestamps, seen in their middle
    local picks = {}
    for _, c in ipairs(cues) do
      local cjk = c.lines[1]:find("[\228-\233]") ~= nil
      local k = cjk and 2 or 1
      if c.words and #c.words > 2 and not picks[k] then picks[k] = c end
    end
    assert.truthy(picks[1] and picks[2], "a Latin and a CJK cue")
    local seconds = math.ceil(picks[2].end_ms / 1000) + 1
    local vtt = subtitle.vtt(res, { word_timestamps = true })
    assert.truthy(vtt:find("><c>", 1, true))
    local dir = H.tmpdir()
    -- a silent VP8/Opus WebM, which Debian's Chromium plays
    local rc, out = H.run("cd " .. H.sh_quote(dir) .. " && ffmpeg -v error -f lavfi -i color=c=black:s=320x240:d="
      .. seconds .. " -f lavfi -i anullsrc=r=48000:cl=mono -shortest -c:v libvpx -b:v 50k -c:a libopus clip.webm")
    assert.equal(0, rc, out)
    H.write(dir .. "/x.vtt", vtt)
    local times = {}
    for i, c in ipairs(picks) do times[i] = (c.start_ms + c.end_ms) / 2000 end
    H.write(dir .. "/page.html", (PAGE:gsub("TIMES", "[" .. table.concat(times, ",") .. "]")))
    local page = B.open(dir .. "/page.html", { dom = true, budget_ms = 600000,
                                                flags = { "--allow-file-access-from-files" } })
    os.execute("rm -rf " .. H.sh_quote(dir))
    local raw = assert(page.dom and page.dom:match('<pre id="out">(.-)</pre>'), page.log:sub(-2000))
    raw = raw:gsub("&lt;", "<"):gsub("&gt;", ">"):gsub("&quot;", '"'):gsub("&amp;", "&")
    local seen = H.json(raw)
    assert.is_table(seen, raw)
    assert.equal(2, #seen)
    for i, c in ipairs(picks) do
      assert.equal(1, seen[i].n, "active cues at " .. times[i])
      assert.equal(table.concat(c.lines, "\n"), seen[i].text, "the cue at " .. times[i])
    end
  end)
end)
