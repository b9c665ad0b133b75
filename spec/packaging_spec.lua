-- Packaging: the rockspec lints and installs a working module; `make install` lays out the files.
local H = require "helper"


local sh, tmpdir = H.run, H.tmpdir

-- Load the installed module in a fresh interpreter and use it (schema build, engine, JSON).
local PROBE = [[
local stt = require "stt"
local core = require "stt.core"
local req = assert(core.build("dashscope", "submit", { api_key = "k", job = { url = "http://h/a.wav" } }))
assert(req.method == "POST")
local e = core.engine(); e:close()
assert(stt.client("dashscope", { api_key = "k" }))
io.write("probe ok ", core.version().curl)
]]

describe("packaging", function()
  local function copy_sources()
    local src = tmpdir()
    local code, out = sh("cp -r lua csrc bin Makefile lua-stt-scm-1.rockspec " .. H.sh_quote(src))
    assert.equal(0, code, out)
    return src
  end

  it("luarocks lint accepts the rockspec and luarocks make installs a working module", function()
    local code, out = sh("luarocks lint lua-stt-scm-1.rockspec")
    assert.equal(0, code, out)
    local tree, src = tmpdir(), copy_sources()
    sh("touch " .. H.sh_quote(src .. "/.stamp") .. " && sleep 1")
    code, out = sh("cd " .. H.sh_quote(src) .. " && luarocks --lua-version=5.4 make --deps-mode=none --tree "
      .. H.sh_quote(tree) .. " lua-stt-scm-1.rockspec")
    assert.equal(0, code, out)
    -- The build stays under build/: nothing beside the sources could shadow a checkout's build/.
    local _, written = sh("cd " .. H.sh_quote(src) .. " && find . -newer .stamp -type f ! -path './build/*'")
    assert.equal("", written)
    code, out = sh(("LUA_PATH=%s LUA_CPATH=%s lua5.4 -e %s"):format(
      H.sh_quote(tree .. "/share/lua/5.4/?.lua;" .. tree .. "/share/lua/5.4/?/init.lua;;"),
      H.sh_quote(tree .. "/lib/lua/5.4/?.so;;"), H.sh_quote(PROBE)))
    assert.equal(0, code, out)
    assert.matches("probe ok", out)
    -- Every Lua module of the tree is installed, sub-packages included; and the command.
    local _, files = sh("cd lua && find stt -name '*.lua'")
    for path in files:gmatch("[^\n]+") do
      assert.truthy(io.open(tree .. "/share/lua/5.4/" .. path), path .. " not installed by luarocks make")
    end
    assert.truthy(io.open(tree .. "/bin/stt"), "bin/stt not installed")
    sh("rm -rf " .. H.sh_quote(tree) .. " " .. H.sh_quote(src))
  end)

  it("luarocks make for a Lua the core does not support fails with a message, building nothing", function()
    local tree, src = tmpdir(), copy_sources()
    -- Debian's luarocks defaults to Lua 5.1 (PUC): its headers are refused before any compile.
    local code, out = sh("cd " .. H.sh_quote(src) .. " && luarocks --lua-version=5.1 make --deps-mode=none --tree "
      .. H.sh_quote(tree) .. " lua-stt-scm-1.rockspec")
    assert.are_not.equal(0, code)
    assert.matches("lua%-stt needs Lua 5%.4 or LuaJIT 2%.1", out)
    assert.matches("luarocks %-%-lua%-version=5%.4 make", out)
    assert.is_nil(io.open(src .. "/build/rock/stt/core.so"))
    sh("rm -rf " .. H.sh_quote(tree) .. " " .. H.sh_quote(src))
  end)

  it("luarocks test runs the pure tier from a clean tree, with no simulator and no nginx", function()
    local src = tmpdir()
    local code, out = sh("git ls-files --cached --others --exclude-standard | grep -v '^build/' "
      .. "| tar -cf - -T - | tar -xf - -C " .. H.sh_quote(src))
    assert.equal(0, code, out)
    code, out = sh("cd " .. H.sh_quote(src) .. " && env -u STT_SIM_URL -u STT_SIM_DIR -u STT_CPATH "
      .. "luarocks --lua-version=5.4 test lua-stt-scm-1.rockspec")
    assert.equal(0, code, out)
    assert.matches("%d+ successes / 0 failures / 0 errors", out)
    sh("rm -rf " .. H.sh_quote(src))
  end)

  it("make clean removes what an older in-tree luarocks build left beside the sources", function()
    local src = copy_sources()
    sh("cd " .. H.sh_quote(src) .. " && mkdir -p stt && touch stt/core.so csrc/x.o csrc/providers/y.o")
    local code, out = sh("cd " .. H.sh_quote(src) .. " && make -s clean")
    assert.equal(0, code, out)
    local _, left = sh("cd " .. H.sh_quote(src) .. " && find . -name '*.o' -o -name core.so")
    assert.equal("", left)
    sh("rm -rf " .. H.sh_quote(src))
  end)

  it("make install honours PREFIX and DESTDIR", function()
    local dest = tmpdir()
    local code, out = sh("make -s install PREFIX=/opt/stt DESTDIR=" .. H.sh_quote(dest))
    assert.equal(0, code, out)
    local root = dest .. "/opt/stt"
    code, out = sh(("LUA_PATH=%s LUA_CPATH=%s lua5.4 -e %s"):format(
      H.sh_quote(root .. "/share/lua/5.4/?.lua;" .. root .. "/share/lua/5.4/?/init.lua;;"),
      H.sh_quote(root .. "/lib/lua/5.4/?.so;;"), H.sh_quote(PROBE)))
    assert.equal(0, code, out)
    sh("rm -rf " .. H.sh_quote(dest))
  end)
end)
