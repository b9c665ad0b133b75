-- README.md's hands-on parts run as written, so they cannot rot: the Lua Quickstart block and the
-- command-line transcripts (every `$` line is run in one shell, from an empty folder, after
-- `eval "$(make -s sim)"` — here the same script on a private folder — and its output must be
-- the README's, up to ports, task ids, run times, the folder's path and the order in which
-- concurrent inputs finish).
local H = require "helper"

local README = H.read("README.md")

-- The body of the first fenced block of `lang` after `heading`.
local function block(heading, lang)
  local at = assert(README:find(heading, 1, true), heading .. " not in README.md")
  local s = assert(README:find("```" .. lang .. "\n", at, true), "no ```" .. lang .. " block after " .. heading)
  local body_start = s + #lang + 4
  local e = assert(README:find("\n```\n", body_start - 1, true))
  return README:sub(body_start, e)
end

local function normalize(text)
  local out = {}
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    line = line:gsub("http://127%.0%.0%.1:%d+", "http://SIM")
      :gsub("%x+%-%x+%-%x+%-%x+%-%x+", "UUID")
      :gsub(" in %d+:%d%d", " in T")
      :gsub("%S*/out/", "out/")
      :gsub("%S*/media/talk", "MEDIA/talk")          -- URLs and paths of the sample files
      :gsub("%[%d+/(%d+)%]", "[N/%1]")
      :gsub("%s+#.*$", "")
    out[#out + 1] = line
  end
  while out[#out] == "" do out[#out] = nil end
  return out
end

local function sorted(t)
  local c = {}
  for i, v in ipairs(t) do c[i] = v end
  table.sort(c)
  return c
end

describe("README.md", function()
  local simdir, work

  setup(function()
    simdir, work = H.tmpdir(), H.tmpdir()
  end)
  teardown(function()
    H.sh("bash examples/sim stop " .. H.sh_quote(simdir))
    H.sh("rm -rf " .. H.sh_quote(simdir) .. " " .. H.sh_quote(work))
  end)

  it("its Quickstart runs against the simulator started by `make -s sim`", function()
    local code = block("## Quickstart", "lua")
    H.write(work .. "/quickstart.lua", code)
    local out = H.sh(("cd %s && eval \"$(bash %s/examples/sim start %s)\" && lua5.4 quickstart.lua; echo rc=$?")
      :format(H.sh_quote(work), H.sh("pwd"):gsub("%s+$", ""), H.sh_quote(simdir)))
    assert.matches("rc=0\n$", out)
    for i = 1, 3 do
      local text = H.read("examples/media/talk_" .. i .. ".txt")
      assert.truthy(out:find(text, 1, true), "talk_" .. i .. " not transcribed:\n" .. out)
    end
    assert.matches("^1\r?\n00:00:", H.read(work .. "/talk_1.srt"))
  end)

  it("its command-line transcripts are what the commands print", function()
    -- the URL batch, then the local file "in the same shell"
    local text = block("A real run against the simulator", "console") .. block("A local file, in the same shell",
      "console") .. block("which makes a real\ncomparison to try, in the same shell", "console")
    local steps, cur = {}, nil
    for line in text:gmatch("([^\n]*)\n") do
      local cmd = line:match("^%$ (.*)$")
      if cmd then
        cur = { cmd = cmd, expect = {} }
        steps[#steps + 1] = cur
      elseif cur then
        cur.expect[#cur.expect + 1] = line
      end
    end
    assert.is_true(#steps >= 5)
    assert.equal('eval "$(make -s sim)"', steps[1].cmd)
    local root = H.sh("pwd"):gsub("%s+$", "")
    -- One shell for the whole transcript; each command's output follows a marker line.
    local script = { "cd " .. H.sh_quote(work .. "/cli") }
    for i, st in ipairs(steps) do
      local cmd = st.cmd
      if i == 1 then cmd = ('eval "$(bash %s/examples/sim start %s)"'):format(root, H.sh_quote(simdir)) end
      cmd = cmd:gsub("%s+#.*$", "")
      script[#script + 1] = "rc=$?; echo '@@step " .. i .. "'; (exit $rc)"     -- `echo $?` sees the command's
      script[#script + 1] = cmd .. " 2>&1"
    end
    H.sh("mkdir -p " .. H.sh_quote(work .. "/cli"))
    H.control("POST", "/_sim/reset")
    local out = H.sh("bash -c " .. H.sh_quote(table.concat(script, "\n")))
    local got = {}
    local pos = 1
    while true do                 -- "@@step N\n<output>" chunks (no frontier patterns: LuaJIT)
      local s, e, i = out:find("@@step (%d+)\n", pos)
      if not s then break end
      local nxt = out:find("@@step %d+\n", e + 1) or #out + 1
      got[tonumber(i)] = out:sub(e + 1, nxt - 1)
      pos = nxt
    end
    for i, st in ipairs(steps) do
      local want, have = normalize(table.concat(st.expect, "\n")), normalize(got[i] or "")
      -- concurrent inputs finish in any order: compare the lines as a set, exactly otherwise
      if st.cmd:match("^stt ") then want, have = sorted(want), sorted(have) end
      assert.same(want, have, "$ " .. st.cmd)
    end
    -- the sample files it names exist in the repository
    for _, name in ipairs({ "talk_1", "talk_2", "talk_3" }) do
      assert.truthy(io.open("examples/media/" .. name .. ".mp3"), name .. ".mp3")
      assert.truthy(io.open("examples/media/" .. name .. ".txt"), name .. ".txt")
    end
  end)
end)
