-- Makes docs/compare-report.png: report.html of `stt compare` rendered by headless Chromium
-- (spec/browser_helper.lua) in a 1280x1600 window, the top of the page: summary, charts, ranking.
--
--   lua5.4 spec/compare_screenshot.lua [REPORT] [OUT.png]
--
-- REPORT is a report.json written by `stt compare` (decoded with the built core, so run
-- `make all` first; STT_CPATH picks the build, default build/lua5.4/?.so) or a Lua file returning
-- the report table; without it, the fixture spec/fixtures/compare_report.lua. OUT defaults to
-- docs/compare-report.png. Run from the top of the repository.
package.path = "lua/?.lua;lua/?/init.lua;./?.lua;" .. package.path
package.cpath = (os.getenv("STT_CPATH") or "build/lua5.4/?.so") .. ";" .. package.cpath

local H = require "spec.helper"
local B = require "spec.browser_helper"
local html = require "stt.compare.html"

local src = arg[1] or "spec/fixtures/compare_report.lua"
local out = arg[2] or "docs/compare-report.png"
assert(B.available(), "no chromium: run make deps")

local report
if src:match("%.lua$") then
  report = dofile(src)
else
  report = H.json(assert(H.read(src), "cannot read " .. src))
  -- JSON null decodes to a light userdata: an absent field, as the writers expect
  local function strip(t)
    for k, v in pairs(t) do
      if type(v) == "userdata" then t[k] = nil elseif type(v) == "table" then strip(v) end
    end
  end
  strip(report)
end

local dir = H.tmpdir()
local page = dir .. "/report.html"
H.write(page, html.render(report))
local shot = dir .. "/report.png"
local res = B.open(page, { width = 1280, height = 1600, screenshot = shot })
assert(#res.errors == 0, "console errors: " .. tostring(res.errors[1] and res.errors[1].text))
local w, h = B.png_size(shot)
assert(w == 1280 and h == 1600, "no screenshot:\n" .. res.log)
-- A palette of 256 colours keeps the file small; the page has few colours anyway.
local cmd = "ffmpeg -v error -y -i " .. H.sh_quote(shot)
  .. " -vf 'split[a][b];[a]palettegen=max_colors=256:stats_mode=full[p];[b][p]paletteuse=dither=none' "
  .. H.sh_quote(out)
assert(os.execute(cmd), "ffmpeg failed")
os.execute("rm -rf " .. H.sh_quote(dir))
local f = assert(io.open(out, "rb"))
local size = f:seek("end")
f:close()
print(out .. ": " .. w .. "x" .. h .. ", " .. size .. " bytes")
