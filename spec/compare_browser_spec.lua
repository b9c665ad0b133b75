-- report.html of `stt compare` in a real browser (headless Chromium through spec/browser_helper.lua):
-- the fixture report (spec/fixtures/compare_report.lua) rendered by stt.compare.html, opened at
-- 1280x900 and at phone size 390x844. The page must load without console errors, CSP violations
-- or failed loads, fetch nothing at all, paint something (a PNG of the expected width with many
-- colours), and at phone width not be wider than the screen (tables scroll inside their own box).
--
-- The width check opens a copy of the page with a small measuring script first in its <head>
-- (before the page's Content-Security-Policy, which applies only to what follows it, the same way
-- B.probe's script runs): after load it writes the document's scroll width, the window's width
-- and any element sticking out past the right edge (outside a scrolling table box) into the DOM.
-- Headless Chromium lays a window out at least 500 px wide whatever --window-size says, so at
-- phone width the copy is shown in a 390 px <iframe> of a small wrapper page, and the measuring
-- script hands its figures to the wrapper with postMessage; the phone screenshot is that frame.
--
-- docs/compare-report.png is made by spec/compare_screenshot.lua (see its header).
local H = require "spec.helper"
local B = require "spec.browser_helper"
local html = require "stt.compare.html"

if not B.available() then
  describe("report.html in Chromium", function()
    pending("no chromium: run make deps")
  end)
  return
end

local MEASURE = [[<script>window.addEventListener("load",function(){setTimeout(function(){
var d=document.documentElement,w=window.innerWidth,out=[];
Array.prototype.forEach.call(document.body.querySelectorAll("*"),function(e){
if(e.closest(".wrap"))return;var r=e.getBoundingClientRect();
if(r.width>0&&r.right>w+1)out.push(e.tagName.toLowerCase()+(e.className&&e.className.baseVal===undefined
?"."+e.className:"")+" right="+Math.round(r.right));});
var svgs=Array.prototype.map.call(document.querySelectorAll("svg"),function(s){
var r=s.getBoundingClientRect();return [Math.round(r.width),Math.round(r.height)];});
var s=JSON.stringify({scroll:d.scrollWidth,width:w,overflow:out.slice(0,20),svgs:svgs});
if(window.parent!==window){window.parent.postMessage(s,"*");return;}
var pre=document.createElement("pre");pre.id="__layout";pre.textContent=s;document.body.appendChild(pre);},50);});
</script>]]

-- A page showing `src` in a frame of width x height at its top left corner, which writes what the
-- frame's measuring script posts into <pre id="__layout">.
local function frame_page(src, width, height)
  return '<!DOCTYPE html><html><head><meta charset="utf-8"><title>frame</title>'
    .. '<style>html,body{margin:0;background:#fff}iframe{border:0;display:block}</style>'
    .. '<script>window.addEventListener("message",function(e){var p=document.createElement("pre");'
    .. 'p.id="__layout";p.textContent=e.data;document.body.appendChild(p);});</script></head><body>'
    .. '<iframe src="' .. src .. '" width="' .. width .. '" height="' .. height .. '" title="report"></iframe>'
    .. '</body></html>'
end

local function decode_entities(s)
  return (s:gsub("&lt;", "<"):gsub("&gt;", ">"):gsub("&quot;", '"'):gsub("&amp;", "&"))
end

describe("report.html in Chromium", function()
  local dir, page, measured

  setup(function()
    dir = H.tmpdir()
    page = dir .. "/report.html"
    local text = html.render(dofile("spec/fixtures/compare_report.lua"))
    H.write(page, text)
    measured = dir .. "/measured.html"
    local with, n = text:gsub("(<head[^>]*>)", "%1" .. MEASURE:gsub("%%", "%%%%"), 1)
    assert(n == 1, "no <head> in report.html")
    H.write(measured, with)
  end)

  teardown(function()
    if dir then os.execute("rm -rf " .. H.sh_quote(dir)) end
  end)

  for _, size in ipairs({ { 1280, 900, "a desktop window" }, { 390, 844, "a phone" } }) do
    local w, ht, what = size[1], size[2], size[3]

    it("loads at " .. w .. "x" .. ht .. " (" .. what .. ") without errors and fetches nothing", function()
      local out = B.probe(page, { width = w, height = ht })
      assert.is_table(out.probe, "the page did not finish loading:\n" .. out.log)
      assert.are.same({}, out.probe.errors)
      assert.are.same({}, out.probe.resources)
      assert.are.same({}, out.errors)
      -- what the browser built: the three charts, the tables and the per-file diffs
      local dom = out.dom
      assert.are.equal(3, select(2, dom:gsub("<svg ", "")))
      assert.are.equal(2, select(2, dom:gsub("<table", "")))
      assert.are.equal(5, select(2, dom:gsub('<details class="file"', "")))
    end)

    it("fits a " .. w .. " px wide window: paints, nothing sticks out, the charts scale", function()
      local png = dir .. "/shot-" .. w .. ".png"
      local target = measured
      if w < 500 then
        target = dir .. "/frame-" .. w .. ".html"
        H.write(target, frame_page("measured.html", w, ht))
      end
      local out = B.probe(target, { width = w, height = ht, screenshot = png })
      assert.is_table(out.probe, "the page did not finish loading:\n" .. out.log)
      assert.are.same({}, out.probe.errors)
      assert.are.same({}, out.errors)
      local pw, ph = B.png_size(png)
      assert.are.equal(w, pw)
      assert.are.equal(ht, ph)
      local colours = B.png_colours(png)
      assert.is_true(colours >= 40, "the screenshot shows only " .. colours .. " colours")
      local raw = out.dom:match('<pre id="__layout">(.-)</pre>')
      assert.truthy(raw, "the measuring script wrote nothing")
      local m = H.json(decode_entities(raw))
      assert.are.equal(w, m.width)
      assert.are.same({}, m.overflow)
      assert.is_true(m.scroll <= m.width, "the document is " .. m.scroll .. " px wide in a " .. m.width
        .. " px window")
      assert.are.equal(3, #m.svgs)
      for _, s in ipairs(m.svgs) do
        assert.is_true(s[1] > 0.6 * math.min(w, 480) and s[1] <= w and s[2] > 100,
          "a chart drawn " .. s[1] .. "x" .. s[2])
      end
    end)
  end
end)
