-- stt.compare.markdown and stt.compare.html: the two report writers of `stt compare`, on the
-- fixture report in spec/fixtures/compare_report.lua (Chinese, English and mixed files, four
-- configurations, one failed job, a file without a reference, one with an empty reference, one
-- configuration without a price). Pure: no browser, no simulator (spec/compare_browser_spec.lua
-- opens the page in Chromium).
local markdown = require "stt.compare.markdown"
local html = require "stt.compare.html"

local function fixture() return dofile("spec/fixtures/compare_report.lua") end

local function count(s, plain)
  local n, i = 0, 1
  while true do
    local a, b = s:find(plain, i, true)
    if not a then return n end
    n, i = n + 1, b + 1
  end
end

local function config(report, id)
  for _, c in ipairs(report.configs) do if c.id == id then return c end end
end

describe("the compare report fixture", function()
  it("agrees with itself: S/D/I are the alignments' counts and summaries add up", function()
    for _, c in ipairs(fixture().configs) do
      local S, D, I, R = 0, 0, 0, 0
      for _, f in ipairs(c.files) do
        if f.alignment then
          local k = { S = 0, D = 0, I = 0, ["="] = 0 }
          for _, a in ipairs(f.alignment) do k[a.op] = k[a.op] + 1 end
          assert.are.same({ f.substitutions, f.deletions, f.insertions }, { k.S, k.D, k.I })
          assert.are.equal(f.ref_units, k.S + k.D + k["="])
          if f.state == "scored" then
            S, D, I, R = S + k.S, D + k.D, I + k.I, R + f.ref_units
            assert.is_true(math.abs(f.rate - (k.S + k.D + k.I) / f.ref_units) < 1e-4)
          end
        end
      end
      local s = c.summary
      assert.are.same({ S, D, I, R, S + D + I }, { s.substitutions, s.deletions, s.insertions, s.ref_units, s.errors })
      assert.is_true(math.abs(s.rate - (S + D + I) / R) < 1e-4)
      assert.are.equal(s.files, s.scored + s.unscored + s.failed)
    end
  end)
end)

