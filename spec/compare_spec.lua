-- `stt compare` end to end against the simulator with config mishear: every model hears a known
-- variant of the reference (spec/sim/README.md#wrong-on-purpose-configmishear), so the report's
-- substitutions, deletions and insertions are computed here from the documented plans and must
-- match exactly. Also: a failed job is failed (not 100 %), a missing reference leaves a file
-- unscored, an empty one undefined, prices give costs, and bad configurations or references are
-- refused before anything is submitted. `stt score` on files.
local H = require "helper"
local core = require "stt.core"
local stt = require "stt"

local SUBMITS = "^POST /.*/submit$"

local TEXTS = {
  talk_zh = "今天我们讨论明年的产品计划。首先回顾一下今年的销售情况，整体增长了百分之十二。"
    .. "接下来请市场部介绍新的推广方案，然后大家自由发言。",
  talk_en = "Good morning everyone and thank you for coming. Today we will review the quarterly results "
    .. "and talk about the plans for next year. Sales grew by twelve percent and the new product line is "
    .. "doing well. After the review we will take questions from the floor.",
  talk_mix = "我们下周发布 version two 的 beta 版本，请大家在 GitHub 上提交 issue 和 feedback。"
    .. "测试团队会在周五之前完成 regression testing。",
  talk_noref = "This one has no reference file. It is transcribed all the same.",
  talk_empty = "The reference of this one is empty.",
}

-- The simulator's plans (sub, del, fill as { every, at }), as spec/sim/README.md documents them.
local PLANS = {
  ["dashscope:paraformer-v2"] = { sub = { 17, 5 }, del = { 23, 11 }, fill = { 19, 2 } },
  ["dashscope:sensevoice-v1"] = { sub = { 9, 4 }, del = { 13, 7 }, fill = { 29, 20 } },
  ["volcengine-auc:bigasr"] = { sub = { 21, 8 }, del = { 41, 20 }, fill = { 43, 30 } },
}

-- What the scorer must find for a reference of n units under a plan.
local function expected(plan, n, fillers_removed)
  local function hit(r, i) return i % r[1] == r[2] end
  local s, d, ins = 0, 0, 0
  for i = 1, n do
    if hit(plan.del, i) then d = d + 1
    elseif hit(plan.sub, i) then s = s + 1 end
    if hit(plan.fill, i) and not hit(plan.del, i) and not hit(plan.del, i + 1) and not fillers_removed then
      ins = ins + 1
    end
  end
  return s, d, ins
end

local ENV = table.concat({
  "DASHSCOPE_API_KEY=" .. H.key,
  "DASHSCOPE_HTTP_BASE_URL=" .. H.sh_quote((H.sim_url or "") .. "/dashscope/api/v1"),
  "VOLC_APP_KEY=sim-app-0001", "VOLC_ACCESS_KEY=sim-access-key-0001",
  "VOLC_AUC_BASE_URL=" .. H.sh_quote((H.sim_url or "") .. "/auc/api/v3"),
}, " ")

local function run(args, dir) return H.cli(args, ENV, dir) end

local function submits() return H.count(H.stats().requests, SUBMITS) end

describe("stt compare", function()
  local dir, urls
  setup(function()
    if not H.sim_url then return end
    H.reset()
    H.config({ queue_ms = 0, rtf = 0.02, min_run_ms = 0, mishear = true })
    dir = H.tmpdir()
    os.execute("mkdir -p " .. H.sh_quote(dir .. "/ref"))
    urls = {}
    for _, name in ipairs({ "talk_zh", "talk_en", "talk_mix", "talk_noref", "talk_empty" }) do
      urls[#urls + 1] = H.media(name, 12, TEXTS[name])
      if name ~= "talk_noref" then
        H.write(dir .. "/ref/" .. name .. ".txt", name == "talk_empty" and "" or (TEXTS[name] .. "\n"))
      end
    end
    urls[#urls + 1] = H.sim_url .. "/media/talk_missing.wav"        -- 404: every job of it fails
    H.write(dir .. "/list.txt", table.concat(urls, "\n") .. "\n")
    H.write(dir .. "/prices.json", '{"currency": "CNY", "dashscope/paraformer-v2": 0.288, "dashscope": 0.5}')
  end)
  teardown(function() if H.sim_url then H.reset() end end)

  it("reports the simulator's known corruption exactly, per configuration and file", function()
    local code, out, err = run(table.concat({
      "compare", "-q",
      "-c dashscope:paraformer-v2", "-c 'dashscope:paraformer-v2{disfluency=true}'",
      "-c dashscope:sensevoice-v1", "-c volcengine-auc",
      "--ref", H.sh_quote(dir .. "/ref"), "--prices", H.sh_quote(dir .. "/prices.json"),
      "-o", H.sh_quote(dir .. "/report"), "@" .. H.sh_quote(dir .. "/list.txt"),
    }, " "), dir)
    assert.equal(1, code, err)                 -- the missing file's jobs failed
    assert.matches("#1 ", out)
    assert.matches("report: .*report.html", out)
    local report = assert(core.json_decode(assert(H.read(dir .. "/report/report.json"))))
    assert.is_truthy(H.read(dir .. "/report/report.md"):find("paraformer-v2", 1, true))
    assert.is_truthy(H.read(dir .. "/report/report.html"):find("<svg", 1, true))
    local B = require "spec.browser_helper"
    if B.available() then                       -- this run's page, in a real browser
      local page = B.probe(dir .. "/report/report.html", { budget_ms = 2000 })
      assert.is_table(page.probe, page.log)
      assert.same({}, page.probe.errors)
      assert.same({}, page.probe.resources)
      assert.is_truthy(page.dom:find("talk_zh", 1, true))
    end
    assert.equal(4, #report.configs)
    assert.equal("mixed", report.unit)
    assert.equal("CNY", report.currency)

    local units = {}
    for _, name in ipairs({ "talk_zh", "talk_en", "talk_mix" }) do
      units[name] = stt.score(TEXTS[name], TEXTS[name]).ref_units
    end
    assert.is_true(units.talk_zh > 40 and units.talk_en > 40 and units.talk_mix > 30)
    local ranks = {}
    for _, c in ipairs(report.configs) do
      local plan = PLANS[c.provider .. ":" .. c.model]
      local removed = c.options.disfluency == true
      local tot = { s = 0, d = 0, i = 0, n = 0 }
      assert.equal(6, #c.files)
      for _, f in ipairs(c.files) do
        if units[f.input] then
          local s, d, i = expected(plan, units[f.input], removed)
          assert.equal("scored", f.state, c.id .. " " .. f.input)
          assert.same({ s, d, i, units[f.input] }, { f.substitutions, f.deletions, f.insertions, f.ref_units },
            c.id .. " " .. f.input)
          assert.near((s + d + i) / units[f.input], f.rate, 1e-6)
          assert.equal(f.input == "talk_en" and "word" or (f.input == "talk_zh" and "char" or "mixed"), f.unit)
          tot.s, tot.d, tot.i, tot.n = tot.s + s, tot.d + d, tot.i + i, tot.n + units[f.input]
          assert.is_true(f.wall_ms >= 0 and f.audio_ms >= 11000 and f.audio_ms <= 13000, c.id)
          assert.is_true(f.rtf > 0)
        elseif f.input == "talk_noref" then
          assert.equal("unscored", f.state)
          assert.matches("no reference file", f.reason)
          assert.is_nil(f.rate)
          assert.is_true(#f.hypothesis > 20)        -- transcribed all the same
        elseif f.input == "talk_empty" then
          assert.equal("undefined", f.state)
          assert.is_nil(f.rate)
        else
          assert.equal("talk_missing", f.input)
          assert.equal("failed", f.state)           -- failed, never scored as 100 %
          assert.is_nil(f.rate)
          assert.is_string(f.error.kind)
        end
      end
      local sm = c.summary
      assert.same({ 6, 3, 2, 1 }, { sm.files, sm.scored, sm.unscored, sm.failed })
      assert.same({ tot.s, tot.d, tot.i, tot.n }, { sm.substitutions, sm.deletions, sm.insertions, sm.ref_units })
      assert.near((tot.s + tot.d + tot.i) / tot.n, sm.rate, 1e-6)
      ranks[#ranks + 1] = { id = c.id, rate = sm.rate, rank = c.rank }
      -- costs: the price of provider/model, else of the provider; none for a provider without a price
      if c.provider == "dashscope" then
        local price = c.model == "paraformer-v2" and 0.288 or 0.5
        for _, f in ipairs(c.files) do
          if f.state ~= "failed" then
            assert.near((f.billed_ms or f.audio_ms) / 3600000 * price, f.cost, 1e-6)
          end
        end
        assert.is_number(sm.cost)
      else
        assert.is_nil(sm.cost)
      end
    end
    -- ranked by error rate: disfluency removal beats the same model with fillers
    table.sort(ranks, function(a, b) return a.rank < b.rank end)
    for k = 2, #ranks do assert.is_true(ranks[k - 1].rate <= ranks[k].rate) end
    local pos = {}
    for k, r in ipairs(ranks) do pos[r.id] = k end
    assert.is_true(pos["dashscope:paraformer-v2{disfluency=true}"] < pos["dashscope:paraformer-v2"])
    -- the inputs' references
    local by = {}
    for _, inp in ipairs(report.inputs) do by[inp.name] = inp end
    assert.equal(units.talk_zh, by.talk_zh.ref_units)
    assert.matches("no reference file", by.talk_noref.reason)
    assert.equal("empty reference", by.talk_empty.reason)
  end)

  it("refuses unknown providers, models and options, and references that are not UTF-8, before "
    .. "submitting anything", function()
    local before = submits()
    local cases = {
      { "-c nope", "unknown provider \"nope\"" },
      { "-c dashscope:paraformer-v9", "unknown model \"paraformer%-v9\"" },
      { "-c 'dashscope:paraformer-v2{speekers=2}'", "speekers" },
      { "-c 'dashscope:sensevoice-v1{speakers=2}'", "speakers" },    -- a real option the model refuses
      { "-c 'dashscope{speakers=2'", "configuration" },
    }
    for _, case in ipairs(cases) do
      local code, _, err = run("compare -q " .. case[1] .. " --ref " .. H.sh_quote(dir .. "/ref") .. " -o "
        .. H.sh_quote(dir .. "/r2") .. " " .. urls[1], dir)
      assert.equal(2, code, case[1] .. ": " .. err)
      assert.matches(case[2], err, 1)
    end
    local bad = H.tmpdir()
    H.write(bad .. "/talk_zh.txt", "今天\255好")
    local code, _, err = run("compare -q -c dashscope:paraformer-v2 --ref " .. H.sh_quote(bad) .. " -o "
      .. H.sh_quote(dir .. "/r3") .. " " .. urls[1], dir)
    assert.equal(2, code)
    assert.matches("invalid UTF%-8 at byte offset 6", err)
    assert.equal(before, submits())
  end)
end)

describe("stt score", function()
  it("prints the error rate of a file against its reference, or the whole score as JSON", function()
    local dir = H.tmpdir()
    H.write(dir .. "/h.txt", "今田天气很好 um\n")
    H.write(dir .. "/r.txt", "今天天气很好。\n")
    local code, out = run("score " .. H.sh_quote(dir .. "/h.txt") .. " " .. H.sh_quote(dir .. "/r.txt")
      .. " --alignment", dir)
    assert.equal(0, code)
    assert.matches("33%.3 %%", out)
    assert.matches("%[天→田%]", out)
    assert.matches("%[%+um%]", out)
    code, out = run("score --json --unit char " .. H.sh_quote(dir .. "/h.txt") .. " "
      .. H.sh_quote(dir .. "/r.txt"), dir)
    assert.equal(0, code)
    local s = core.json_decode(out)
    assert.same({ 1, 0, 2, 6, "char" }, { s.substitutions, s.deletions, s.insertions, s.ref_units, s.unit })
    H.write(dir .. "/bad.txt", "ok\255")
    local err, _
    code, _, err = run("score " .. H.sh_quote(dir .. "/bad.txt") .. " " .. H.sh_quote(dir .. "/r.txt"), dir)
    assert.equal(1, code)
    assert.matches("bad%.txt: invalid UTF%-8 at byte offset 2", err)
    code = run("score " .. H.sh_quote(dir .. "/none.txt") .. " " .. H.sh_quote(dir .. "/r.txt"), dir)
    assert.equal(2, code)
    code, out = run("score --help", dir)
    assert.equal(0, code)
    assert.matches("Usage: stt score", out)
    code, _, err = run("score " .. H.sh_quote(dir .. "/r.txt"), dir)
    assert.equal(2, code)
    assert.matches("HYP.txt and REF.txt", err)
  end)
end)
