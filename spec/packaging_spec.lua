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
  it("luarocks lint accepts the rockspec and luarocks make installs a working module", function()
    local code, out = sh("luarocks lint lua-stt-scm-1.rockspec")
    assert.equal(0, code, out)
    local tree, src = tmpdir(), tmpdir()
    -- luarocks make builds in the directory it runs in (objects and stt/core.so): build a copy, or
    -- a stale ./stt/core.so in the checkout would shadow build/ for any `lua` run from there.
    code, out = sh("cp -r lua csrc bin lua-stt-scm-1.rockspec " .. H.sh_quote(src))
    assert.equal(0, code, out)
    code, out = sh("cd " .. H.sh_quote(src) .. " && luarocks --lua-version=5.4 make --deps-mode=none --tree "
      .. H.sh_quote(tree) .. " lua-stt-scm-1.rockspec")
    assert.equal(0, code, out)
    assert.is_nil(io.open("stt/core.so"), "luarocks make wrote into the checkout")
    code, out = sh(("LUA_PATH=%s LUA_CPATH=%s lua5.4 -e %s"):format(
      H.sh_quote(tree .. "/share/lua/5.4/?.lua;" .. tree .. "/share/lua/5.4/?/init.lua;;"),
      H.sh_quote(tree .. "/lib/lua/5.4/?.so;;"), H.sh_quote(PROBE)))
    assert.equal(0, code, out)
    assert.matches("probe ok", out)
    sh("rm -rf " .. H.sh_quote(tree) .. " " .. H.sh_quote(src))
  end)

  it("the rockspec lists every Lua module and C source in the tree", function()
    local rs = assert(io.open("lua-stt-scm-1.rockspec")):read("*a")
    local _, files = sh("find lua csrc -name '*.lua' -o -name '*.c'")
    for path in files:gmatch("[^\n]+") do
      if path:match("%.lua$") then
        local mod = path:gsub("^lua/", ""):gsub("/init%.lua$", ""):gsub("%.lua$", ""):gsub("/", ".")
        assert.truthy(rs:find('["' .. mod .. '"] = "' .. path .. '"', 1, true), path .. " missing from the rockspec")
      else
        assert.truthy(rs:find('"' .. path .. '"', 1, true), path .. " missing from the rockspec")
      end
    end
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
