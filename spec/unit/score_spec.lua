-- stt.score: hand-checked scores (Chinese, English, mixed, empty, identical, all insertions), the
-- normalizer's rules (each example of docs/scoring.md), invalid UTF-8, and the C aligner against
-- a plain dynamic programme on random texts, by both of its methods.
local stt = require "stt"
local dp = require "spec.score_dp"

local function ops(s)
  local t = {}
  for i, a in ipairs(s.alignment) do t[i] = a.op .. (a.ref or "") .. "|" .. (a.hyp or "") end
  return table.concat(t, " ")
end

describe("stt.score", function()
  it("scores Chinese character by character", function()
    local s = stt.score("今田天气很好", "今天天气很好。")
    assert.equal("char", s.unit)
    assert.equal(6, s.ref_units)
    assert.equal(1, s.errors)
    assert.equal(1, s.substitutions)
    assert.near(1 / 6, s.rate, 1e-12)
    assert.equal("=今|今 S天|田 =天|天 =气|气 =很|很 =好|好", ops(s))
  end)

  it("scores English word by word, case and punctuation aside", function()
    local s = stt.score("the quick brown fox jumped over a lazy dog", "The quick brown fox jumps over the lazy dog.")
    assert.equal("word", s.unit)
    assert.equal(9, s.ref_units)
    assert.same({ 2, 0, 0 }, { s.substitutions, s.deletions, s.insertions })
    assert.near(2 / 9, s.rate, 1e-12)
  end)

  it("scores mixed text in one alignment: CJK by character, other scripts by word", function()
    local s = stt.score("我们用 python 写了代码", "我们用Python写代码")
    assert.equal("mixed", s.unit)
    assert.equal(7, s.ref_units)                 -- 我 们 用 python 写 代 码
    assert.same({ 0, 0, 1 }, { s.substitutions, s.deletions, s.insertions })
    assert.equal("=我|我 =们|们 =用|用 =python|python =写|写 I|了 =代|代 =码|码", ops(s))
    -- unsegmented Chinese scored by words is nearly all wrong: what "auto" is for
    local w = stt.score("我们用 python 写了代码", "我们用Python写代码", { unit = "word" })
    assert.equal(1, w.ref_units)                 -- the whole reference is one "word"
    assert.equal(3, w.rate)
  end)

  it("counts deletions and insertions", function()
    local d = stt.score("a d", "a b c d")
    assert.same({ 0, 2, 0, 4 }, { d.substitutions, d.deletions, d.insertions, d.ref_units })
    assert.equal("=a|a Db| Dc| =d|d", ops(d))
    local i = stt.score("um hello uh world er", "hello world")   -- all insertions
    assert.same({ 0, 0, 3 }, { i.substitutions, i.deletions, i.insertions })
    assert.equal(1.5, i.rate)                    -- a rate can pass 100 %
  end)

  it("gives 0 for identical texts and an undefined rate for an empty reference", function()
    local s = stt.score("Same text, 同样的文字", "same text 同样的文字！")
    assert.equal(0, s.rate)
    assert.equal(0, s.errors)
    assert.equal(s.ref_units, s.matches)
    local e = stt.score("hello there", "")
    assert.is_nil(e.rate)
    assert.matches("undefined", e.undefined)
    assert.equal(2, e.insertions)
    local z = stt.score("", "")
    assert.is_nil(z.rate)
    assert.equal(0, z.errors)
    local all = stt.score("", "一二三")
    assert.same({ 3, 1 }, { all.deletions, all.rate })
  end)

  it("refuses invalid UTF-8 with the byte offset", function()
    local s, err = stt.score("ok \255", "ok")
    assert.is_nil(s)
    assert.equal("invalid", err.kind)
    assert.matches("hypothesis: invalid UTF%-8 at byte offset 3", err.message)
    s, err = stt.score("ok", "abc\237\160\128")          -- an encoded surrogate
    assert.is_nil(s)
    assert.matches("reference: invalid UTF%-8 at byte offset 3", err.message)
    assert.is_nil((stt.score("ok", "\192\175")))           -- an overlong "/"
  end)

  it("can leave the alignment out and take other units", function()
    local s = stt.score("abd", "abc", { unit = "char", alignment = false })
    assert.is_nil(s.alignment)
    assert.equal(1, s.substitutions)
    assert.equal("char", s.unit)
    assert.has_error(function() stt.score("a", "b", { unit = "phoneme" }) end)
    assert.has_error(function() stt.score("a", "b", { units = "char" }) end)
    assert.has_error(function() stt.score(nil, "b") end)
  end)
end)