describe("stt.compare.markdown.render", function()
  local md = markdown.render(fixture())

  local function section(title)
    return md:match("\n## " .. title .. "\n(.-)\n##") or md:match("\n## " .. title .. "\n(.*)$")
  end

  it("starts with a title, the time and what the unit is", function()
    assert.truthy(md:find("^# Speech%-to%-text comparison\n"))
    assert.truthy(md:find("2026-12-05T11:20:00Z", 1, true))
    assert.truthy(md:find("Units: mixed: CJK text (Han, kana, Hangul) is scored character by character, "
      .. "other scripts word by word.", 1, true))
  end)

  it("ranks the configurations by error rate, with every figure formatted and unknown ones blank", function()
    local rows = {}
    for l in section("Ranking"):gmatch("[^\n]+") do rows[#rows + 1] = l end
    assert.are.equal(6, #rows)   -- header, rule, four configurations
    assert.are.equal("| Rank | Configuration | Error rate | S / D / I | Ref units | Scored / failed / unscored | "
      .. "Median wall time | Median RTF | Audio | Billed | Cost |", rows[1])
    assert.are.equal("| 1 | volcengine-auc | 5.3 % | 2 / 0 / 0 | 38 | 3 / 0 / 2 | 9.0 s | 0.45 | 2 min 04 s |  |  |",
      rows[3])
    assert.are.equal("| 2 | dashscope:paraformer-v2{speakers=2,disfluency=true} | 10.5 % | 0 / 0 / 4 | 38 | 3 / 0 / 2 "
      .. "| 4.4 s | 0.22 | 2 min 04 s | 2 min 05 s | 0.0104 USD |", rows[4])
    assert.are.equal("| 3 | dashscope:paraformer-v2 | 13.2 % | 3 / 1 / 1 | 38 | 3 / 0 / 2 | 4.1 s | 0.20 | 2 min 04 s "
      .. "| 2 min 05 s | 0.0104 USD |", rows[5])
    assert.are.equal("| 4 | dashscope:sensevoice-v1 | 28.0 % | 2 / 2 / 3 | 25 | 2 / 1 / 2 | 2.8 s | 0.17 | 1 min 44 s "
      .. "| 1 min 45 s | 0.0073 USD |", rows[6])
  end)

  it("shows a failed job as failed, not as 100 %, and unscored and undefined files as such", function()
    local t = section("Error rate per file")
    assert.truthy(t:find("\n| en_1 | 13 | 7.7 % | 15.4 % | 15.4 % | failed: download |\n", 1, true))
    assert.truthy(t:find("\n| talk_4 |  | unscored | unscored | unscored | unscored |\n", 1, true))
    assert.truthy(t:find("\n| empty_1 | 0 | undefined (empty reference) | undefined (empty reference) | "
      .. "undefined (empty reference) | undefined (empty reference) |", 1, true))
    assert.falsy(md:find("100.0 %", 1, true))
  end)

  it("lists failed jobs with their messages and unscored files with the reason", function()
    local n = section("Notes")
    assert.truthy(n:find("- dashscope:sensevoice-v1 × en_1: download — the provider could not fetch "
      .. "https://media.example.com/audio/en_1.mp3: HTTP 404 \\| Not Found (not retryable)", 1, true))
    assert.truthy(n:find("- talk_4: no reference file ref/talk_4.txt", 1, true))
    assert.truthy(n:find("- empty_1: empty reference: error rate undefined", 1, true))
    -- a job left unscored for a reason of its own (its input had a reference) is named with it
    local r = fixture()
    local f = config(r, "dashscope:paraformer-v2").files[3]
    f.state, f.reason, f.rate, f.alignment = "unscored", "the hypothesis is not UTF-8 (byte 7)", nil, nil
    local line = "mix_1 × dashscope:paraformer-v2: the hypothesis is not UTF-8 (byte 7)"
    assert.truthy(markdown.render(r):find("\n- " .. line .. "\n", 1, true))
    assert.truthy(html.render(r):find("<li><b>mix_1 × dashscope:paraformer-v2</b>: the hypothesis is not UTF-8 "
      .. "(byte 7)</li>", 1, true))
  end)

  it("escapes pipes: every table row has as many cells as its header", function()
    local r = fixture()
    config(r, "volcengine-auc").id = "volcengine-auc{hotwords=a|b}"
    local out = markdown.render(r)
    assert.truthy(out:find("volcengine-auc{hotwords=a\\|b}", 1, true))
    local cells
    for l in out:gmatch("[^\n]+") do
      if l:sub(1, 1) == "|" then
        local n = select(2, l:gsub("\\|", ""):gsub("|", ""))
        if l:find("^| Rank") or l:find("^| File") then cells = n end
        assert.are.equal(cells, n, l)
      else
        cells = nil
      end
    end
  end)

  it("is deterministic and refuses a malformed report", function()
    assert.are.equal(md, markdown.render(fixture()))
    assert.has_error(function() markdown.render(nil) end)
    assert.has_error(function() markdown.render({ created = "x", inputs = {} }) end)
    local r = fixture()
    r.configs[2].files[1].state = "done"
    assert.has_error(function() markdown.render(r) end, "compare report: report.configs[2].files[1].state "
      .. "must be scored, unscored, failed or undefined")
    r = fixture()
    r.configs[1].files[1].input = "nope"
    assert.has_error(function() markdown.render(r) end)
  end)

  it("says when nothing was priced or scored", function()
    local r = fixture()
    r.currency = nil
    for _, c in ipairs(r.configs) do
      c.rank, c.summary.rate, c.summary.cost = nil, nil, nil
    end
    local out = markdown.render(r)
    assert.truthy(out:find("| – | dashscope:paraformer-v2 |  |", 1, true))
  end)
end)

describe("stt.compare.html.render", function()
  local page = html.render(fixture())

  it("is one self-contained page: CSP and viewport meta, no scripts, nothing external", function()
    assert.truthy(page:find('<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
      .. 'style-src \'unsafe-inline\'; img-src data:">', 1, true))
    assert.truthy(page:find('<meta name="viewport" content="width=device-width,initial-scale=1">', 1, true))
    assert.truthy(page:find('<meta charset="utf-8">', 1, true))
    local lower = page:lower()
    for _, bad in ipairs({ "<script", "<link", "<img", "<iframe", "<object", "<embed", "@import", " src=",
                           " href=", "xlink:", "@font-face" }) do
      assert.falsy(lower:find(bad, 1, true), bad)
    end
    for u in lower:gmatch("url%(([^)]*)%)") do assert.truthy(u:find("^#"), u) end
    local attrs = 0
    for v in page:gmatch('=%s*"([^"]*)"') do
      attrs = attrs + 1
      assert.falsy(v:lower():find("http", 1, true), v)
    end
    assert.is_true(attrs > 100)
    assert.truthy(page:find('"Noto Sans CJK SC"', 1, true))
  end)

  it("escapes every text: a hypothesis with <script> and quotes appears as text", function()
    assert.truthy(page:find("Let&#39;s talk about &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; A &amp; B | "
      .. "C&#39;s &quot;plan&quot;.", 1, true))
    local r = fixture()
    config(r, "dashscope:paraformer-v2").id = 'a<b>&"c"'
    r.inputs[1].name = "<i>zh</i>"
    for _, c in ipairs(r.configs) do c.files[1].input = "<i>zh</i>" end
    local out = html.render(r)
    assert.falsy(out:find('a<b>&"c"', 1, true))
    assert.falsy(out:find("<i>zh", 1, true))
    assert.truthy(out:find("a&lt;b&gt;&amp;&quot;c&quot;", 1, true))
    assert.truthy(out:find("&lt;i&gt;zh&lt;/i&gt;", 1, true))
  end)

  it("draws three charts, each an inline SVG with a title and a description", function()
    assert.are.equal(3, count(page, "<svg "))
    assert.are.equal(3, count(page, "</svg>"))
    for svg in page:gmatch("<svg .-</svg>") do
      assert.truthy(svg:find('viewBox="0 0 %d+ %d+"'))
      assert.truthy(svg:find('role="img"', 1, true))
      assert.truthy(svg:find("^<svg [^>]*><title id=\"[%w-]+\">[^<]+</title><desc id=\"[%w-]+\">[^<]+</desc>"))
    end
    assert.truthy(page:find("<title id=\"c-rate-t\">Error rate per configuration</title>", 1, true))
    assert.truthy(page:find("<title id=\"c-wall-t\">Wall time per configuration</title>", 1, true))
    assert.truthy(page:find("<title id=\"c-cost-t\">Cost against error rate</title>", 1, true))
    -- the scatter leaves out the configuration without a price, and says so
    local cost = page:match("<svg [^>]*><title id=\"c%-cost%-t\">.-</svg>")
    assert.truthy(cost:find("No price: volcengine-auc", 1, true))
    assert.are.equal(3, count(cost, "<circle cx=") / 2)
  end)

  it("says 'no prices given' instead of an empty scatter", function()
    local r = fixture()
    r.currency = nil
    for _, c in ipairs(r.configs) do
      c.summary.cost = nil
      for _, f in ipairs(c.files) do f.cost = nil end
    end
    local out = html.render(r)
    assert.are.equal(2, count(out, "<svg "))
    assert.truthy(out:find("No prices given", 1, true))
  end)

  it("ranks the tables like the markdown and shows a failed job as failed", function()
    local ranking = page:match("<h2>Ranking</h2>(.-)</table>")
    local ids = {}
    for id in ranking:gmatch('<td class="l">([^<]*)</td>') do ids[#ids + 1] = id end
    assert.are.same({ "volcengine-auc", "dashscope:paraformer-v2{speakers=2,disfluency=true}",
                      "dashscope:paraformer-v2", "dashscope:sensevoice-v1" }, ids)
    local files = page:match("<h2>Error rate per file</h2>(.-)</table>")
    assert.truthy(files:find('<td class="bad">failed: download</td>', 1, true))
    assert.truthy(files:find('<td class="muted">undefined (empty reference)</td>', 1, true))
    assert.falsy(page:find("100.0 %", 1, true))
  end)

  it("marks as many substitutions, deletions and insertions in each diff as the alignment has", function()
    local r = fixture()
    local seen = 0
    -- the per-file blocks come in input order, the configurations in rank order
    local ranked = markdown.format.ranked(r)
    local k = 0
    for _, inp in ipairs(r.inputs) do
      for _, c in ipairs(ranked) do
        k = k + 1
        local chunk = page:match('<div class="cfg" data%-n="' .. k .. '">(.-)</div><!%-%-/cfg%-%->')
        local f = markdown.format.by_input(c)[inp.name]
        assert.truthy(chunk, inp.name .. " " .. c.id)
        assert.truthy(chunk:find("<h4>" .. (("#" .. c.rank .. " " .. c.id):gsub("%p", "%%%0")) .. "</h4>"))
        if f.alignment then
          seen = seen + 1
          assert.are.equal(f.substitutions, count(chunk, '<mark class="op-s"'), inp.name .. " " .. c.id)
          assert.are.equal(f.substitutions, count(chunk, '<mark class="ref-s"'))
          assert.are.equal(f.deletions, count(chunk, '<del class="op-d"'))
          assert.are.equal(f.insertions, count(chunk, '<ins class="op-i"'))
        else
          assert.falsy(chunk:find('class="op-', 1, true))
        end
      end
    end
    assert.are.equal(15, seen)
  end)

  it("joins CJK characters without spaces and words with them", function()
    assert.truthy(page:find('<p class="r">今天天气很好我们去公园散步吧</p><p class="h">今天天气很好我们去公园散步吧</p>',
      1, true))
    assert.truthy(page:find('<p class="r">the quick brown fox jumps over the lazy dog near the river bank</p>', 1,
      true))
    assert.truthy(page:find('<p class="r">我们用 python 写了一个 api 服务</p>', 1, true))
    assert.truthy(page:find('今天天气很好我们去公园<mark class="op-s" title="reference: 散">三</mark>步吧', 1, true))
    assert.truthy(page:find('over <del class="op-d">the</del> lazy', 1, true))
  end)

  it("joins tokens by the scorer's rule: no space only between two single CJK characters", function()
    local is_cjk = require("stt.score.normalize").is_cjk
    local u8 = require("stt.score.normalize").utf8_char   -- no utf8 library in Lua 5.1
    local cps = { 0x41, 0xE9, 0x3004, 0x2FFF, 0xFF65, 0xFFA0, 0x1F600, 0x31350, 0x3190, 0xD7B0 }
    for _, r in ipairs({ { 0x3400, 0x4DBF }, { 0x4E00, 0x9FFF }, { 0xF900, 0xFAFF }, { 0x20000, 0x3134F },
                         { 0x3005, 0x3007 }, { 0x3040, 0x30FF }, { 0x31F0, 0x31FF }, { 0xFF66, 0xFF9F },
                         { 0xAC00, 0xD7AF }, { 0x1100, 0x11FF }, { 0x3130, 0x318F } }) do
      for _, cp in ipairs({ r[1] - 1, r[1], r[2], r[2] + 1 }) do cps[#cps + 1] = cp end
    end
    local r = fixture()
    local f = r.configs[1].files[1]
    for _, cp in ipairs(cps) do
      local c = u8(cp)
      f.alignment = { { op = "=", ref = "w", hyp = "w" }, { op = "=", ref = c, hyp = c },
                      { op = "=", ref = c, hyp = c }, { op = "=", ref = "w", hyp = "w" } }
      local joined = is_cjk(c) and (c .. c) or (c .. " " .. c)
      assert.truthy(html.render(r):find('<p class="h">w ' .. joined .. ' w</p>', 1, true), string.format("U+%04X", cp))
    end
  end)

  it("cuts a long alignment into rows, reference beside hypothesis, without losing a token", function()
    local r = fixture()
    local f = r.configs[1].files[1]
    local al, words = {}, {}
    for i = 1, 400 do
      local tok = i % 3 == 0 and "字" or ("word" .. i)
      al[i] = { op = i % 50 == 0 and "S" or "=", ref = tok, hyp = i % 50 == 0 and "x" or tok }
      words[#words + 1] = tok
    end
    f.alignment = al
    local out = html.render(r)
    local block = out:match('<div class="cfg" data%-n="3">(.-)<!%-%-/cfg%-%->')
    local rows, refs = 0, {}
    for ref, hyp in block:gmatch('<div class="row"><p class="r">(.-)</p><p class="h">(.-)</p></div>') do
      rows = rows + 1
      assert.is_true(#ref > 0 and #hyp > 0)
      refs[#refs + 1] = (ref:gsub("<[^>]+>", ""))
    end
    assert.is_true(rows > 20, rows .. " rows")
    assert.are.equal(8, count(block, '<mark class="op-s"'))
    -- the rows hold the tokens in order: joined again they give the reference
    local again = {}
    for _, line in ipairs(refs) do
      for tok in line:gmatch("%S+") do
        for piece in tok:gsub("字", " 字 "):gmatch("%S+") do again[#again + 1] = piece end
      end
    end
    assert.are.same(words, again)
    assert.falsy(out:match('<details class="file" open><summary><b>zh_1'))
  end)

  it("is deterministic and refuses a malformed report", function()
    assert.are.equal(page, html.render(fixture()))
    assert.has_error(function() html.render({}) end)
    local r = fixture()
    r.configs[1].files[1].alignment[1].op = "X"
    assert.has_error(function() html.render(r) end)
  end)

  it("renders a report where nothing was scored", function()
    local r = fixture()
    for _, c in ipairs(r.configs) do
      c.rank, c.summary.rate = nil, nil
      for _, f in ipairs(c.files) do
        if f.state == "scored" then f.state, f.rate, f.alignment = "unscored", nil, nil end
      end
    end
    local out = html.render(r)
    assert.truthy(out:find("nothing was scored", 1, true))
    assert.truthy(out:find("No configuration has both a cost and an error rate.", 1, true))
  end)
end)
