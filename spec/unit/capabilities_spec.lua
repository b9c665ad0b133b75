-- The capability table (core.capabilities(), stt.providers(), lua/stt/capabilities.lua) against
-- the schemas' behaviour: for every provider x model x option, false means build() refuses the
-- option as unsupported, and a string means build() accepts a sample value and the body changes
-- (or, for options marked "no field", stays as it is). And README.md shows exactly markdown().
local core = require "stt.core"
local stt = require "stt"
local capabilities = require "stt.capabilities"

local A = "https://example.com/audio/a.mp3"
local B = "https://example.com/audio/b.wav"

-- One sample per option, valid for every model that honours it.
local SAMPLES = {
  url = B, urls = { A, B }, language = "en", speakers = 2, channels = { 0, 1 }, words = true,
  itn = false, punctuation = true, disfluency = true, audio_events = true,
  vad = { segment = true, end_window_ms = 800 },
  context = "names: Lua, LuaJIT", hotwords = { { word = "Lua" } }, vocabulary_id = "vocab-1",
  phrase_id = "phrase-1", emotion = true, gender = true, speech_rate = true, volume = true,
  detect_language = true, sensitive_words_filter = { system_reserved_filter = true }, format = "wav",
  transcoding = { TargetAudioFormat = "mp3" }, extra = { x_extra_field = 1 },
}

local function submit(provider, model, job)
  return core.build(provider, "submit", {
    api_key = "k", app_key = "a", access_key = "s", request_id = "r-1", model = model, job = job,
  })
end

local function sorted_keys(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = k end
  table.sort(out)
  return out
end

describe("capability table", function()
  local caps = core.capabilities()

  it("covers every registered provider, each with its default model", function()
    assert.same(sorted_keys(caps), (function()
      local p = core.providers()
      table.sort(p)
      return p
    end)())
    for name, p in pairs(caps) do
      assert.is_string(p.default_model, name)
      assert.is_table(p.models[p.default_model], name)
    end
  end)

  it("every model lists the same options, each a string or false, and a batch size", function()
    local names
    for pname, p in pairs(caps) do
      for mname, m in pairs(p.models) do
        local keys = sorted_keys(m.options)
        names = names or keys
        assert.same(names, keys, pname .. " " .. mname)
        assert.is_true(m.batch_max >= 1)
        for opt, how in pairs(m.options) do
          assert(how == false or (type(how) == "string" and #how > 0), pname .. " " .. mname .. " " .. opt)
          assert.is_not_nil(SAMPLES[opt], opt)   -- a sample exists for every option the table names
        end
      end
    end
  end)

  for _, pname in ipairs(core.providers()) do
    local p = caps[pname]
    for _, mname in ipairs(sorted_keys(p.models)) do
      local m = p.models[mname]
      describe(pname .. " " .. mname, function()
        local base = assert(submit(pname, mname, { url = A }))
        for _, opt in ipairs(sorted_keys(m.options)) do
          local how = m.options[opt]
          local job = { url = A }
          if opt == "url" or opt == "urls" then job.url = nil end
          job[opt] = SAMPLES[opt]
          if how then
            it(("maps %s (%s)"):format(opt, how), function()
              local req, err = submit(pname, mname, job)
              assert.is_nil(err and err.message)
              if how:find("no field", 1, true) then
                assert.equal(base.body, req.body)
              else
                assert.are_not.equal(base.body, req.body)
              end
            end)
          else
            it(("refuses %s as unsupported"):format(opt), function()
              local req, err = submit(pname, mname, job)
              assert.is_nil(req)
              assert.equal("unsupported", err.kind)
              assert.matches('"' .. opt .. '"', err.message, 1, true)
              assert.matches(pname, err.message, 1, true)
              assert.matches(mname, err.message, 1, true)
            end)
          end
        end
        it("batch_max matches what urls accepts", function()
          local urls = {}
          for i = 1, m.batch_max + 1 do urls[i] = "https://example.com/" .. i .. ".wav" end
          local _, err = submit(pname, mname, { urls = urls })
          assert.is_table(err)
          urls[#urls] = nil
          local req, err2 = submit(pname, mname, { urls = urls })
          assert.is_nil(err2 and err2.message)
          assert.is_string(req.body)
        end)
      end)
    end
  end

  it("stt.providers() is the same table", function()
    assert.same(caps, stt.providers())
    assert.same(caps, capabilities.table())
  end)

  it("hotwords: models that honour the option also encode them (build op)", function()
    for pname, p in pairs(caps) do
      for mname, m in pairs(p.models) do
        if m.options.hotwords then
          local out = assert(core.build(pname, "hotwords", { model = mname, hotwords = { { word = "Lua" } } }))
          assert.is_string(out.field)
          assert.is_not_nil(out.value)
        end
      end
    end
  end)

  it("markdown() is deterministic and names every provider and model", function()
    local md = capabilities.markdown()
    assert.equal(md, capabilities.markdown())
    for pname, p in pairs(caps) do
      for mname in pairs(p.models) do
        assert.matches("| `" .. pname .. "` | `" .. mname .. "`", md, 1, true)
      end
    end
  end)

  it("README.md's provider table is exactly markdown() (run `make readme` after a change)", function()
    local f = assert(io.open("README.md", "rb"))
    local text = f:read("*a")
    f:close()
    local block = capabilities.readme_block(text)
    assert.is_string(block, "README.md lacks the providers:begin/end markers")
    assert.equal(capabilities.markdown(), block)
    assert.equal(text, (capabilities.update_readme(text)))
    assert.is_nil(capabilities.update_readme("no markers"))
  end)
end)