describe("stt.score.normalize", function()
  local N = stt.score.normalize
  it("follows each documented rule", function()
    assert.equal("abc123", N("ＡＢＣ１２３"))                       -- full-width -> half-width
    assert.equal("strasse strasse", N("Straße STRASSE"))            -- case folding, ß
    assert.equal("δοκιμή тест élan", N("ΔΟΚΙΜΉ ТЕСТ Élan"))        -- Greek, Cyrillic, Latin-1
    assert.equal("今天 天气很好 真的吗", N("今天，天气很好！“真的吗？”"))  -- CJK punctuation
    assert.equal("hello world", N("  Hello,\tworld!!  "))           -- whitespace collapsed
    assert.equal("dont stop", N("Don't stop"))                      -- apostrophe inside a word
    assert.equal("rock n roll", N("'rock' n' roll'"))               -- quotes are not apostrophes
    assert.equal("1000 3.5", N("1,000 3.5"))                        -- digits' separators
    assert.equal("100 5", N("™ 100 ℃ → 5 ★"))                      -- symbols go too
  end)
  it("turns Chinese numerals into digits on request", function()
    local o = { numerals = "arabic" }
    assert.equal("23 个人", N("二十三个人", o))
    assert.equal("2024 年", N("二〇二四年", o))
    assert.equal("1984", N("一千九百八十四", o))
    assert.equal("105", N("一百零五", o))
    assert.equal("15", N("十五", o))
    assert.equal("120000", N("十二万", o))
    assert.equal("200000000", N("两亿", o))
    assert.equal("二十三个人", N("二十三个人"))                      -- off by default
    -- both sides in digits: spoken and written forms agree
    assert.equal(0, stt.score("我有23个苹果", "我有二十三个苹果", o).errors)
  end)
  it("applies the user's replacements to whole units", function()
    local r = { { "OK", "okay" }, { "New York City", "NYC" }, { "新冠", "新型冠状病毒" } }
    assert.equal("okay the book is okay", N("OK, the book is ok.", { replacements = r }))
    assert.equal("nyc is big", N("New York city is big", { replacements = r }))
    assert.equal("新型冠状病毒疫情", N("新冠疫情", { replacements = r }))
    local list = assert(stt.score.replacements("# comment\nOK\tokay\ngonna => going to\n"))
    assert.equal("going to be okay", N("Gonna be OK", { replacements = list }))
    local bad, err = stt.score.replacements("no separator here")
    assert.is_nil(bad)
    assert.matches("line 1", err.message)
  end)
end)

describe("the aligner", function()
  local function check(a, b, max_entries)
    local r = require("stt.core").score_align(table.concat(a, " "), table.concat(b, " "), "word", true, max_entries)
    local ra, hb, cost = {}, {}, 0
    for _, x in ipairs(r.alignment) do
      if x.ref then ra[#ra + 1] = x.ref end
      if x.hyp then hb[#hb + 1] = x.hyp end
      if x.op == "=" then assert.equal(x.ref, x.hyp) else cost = cost + 1 end
      if x.op == "S" then assert.are_not.equal(x.ref, x.hyp) end
    end
    local want = dp.distance(a, b)
    assert.equal(want, r.distance)
    assert.equal(want, cost)
    assert.same(a, ra)
    assert.same(b, hb)
  end

  it("finds the least edit distance with a script that rebuilds both texts (both methods)", function()
    math.randomseed(20261205)
    local alpha = { "a", "b", "c", "d" }
    for t = 1, 3000 do
      local a, b = {}, {}
      local k = math.random(1, 4)
      for i = 1, math.random(0, 14) do a[i] = alpha[math.random(1, k)] end
      for i = 1, math.random(0, 14) do b[i] = alpha[math.random(1, k)] end
      check(a, b, t % 2 == 0 and 4 or nil)     -- every other pair by the linear-memory method
    end
    for _ = 1, 20 do                          -- longer texts that are mostly alike
      local a, b = {}, {}
      for i = 1, 400 do a[i] = alpha[math.random(1, 4)] .. math.random(1, 9) end
      for i = 1, 400 do
        local r = math.random()
        if r < 0.05 then b[#b + 1] = "x" elseif r < 0.1 then b[#b + 1] = a[i]; b[#b + 1] = "y"
        elseif r > 0.95 then b[#b + 1] = a[i] end
        if r >= 0.1 and r <= 0.95 then b[#b + 1] = a[i] end
      end
      check(a, b)
      check(a, b, 64)
    end
  end)
end)
