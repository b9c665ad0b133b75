-- docs/api.md cannot drift from the code: every public function, client method, option (with
-- its default), job option, error kind and event that exists is documented there, and every
-- option documented exists. Pure: reads the doc and the modules.
local H = require "helper"
local stt = require "stt"
local options = require "stt.options"
local errors = require "stt.errors"
local capabilities = require "stt.capabilities"
local client = require "stt.client"

local DOC = H.read("docs/api.md")

-- The text of a section: from its heading to the next heading of the same or a higher level.
local function section(title)
  local level, rest = title:match("^(#+) (.*)$")
  local s = assert(DOC:find("\n" .. title .. "\n", 1, true), "no section " .. title)
  local e = DOC:find("\n" .. level .. " ", s + #title + 2, true)
  local up = level:len() > 2 and DOC:find("\n" .. level:sub(2) .. " ", s + #title + 2, true)
  if up and (not e or up < e) then e = up end
  return DOC:sub(s, e or #DOC), rest
end

-- Rows `| \`name\` | default | ...` of a table in a section -> { name = default }
local function option_rows(text)
  local out = {}
  for name, default in text:gmatch("\n| `([%w_]+)` | ([^|]-) |") do
    out[name] = (default:gsub("`", ""))
  end
  return out
end

local function documented(text, needle)
  return text:find(needle, 1, true) ~= nil
end

describe("docs/api.md", function()
  it("lists every client, wait and batch option with the default the code has, and no other", function()
    for _, case in ipairs({ { "### Client options", options.CLIENT }, { "### Wait options", options.WAIT },
                            { "### Batch options", options.BATCH } }) do
      local rows = option_rows((section(case[1])))
      local seen = {}
      for _, o in ipairs(case[2]) do
        seen[o[1]] = true
        assert.is_not_nil(rows[o[1]], case[1] .. ": option " .. o[1] .. " is not documented")
        assert.equal(o[2], rows[o[1]], case[1] .. ": default of " .. o[1])
      end
      for name in pairs(rows) do assert.is_true(seen[name], case[1] .. ": " .. name .. " is no option in the code") end
    end
  end)

  it("names every function of the stt module", function()
    local mod = section("## Module `stt`")
    for k in pairs(stt) do
      assert.is_true(documented(mod, "`stt." .. k), "stt." .. k .. " is not documented")
    end
    for _, lazy in ipairs({ "subtitle", "hotwords", "batch", "journal" }) do
      assert.is_true(documented(mod, "`stt." .. lazy .. "`"), "stt." .. lazy)
    end
  end)

  it("names every client method", function()
    local text = section("### Methods")
    for name, v in pairs(client.Client) do
      if type(v) == "function" and not name:match("^_") then
        assert.is_true(documented(text, "`c:" .. name .. "("), "c:" .. name .. " is not documented")
      end
    end
  end)

  it("names every job option the capability table knows", function()
    local text = section("## Jobs")
    local names = {}
    for k in pairs(capabilities.job_options()) do names[#names + 1] = k end
    for k in pairs(options.JOB_EXTRA) do names[#names + 1] = k end
    for _, k in ipairs(names) do assert.is_true(documented(text, "`" .. k .. "`"), "job option " .. k) end
  end)

  it("names every error kind and every event the client emits", function()
    local text = section("## Errors")
    for kind in pairs(errors.KINDS) do assert.is_true(documented(text, "| `" .. kind .. "` |"), "kind " .. kind) end
    local events = section("## Events")
    local p = assert(io.popen("grep -ho '_emit({ type = \"[a-z_]*\"' lua/stt/*.lua lua/stt/*/*.lua"))
    local n = 0
    for t in p:read("*a"):gmatch('type = "([a-z_]+)"') do
      n = n + 1
      assert.is_true(documented(events, "| `" .. t .. "` |"), "event " .. t)
    end
    p:close()
    assert.is_true(n > 5)
  end)

  it("names every public function of stt.subtitle, stt.hotwords, stt.batch, stt.journal, stt.s3, stt.queue and "
    .. "stt.redis", function()
    local function check(title, prefix, tbl)
      local text = section(title)
      for k, v in pairs(tbl) do
        if type(k) == "string" and not k:match("^_") and (type(v) == "function" or k:match("^%u")) then
          assert.is_true(documented(text, prefix .. k), prefix .. k .. " is not documented")
        end
      end
    end
    check("## `stt.subtitle`", "stt.subtitle.", stt.subtitle)
    check("## `stt.hotwords`", "stt.hotwords.", stt.hotwords)
    check("## `stt.batch`", "stt.batch.", stt.batch)
    check("## `stt.journal`", "stt.journal.", stt.journal)
    check("## `stt.s3`", "stt.s3.", stt.s3)
    check("## `stt.queue`", "stt.queue.", stt.queue)
    check("## `stt.redis`", "stt.redis.", stt.redis)
    check("## `stt.score`", "stt.score.", stt.score)
    check("## `stt.compare`", "stt.compare.", stt.compare)
    for _, case in ipairs({ { "## `stt.queue`", "q:", stt.queue.Queue },
                            { "## `stt.redis`", "r:", getmetatable(stt.redis.new("redis://127.0.0.1")).__index } }) do
      local text = section(case[1])
      for k, v in pairs(case[3]) do
        if type(v) == "function" and not k:match("^_") then
          assert.is_true(documented(text, case[2] .. k), case[2] .. k .. " is not documented")
        end
      end
    end
    local hw = stt.hotwords.new({ "a" })
    local text = section("## `stt.hotwords`")
    for k, v in pairs(getmetatable(hw).__index) do
      if type(v) == "function" and not k:match("^_") then assert.is_true(documented(text, "hw:" .. k), "hw:" .. k) end
    end
    text = section("## `stt.journal`")
    for k, v in pairs(stt.journal.Journal) do
      if type(v) == "function" and not k:match("^_") then assert.is_true(documented(text, "j:" .. k), "j:" .. k) end
    end
  end)
end)
