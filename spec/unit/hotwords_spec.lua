-- stt.hotwords: loading formats, normalization and dedupe, validation messages and encoding per
-- provider (docs/subtitles.md#hot-words).
local H = require "helper"
local stt = require "stt"
local core = require "stt.core"
local hotwords = stt.hotwords

local function words(hw)
  local out = {}
  for i, e in ipairs(hw:list()) do out[i] = e.word end
  return out
end

local tmpfile = H.tmpfile

local function has_problem(problems, pattern)
  for _, p in ipairs(problems or {}) do if p:find(pattern) then return true end end
  return false
end

describe("hotwords loading", function()
  it("reads one word per line, word|weight, word<TAB>weight, comments, a BOM and CRLF", function()
    local hw = hotwords.load("\239\187\191# product names\r\nKubernetes|5\r\n  lua   stt  \r\n\r\n赛德克巴莱\t3\r\n")
    assert.same({ { word = "Kubernetes", weight = 5 }, { word = "lua stt" }, { word = "赛德克巴莱", weight = 3 } },
      hw:list())
  end)

  it("reads CSV with a weight column, a header, quoting and a lang column", function()
    local hw = hotwords.load('text,weight,lang\n"Smith, John",4,en\n通义千问,5,zh\n"say ""hi""",,\n')
    assert.same({ { word = "Smith, John", weight = 4, lang = "en" }, { word = "通义千问", weight = 5, lang = "zh" },
                  { word = 'say "hi"' } }, hw:list())
    hw = hotwords.load("alpha,2\nbeta,3\n")
    assert.same({ { word = "alpha", weight = 2 }, { word = "beta", weight = 3 } }, hw:list())
    hw = hotwords.load("weight,word\n1,gamma\n")
    assert.same({ { word = "gamma", weight = 1 } }, hw:list())
  end)

  it("reads a file by path, a table of strings or entries, and a word->weight map", function()
    local path = tmpfile("one|1\ntwo|2\n")
    assert.same({ "one", "two" }, words(hotwords.load(path)))
    os.remove(path)
    assert.same({ "a b", "c" }, words(hotwords.new({ " a  b ", { text = "c", weight = 2 } })))
    assert.same({ { word = "x", weight = 1 }, { word = "y", weight = 5 } }, hotwords.new({ y = 5, x = 1 }):list())
    local hw = hotwords.new({ "z" })
    assert.equal(hw, hotwords.from(hw))
    assert.has_error(function() hotwords.new(42) end)
  end)

  it("dedupes: Latin case-insensitively, CJK exactly, zero-width characters dropped, max weight kept", function()
    local hw = hotwords.new({ "Kubernetes", { word = "kubernetes", weight = 5 }, "KUBERNETES", "语音",
                              "语\226\128\139音", "語音", "", "   " })
    assert.same({ { word = "Kubernetes", weight = 5 }, { word = "语音" }, { word = "語音" } }, hw:list())
  end)
end)

describe("hotwords validation", function()
  it("accepts a good list for every provider", function()
    local hw = hotwords.new({ { word = "赛德克巴莱", weight = 4 }, { word = "lua stt", weight = 2 } })
    for _, p in ipairs({ { "dashscope", "paraformer-v2" }, { "dashscope", "fun-asr" },
                         { "dashscope", "qwen3-asr-flash-filetrans" }, { "volcengine" }, { "turing" } }) do
      local ok, problems = hw:validate(p[1], p[2])
      assert.is_true(ok, p[1] .. " " .. tostring(p[2]) .. ": " .. table.concat(problems or {}, "; "))
    end
  end)

  it("names the word and the rule: DashScope vocabulary", function()
    local hw = hotwords.new({ { word = "赛德克巴莱赛德克巴莱赛德克巴莱赛", weight = 3 },   -- 16 > 15
                              { word = "one two three four five six seven eight" },        -- 8 > 7 words
                              { word = "EGFR抑制剂", weight = 6 },                          -- weight > 5
                              { word = "ok", weight = 2.5 } })
    local ok, problems = hw:validate("dashscope", "paraformer-v2")
    assert.is_nil(ok)
    assert.is_true(has_problem(problems, '"赛德克巴莱赛德克巴莱赛德克巴莱赛": length: is 16 characters'), problems[1])
    assert.is_true(has_problem(problems, '"one two three four five six seven eight": length: has 8 words'))
    assert.is_true(has_problem(problems, '"EGFR抑制剂": weight: 6 is not an integer in %[1, 5%]'))
    assert.is_true(has_problem(problems, '"ok": weight: 2.5'))
    assert.equal(4, #problems)
    local many = {}
    for i = 1, 501 do many[i] = "w" .. i end
    ok, problems = hotwords.new(many):validate("dashscope", "paraformer-v2")
    assert.is_nil(ok)
    assert.is_true(has_problem(problems, "^count: 501 hotwords; .* at most 500"))
  end)

  it("names the word and the rule: Volcengine, Turing, and models without hotwords", function()
    -- Volcengine's < 10 characters and no-punctuation rules are documented for console tables,
    -- not for the corpus.context form: breaking them warns (and the list is sent), never refuses.
    local hw = hotwords.new({ "火山引擎语音识别大模型", "hello!", "奥迪A4L", "Doris Jackson" })
    local ok, problems = hw:validate("volcengine")
    assert.is_true(ok)
    assert.is_true(has_problem(problems, '"火山引擎语音识别大模型": length: is 11 characters.*UNCONFIRMED'))
    assert.is_true(has_problem(problems, '"hello!": characters: .*no punctuation.*UNCONFIRMED'))
    assert.is_true(has_problem(problems, '"Doris Jackson": length: is 13 characters.*UNCONFIRMED'))
    local value, field, warnings = hw:encode("volcengine")
    assert.equal("data.request.corpus.context", field)
    assert.matches("Doris Jackson", value)
    assert.equal(#problems, #warnings)
    -- Turing's rules are Tingwu's (an inference): a weight out of Tingwu's range warns too; a
    -- weight that is no number at all is refused.
    ok, problems = hotwords.new({ { word = "语音", weight = -7 } }):validate("turing")
    assert.is_true(ok)
    assert.is_true(has_problem(problems, '"语音": weight: %-7 is not an integer in %[%-6, 5%].*UNCONFIRMED'))
    ok, problems = hotwords.new({ { word = "识别", weight = "high" } }):validate("turing")
    assert.is_nil(ok)
    assert.is_true(has_problem(problems, '"识别": weight: high'))
    -- DashScope's limits are documented: they refuse.
    ok, problems = hotwords.new({ "一二三四五六七八九十一二三四五六" }):validate("dashscope", "paraformer-v2")
    assert.is_nil(ok)
    assert.is_true(has_problem(problems, "at most 15"))
    local warn
    ok, warn = hotwords.new({ "奥迪A4L" }):validate("volcengine")
    assert.is_true(ok)
    assert.is_true(has_problem(warn, "Chinese numerals"))
    ok, problems = hotwords.new({ "x" }):validate("dashscope", "sensevoice-v1")
    assert.is_nil(ok)
    assert.is_true(has_problem(problems, "does not support hotwords"))
    ok, problems = hotwords.new({ "x" }):validate("dashscope", "paraformer-v1")
    assert.is_nil(ok)
    assert.is_true(has_problem(problems, "phrase_id"))
    ok, problems = hotwords.new({}):validate("volcengine")
    assert.is_nil(ok)
    assert.is_true(has_problem(problems, "empty"))
  end)
end)

describe("hotwords encoding", function()
  -- The wire forms come from each schema's "hotwords" build op (engineer A's contract).
  local function op_available(provider)
    local ok = false
    for _, p in ipairs(core.providers()) do if p == provider then ok = true end end
    if not ok then return false end
    local _, err = core.build(provider, "hotwords", { model = nil, hotwords = { { word = "x" } } })
    return not (err and tostring(err.message):find("unknown build op", 1, true))
  end

  -- (Volcengine allows fewer than 10 characters a word: "Kafka", not "Kubernetes".)
  local hw = hotwords.new({ { word = "热词1号" }, { word = "Kafka", weight = 5 } })

  it("gives Volcengine the corpus.context JSON string", function()
    if not op_available("volcengine") then return pending("volcengine hotwords op not built yet") end
    local value, field = assert(hw:encode("volcengine"))
    assert.matches("context", field)
    assert.equal("string", type(value))
    assert.same({ hotwords = { { word = "热词1号" }, { word = "Kafka" } } }, H.json(value))
  end)

  it("gives DashScope qwen3-asr corpus.text and paraformer the vocabulary entries", function()
    if not op_available("dashscope") then return pending("dashscope hotwords op not built yet") end
    local value, field = assert(hw:encode("dashscope", "qwen3-asr-flash-filetrans"))
    assert.matches("corpus", field)
    assert.truthy(value:find("热词1号", 1, true) and value:find("Kafka", 1, true))
    value, field = assert(hw:encode("dashscope", "paraformer-v2"))
    assert.equal("vocabulary", field)
    assert.same({ { text = "热词1号", weight = 4 }, { text = "Kafka", weight = 5 } }, value)
  end)

  it("gives Turing its phrase_set", function()
    if not op_available("turing") then return pending("turing hotwords op not built yet") end
    local value, field = assert(hw:encode("turing"))
    assert.matches("phrase_set", field)
    -- Tingwu's default weight 2 is filled in (docs/subtitles.md#hotwords-turing)
    assert.same({ { word = "热词1号", weight = 2 }, { word = "Kafka", weight = 5 } }, value)
  end)

  it("refuses to encode an invalid list, naming the problems", function()
    local value, err = hotwords.new({ { word = "x", weight = 9 } }):encode("dashscope", "paraformer-v2")
    assert.is_nil(value)
    assert.equal("invalid", err.kind)
    assert.matches('"x": weight: 9', err.message)
  end)

  it("fills in the provider's default weight and keys vocabularies by content", function()
    assert.same({ { text = "热词1号", weight = 4 }, { text = "Kafka", weight = 5 } },
      hw:vocabulary("paraformer-v2"))
    local p1 = hw:prefix("paraformer-v2")
    assert.matches("^h[0-9a-z]+$", p1)
    assert.is_true(#p1 < 10)
    assert.equal(p1, hotwords.load("热词1号\nKafka|5\nkafka|2\n"):prefix("paraformer-v2"))
    assert.not_equal(p1, hw:prefix("fun-asr"))
    assert.not_equal(p1, hotwords.new({ "热词1号", { word = "Kafka", weight = 4 } }):prefix("paraformer-v2"))
  end)
end)
