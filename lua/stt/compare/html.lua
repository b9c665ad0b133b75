--- stt.compare.html: report.html of `stt compare`, one self-contained page.
--
--   M.render(report) -> string
--     The HTML page of a compare report (the table report.json holds, checked by
--     stt.compare.markdown.check; spec/fixtures/compare_report.lua is an example): a summary;
--     three inline SVG charts (error rate per configuration with substitutions, deletions and
--     insertions stacked; median and maximum wall time per configuration; cost against error
--     rate for the configurations that have a price); the ranked table; the error rate of every
--     file under every configuration; for every file, the reference beside each configuration's
--     hypothesis in rows, with substitutions (<mark>), deletions (<del>) and insertions (<ins>)
--     marked; and notes on failed jobs and unscored files.
--     The page loads nothing: no script, no external style sheet, font or image, and a
--     Content-Security-Policy that forbids them. Its CSS lays it out for 1280 px screens and for
--     phones (tables scroll sideways in their own box, charts scale). The same report gives the
--     same bytes.
--
-- Pure: no I/O, no globals; Lua 5.1 / LuaJIT / 5.4.
local MD = require "stt.compare.markdown"

local M = {}

local F = MD.format
local format, concat, ipairs, tostring = string.format, table.concat, ipairs, tostring

---------------------------------------------------------------- text

local ESC = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&#39;" }

--- Text for HTML content and attribute values (quoted with ").
local function h(s) return (tostring(s):gsub("[&<>\"']", ESC)) end

local UTF8_CHAR = "[%z\1-\127\194-\244][\128-\191]*"

--- The first `n` characters of `s`, with "…" when it was longer.
local function clip(s, n)
  local out, k = {}, 0
  for ch in s:gmatch(UTF8_CHAR) do
    k = k + 1
    if k > n then return concat(out, "", 1, n - 1) .. "…" end
    out[k] = ch
  end
  return s
end

-- True when `tok` is one CJK character: Han (U+3400-4DBF, 4E00-9FFF, F900-FAFF, 20000-3134F and
-- 々〆〇 U+3005-3007), kana (U+3040-30FF, 31F0-31FF, half-width FF66-FF9F) or Hangul (U+AC00-D7AF,
-- 1100-11FF, 3130-318F). This mirrors the scorer's unit rule (those characters are scored one at a
-- time): joining alignment tokens for display puts a space between two tokens unless both are
-- single CJK characters.
local function single_cjk(tok)
  local b = tok:byte(1)
  if not b or b < 0xE0 then return false end
  local n, cp = 3, b % 16
  if b >= 0xF0 then n, cp = 4, b % 8 end
  if #tok ~= n then return false end
  for i = 2, n do cp = cp * 64 + tok:byte(i) % 64 end
  return (cp >= 0x3400 and cp <= 0x4DBF) or (cp >= 0x4E00 and cp <= 0x9FFF) or (cp >= 0xF900 and cp <= 0xFAFF)
    or (cp >= 0x20000 and cp <= 0x3134F) or (cp >= 0x3005 and cp <= 0x3007)
    or (cp >= 0x3040 and cp <= 0x30FF) or (cp >= 0x31F0 and cp <= 0x31FF) or (cp >= 0xFF66 and cp <= 0xFF9F)
    or (cp >= 0xAC00 and cp <= 0xD7AF) or (cp >= 0x1100 and cp <= 0x11FF) or (cp >= 0x3130 and cp <= 0x318F)
end

---------------------------------------------------------------- charts

local W = 480                         -- every chart's viewBox width
local COLOUR = { S = "#d97706", D = "#c81e1e", I = "#1d63c9", bar = "#4b5d7e", max = "#1f2937",
                 grid = "#e5e7eb", axis = "#6b7280", text = "#1f2937" }

local function n1(x) return format("%.1f", x) end

-- A step of 1, 2, 2.5 or 5 times a power of ten giving at most 5 intervals up to `maxv`, and
-- the top of the axis (a multiple of the step).
local function nice(maxv)
  if not maxv or maxv <= 0 then maxv = 1 end
  local raw = maxv / 5
  local mag = 1
  while mag * 10 <= raw do mag = mag * 10 end
  while mag > raw do mag = mag / 10 end
  local step = mag * 10
  for _, m in ipairs({ 1, 2, 2.5, 5, 10 }) do
    if m * mag >= raw then step = m * mag; break end
  end
  local k = 0
  while k * step < maxv - 1e-12 do k = k + 1 end
  if k == 0 then k = 1 end
  return step, k
end

local function tick_label(v) return (format("%.6g", v)) end

local function svg_open(id, height, title, desc)
  return format('<svg viewBox="0 0 %d %d" role="img" aria-labelledby="%s-t %s-d" font-size="13">'
    .. '<title id="%s-t">%s</title><desc id="%s-d">%s</desc>', W, height, id, id, id, h(title), id, h(desc))
end

local function text(x, y, s, attrs)
  return format('<text x="%s" y="%s"%s>%s</text>', n1(x), n1(y), attrs or "", h(s))
end

local function rect(x, y, w, ht, fill, extra)
  return format('<rect x="%s" y="%s" width="%s" height="%s" fill="%s"%s/>', n1(x), n1(y), n1(w), n1(ht), fill,
    extra or "")
end

local function line(x1, y1, x2, y2, stroke, extra)
  return format('<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"%s/>', n1(x1), n1(y1), n1(x2), n1(y2), stroke,
    extra or "")
end

-- A horizontal axis from x0 to x1 at y with `k` intervals of `step`; gridlines up to `top`.
local function x_axis(out, x0, x1, y, top, step, k, label, fmt)
  for i = 0, k do
    local x = x0 + (x1 - x0) * i / k
    out[#out + 1] = line(x, top, x, y, COLOUR.grid)
    out[#out + 1] = line(x, y, x, y + 4, COLOUR.axis)
    out[#out + 1] = text(x, y + 17, (fmt or tick_label)(step * i), ' text-anchor="middle" fill="#4b5563"')
  end
  out[#out + 1] = line(x0, y, x1, y, COLOUR.axis)
  out[#out + 1] = text((x0 + x1) / 2, y + 35, label, ' text-anchor="middle" fill="#374151"')
end

local function label_of(c, room)
  local s = (c.rank and ("#" .. F.count(c.rank) .. " ") or "") .. c.id
  return clip(s, room)
end

local function legend_item(out, x, y, fill, label)
  out[#out + 1] = rect(x, y - 10, 12, 12, fill, ' stroke="#374151" stroke-width=".5"')
  out[#out + 1] = text(x + 17, y, label)
  return x + 17 + #label * 7 + 16
end

local PATTERNS = '<defs><pattern id="pat-d" width="6" height="6" patternUnits="userSpaceOnUse" '
  .. 'patternTransform="rotate(45)"><rect width="6" height="6" fill="' .. COLOUR.D .. '"/>'
  .. '<rect width="2" height="6" fill="#ffffff" fill-opacity=".55"/></pattern>'
  .. '<pattern id="pat-i" width="5" height="5" patternUnits="userSpaceOnUse"><rect width="5" height="5" fill="'
  .. COLOUR.I .. '"/><circle cx="2.5" cy="2.5" r="1.1" fill="#ffffff" fill-opacity=".7"/></pattern></defs>'
local FILL = { S = COLOUR.S, D = "url(#pat-d)", I = "url(#pat-i)" }

local ROW = 42

local function chart_rates(ranked)
  local maxv, parts = 0, {}
  for _, c in ipairs(ranked) do
    local s = c.summary
    if s.rate then
      if s.rate * 100 > maxv then maxv = s.rate * 100 end
      parts[#parts + 1] = format("%s: %s (%s substitutions, %s deletions, %s insertions in %s units)", c.id,
        F.rate(s.rate), F.count(s.substitutions or 0), F.count(s.deletions or 0), F.count(s.insertions or 0),
        F.count(s.ref_units))
    else
      parts[#parts + 1] = c.id .. ": nothing scored"
    end
  end
  local step, k = nice(maxv)
  local x0, x1, top = 8, W - 12, 30
  local height = top + #ranked * ROW + 48
  local out = { svg_open("c-rate", height, "Error rate per configuration",
    "Horizontal bars, lowest error rate first; each bar is split into substitutions, deletions and insertions. "
    .. concat(parts, "; ") .. "."), PATTERNS }
  local x = 8
  x = legend_item(out, x, 16, FILL.S, "substitutions")
  x = legend_item(out, x, 16, FILL.D, "deletions")
  legend_item(out, x, 16, FILL.I, "insertions")
  local base = top + #ranked * ROW + 4
  local scale = (x1 - x0) / (step * k)
  x_axis(out, x0, x1, base, top, step, k, "error rate (%)")
  for i, c in ipairs(ranked) do
    local s = c.summary
    local y = top + (i - 1) * ROW
    out[#out + 1] = '<g><title>' .. h(c.id) .. '</title>'
    out[#out + 1] = text(x0, y + 14, label_of(c, 50))
    if s.rate then
      out[#out + 1] = text(x1, y + 14, F.rate(s.rate), ' text-anchor="end" font-weight="600"')
      local bx, ru = x0, s.ref_units or 0
      for _, op in ipairs({ "S", "D", "I" }) do
        local n = s[op == "S" and "substitutions" or op == "D" and "deletions" or "insertions"] or 0
        if n > 0 and ru > 0 then
          local w = n / ru * 100 * scale
          out[#out + 1] = rect(bx, y + 20, w, 16, FILL[op], ' stroke="#ffffff" stroke-width=".5"')
          bx = bx + w
        end
      end
      if bx == x0 then out[#out + 1] = line(x0, y + 20, x0, y + 36, COLOUR.text, ' stroke-width="2"') end
    else
      out[#out + 1] = text(x1, y + 14, "nothing scored", ' text-anchor="end" fill="#6b7280"')
    end
    out[#out + 1] = '</g>'
  end
  out[#out + 1] = '</svg>'
  return concat(out)
end

local function chart_latency(ranked)
  local maxv, parts = 0, {}
  for _, c in ipairs(ranked) do
    local w = c.summary.wall_ms
    if w and w.median then
      local m = (w.max or w.median) / 1000
      if m > maxv then maxv = m end
      parts[#parts + 1] = format("%s: median %s, max %s", c.id, F.duration(w.median), F.duration(w.max))
    else
      parts[#parts + 1] = c.id .. ": no timings"
    end
  end
  local step, k = nice(maxv)
  local x0, x1, top = 8, W - 12, 30
  local height = top + #ranked * ROW + 48
  local out = { svg_open("c-wall", height, "Wall time per configuration",
    "Median wall time from submit to result as a bar, the slowest file as a whisker. " .. concat(parts, "; ") .. ".") }
  out[#out + 1] = rect(8, 6, 12, 12, COLOUR.bar)
  out[#out + 1] = text(25, 16, "median")
  out[#out + 1] = line(90, 12, 114, 12, COLOUR.max, ' stroke-width="1.5"')
  out[#out + 1] = line(114, 6, 114, 18, COLOUR.max, ' stroke-width="1.5"')
  out[#out + 1] = text(120, 16, "slowest file")
  local base = top + #ranked * ROW + 4
  local scale = (x1 - x0) / (step * k)
  x_axis(out, x0, x1, base, top, step, k, "wall time, submit to result (s)")
  for i, c in ipairs(ranked) do
    local w = c.summary.wall_ms
    local y = top + (i - 1) * ROW
    out[#out + 1] = '<g><title>' .. h(c.id) .. '</title>'
    out[#out + 1] = text(x0, y + 14, label_of(c, 40))
    if w and w.median then
      local xm = x0 + w.median / 1000 * scale
      out[#out + 1] = text(x1, y + 14, F.duration(w.median) .. (w.max and (" · max " .. F.duration(w.max)) or ""),
        ' text-anchor="end" font-weight="600"')
      out[#out + 1] = rect(x0, y + 20, xm - x0, 16, COLOUR.bar)
      if w.max and w.max > w.median then
        local xx = x0 + w.max / 1000 * scale
        out[#out + 1] = line(xm, y + 28, xx, y + 28, COLOUR.max, ' stroke-width="1.5"')
        out[#out + 1] = line(xx, y + 21, xx, y + 35, COLOUR.max, ' stroke-width="1.5"')
      end
    else
      out[#out + 1] = text(x1, y + 14, "no timings", ' text-anchor="end" fill="#6b7280"')
    end
    out[#out + 1] = '</g>'
  end
  out[#out + 1] = '</svg>'
  return concat(out)
end

local function chart_cost(ranked, currency)
  local pts, unpriced, maxc, maxr = {}, {}, 0, 0
  for _, c in ipairs(ranked) do
    local s = c.summary
    if s.cost and s.rate then
      pts[#pts + 1] = c
      if s.cost > maxc then maxc = s.cost end
      if s.rate * 100 > maxr then maxr = s.rate * 100 end
    elseif not s.cost then
      unpriced[#unpriced + 1] = c.id
    end
  end
  if #pts == 0 then
    local any = #unpriced < #ranked
    return '<p class="nochart">' .. (any and "No configuration has both a cost and an error rate."
      or "No prices given: give a price table (--prices) to plot cost against error rate.") .. '</p>'
  end
  local xs, xk = nice(maxc)
  local ys, yk = nice(maxr)
  local x0, x1, y0, y1 = 52, W - 30, 14, 224
  local keyh = 20 * #pts + (#unpriced > 0 and 20 or 0)
  local height = y1 + 48 + keyh
  local parts = {}
  for _, c in ipairs(pts) do
    parts[#parts + 1] = format("%s: %s at %s", c.id, F.rate(c.summary.rate), F.cost(c.summary.cost, currency))
  end
  local desc = "Each configuration with a price as a point: cost across, error rate up; lower left is better. "
    .. concat(parts, "; ") .. "." .. (#unpriced > 0 and (" No price: " .. concat(unpriced, ", ") .. ".") or "")
  local out = { svg_open("c-cost", height, "Cost against error rate", desc) }
  x_axis(out, x0, x1, y1, y0, xs, xk, "cost" .. (currency and (" (" .. currency .. ")") or ""))
  for i = 0, yk do
    local y = y1 - (y1 - y0) * i / yk
    out[#out + 1] = line(x0, y, x1, y, COLOUR.grid)
    out[#out + 1] = text(x0 - 6, y + 4, tick_label(ys * i), ' text-anchor="end" fill="#4b5563"')
  end
  out[#out + 1] = line(x0, y0, x0, y1, COLOUR.axis)
  out[#out + 1] = text(14, (y0 + y1) / 2, "error rate (%)",
    format(' text-anchor="middle" fill="#374151" transform="rotate(-90 14 %s)"', n1((y0 + y1) / 2)))
  for i, c in ipairs(pts) do
    local s = c.summary
    local x = x0 + (x1 - x0) * s.cost / (xs * xk)
    local y = y1 - (y1 - y0) * s.rate * 100 / (ys * yk)
    local mark = c.rank and F.count(c.rank) or tostring(i)
    out[#out + 1] = format('<g><title>%s: %s, %s</title><circle cx="%s" cy="%s" r="10" fill="%s" '
      .. 'fill-opacity=".9" stroke="#ffffff" stroke-width="1.5"/>', h(c.id), h(F.rate(s.rate)),
      h(F.cost(s.cost, currency)), n1(x), n1(y), COLOUR.bar)
    out[#out + 1] = text(x, y + 4.5, mark, ' text-anchor="middle" fill="#ffffff" font-size="12" font-weight="700"')
    out[#out + 1] = '</g>'
  end
  local ky = y1 + 58
  for i, c in ipairs(pts) do
    local y = ky + (i - 1) * 20
    out[#out + 1] = format('<circle cx="%s" cy="%s" r="8" fill="%s"/>', n1(x0 - 30), n1(y - 4), COLOUR.bar)
    out[#out + 1] = text(x0 - 30, y, c.rank and F.count(c.rank) or tostring(i),
      ' text-anchor="middle" fill="#ffffff" font-size="11" font-weight="700"')
    out[#out + 1] = text(x0 - 14, y, clip(c.id .. " — " .. F.rate(c.summary.rate) .. ", "
      .. F.cost(c.summary.cost, currency), 58))
  end
  if #unpriced > 0 then
    out[#out + 1] = text(x0 - 38, ky + #pts * 20, clip("No price: " .. concat(unpriced, ", "), 64),
      ' fill="#6b7280"')
  end
  out[#out + 1] = '</svg>'
  return concat(out)
end

---------------------------------------------------------------- diffs

local ROW_WIDTH = 70   -- a diff row holds about this many columns (a CJK character takes two)

local function columns(tok)
  if not tok then return 0 end
  if single_cjk(tok) then return 2 end
  local n = 0
  for _ in tok:gmatch(UTF8_CHAR) do n = n + 1 end
  return n + 1
end

-- One alignment as HTML rows, reference beside hypothesis: the alignment is cut into pieces of
-- about ROW_WIDTH columns so that what was said and what was heard stay side by side however long
-- the file; each side's tokens are joined by the display rule, substitutions, deletions and
-- insertions marked.
local function diff_rows(alignment)
  local rows, ref, hyp, width = {}, {}, {}, 0
  local last_ref, last_hyp
  local function put(side, last, tok, html)
    if last and not (single_cjk(last) and single_cjk(tok)) then side[#side + 1] = " " end
    side[#side + 1] = html
    return tok
  end
  local function flush()
    rows[#rows + 1] = '<div class="row"><p class="r">' .. concat(ref) .. '</p><p class="h">' .. concat(hyp)
      .. '</p></div>'
    ref, hyp, width, last_ref, last_hyp = {}, {}, 0, nil, nil
  end
  for _, a in ipairs(alignment) do
    local op = a.op
    local w = columns(a.ref)
    if columns(a.hyp) > w then w = columns(a.hyp) end
    if width > 0 and width + w > ROW_WIDTH then flush() end
    width = width + w
    if op == "=" then
      last_ref = put(ref, last_ref, a.ref, h(a.ref))
      last_hyp = put(hyp, last_hyp, a.hyp, h(a.hyp))
    elseif op == "S" then
      last_ref = put(ref, last_ref, a.ref, '<mark class="ref-s" title="heard as: ' .. h(a.hyp) .. '">'
        .. h(a.ref) .. '</mark>')
      last_hyp = put(hyp, last_hyp, a.hyp, '<mark class="op-s" title="reference: ' .. h(a.ref) .. '">'
        .. h(a.hyp) .. '</mark>')
    elseif op == "D" then
      last_ref = put(ref, last_ref, a.ref, '<del class="op-d">' .. h(a.ref) .. '</del>')
    else
      last_hyp = put(hyp, last_hyp, a.hyp, '<ins class="op-i">' .. h(a.hyp) .. '</ins>')
    end
  end
  if width > 0 or #rows == 0 then flush() end
  return '<div class="diff"><div class="dh"><span>Reference</span><span>Hypothesis</span></div>' .. concat(rows)
    .. '</div>'
end

local LEGEND = '<p class="legend">Marks: <mark class="op-s">substituted</mark> (wavy underline; the '
  .. 'reference side shows <mark class="ref-s">what was said</mark>, dotted), <del class="op-d">deleted</del> '
  .. '(struck through, reference side), <ins class="op-i">inserted</ins> (underlined, hypothesis side). '
  .. 'Text as the scorer compared it: normalized, CJK by character, other scripts by word.</p>'

local COLLAPSE_AT = 160   -- a file's diffs start collapsed when its longest alignment has more tokens

-- Each configuration's block is <div class="cfg" data-n="N">...</div><!--/cfg--> (N counts the
-- blocks of the page from 1), so a reader of the page can cut it into blocks without parsing it.
local function file_diffs(inp, ranked, maps, currency, n)
  local out, longest = {}, 0
  for i, c in ipairs(ranked) do
    local f = maps[i][inp.name]
    n = n + 1
    local open = '<div class="cfg" data-n="' .. n .. '">'
    local head = '<h4>' .. h(label_of(c, 200)) .. '</h4>'
    if not f then
      out[#out + 1] = open .. head .. '<p class="muted">no job for this file</p></div><!--/cfg-->'
    elseif f.state == "failed" then
      local e = f.error
      out[#out + 1] = open .. head .. '<p class="bad">failed: ' .. h(e.kind)
        .. (e.message and (' — ' .. h(e.message)) or "") .. '</p></div><!--/cfg-->'
    else
      local facts = {}
      if f.state == "scored" then
        facts[#facts + 1] = '<b>' .. h(F.rate(f.rate)) .. '</b>'
        facts[#facts + 1] = h(format("S %s · D %s · I %s of %s %s", F.count(f.substitutions or 0),
          F.count(f.deletions or 0), F.count(f.insertions or 0), F.count(f.ref_units),
          f.unit == "word" and "words" or f.unit == "char" and "characters" or "units"))
      elseif f.state == "undefined" then
        facts[#facts + 1] = '<b>undefined</b> (empty reference)'
      else
        facts[#facts + 1] = '<b>unscored</b>' .. (f.reason and (' (' .. h(f.reason) .. ')') or "")
      end
      if f.wall_ms then facts[#facts + 1] = h(F.duration(f.wall_ms)) end
      if f.cost then facts[#facts + 1] = h(F.cost(f.cost, currency)) end
      local body
      if f.alignment then
        if #f.alignment > longest then longest = #f.alignment end
        body = diff_rows(f.alignment)
        if f.hypothesis then
          body = body .. '<details class="raw"><summary>Text as returned</summary><p>' .. h(f.hypothesis)
            .. '</p></details>'
        end
      else
        body = '<div class="pane"><div class="side">Hypothesis (text as returned)</div><p>'
          .. h(f.hypothesis or "") .. '</p></div>'
      end
      out[#out + 1] = open .. head .. '<p class="facts">' .. concat(facts, " · ") .. '</p>'
        .. body .. '</div><!--/cfg-->'
    end
  end
  local why = inp.reason and (' <span class="muted">— ' .. h(inp.reason) .. '</span>') or ""
  return '<details class="file"' .. (longest <= COLLAPSE_AT and " open" or "") .. '><summary><b>' .. h(inp.name)
    .. '</b>' .. why .. '</summary>' .. concat(out) .. '</details>', n
end

---------------------------------------------------------------- page

local CSS = [[
:root{--fg:#1f2937;--muted:#6b7280;--line:#e5e7eb;--panel:#f8fafc;--s:#d97706;--d:#c81e1e;--i:#1d63c9}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;color:var(--fg);background:#fff;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,
"Helvetica Neue",Arial,"Noto Sans","Noto Sans CJK SC","Noto Sans CJK JP","Noto Sans CJK KR","Source Han Sans SC",
"PingFang SC","Hiragino Sans","Microsoft YaHei","Malgun Gothic",sans-serif}
main{max-width:1200px;margin:0 auto;padding:20px 24px 40px}
h1{font-size:1.6rem;margin:0 0 4px}
h2{font-size:1.2rem;margin:32px 0 10px;padding-bottom:4px;border-bottom:1px solid var(--line)}
h3{font-size:1rem;margin:0 0 8px}
h4{font-size:.95rem;margin:0 0 2px;overflow-wrap:anywhere}
.meta,.muted{color:var(--muted)}
.cards{display:flex;flex-wrap:wrap;gap:10px;list-style:none;padding:0;margin:14px 0 0}
.cards li{background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:8px 12px;min-width:0;
overflow-wrap:anywhere}
.cards b{display:block;font-size:.75rem;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,440px),1fr));gap:16px}
figure{margin:0;padding:12px;border:1px solid var(--line);border-radius:8px;min-width:0}
figure svg{display:block;width:100%;height:auto}
figcaption{font-weight:600;margin-bottom:6px}
.nochart{color:var(--muted);padding:24px 0}
.wrap{max-width:100%;overflow-x:auto;border:1px solid var(--line);border-radius:8px}
table{border-collapse:collapse;font-variant-numeric:tabular-nums;width:100%}
th,td{padding:6px 10px;border-bottom:1px solid var(--line);text-align:right;white-space:nowrap}
th{background:var(--panel);font-size:.85rem;white-space:normal;vertical-align:bottom;min-width:5em}
td.l{white-space:normal;overflow-wrap:break-word;min-width:10em}
.pf td{white-space:normal;min-width:7em}
.pf td.l{min-width:5em}
tr:last-child td{border-bottom:0}
.l{text-align:left}
td.bad,.bad{color:var(--d)}
td.muted{color:var(--muted)}
.note{font-size:.9rem;color:var(--muted)}
details.file{border:1px solid var(--line);border-radius:8px;margin:10px 0;padding:0 12px}
details.file>summary{cursor:pointer;padding:10px 0}
.cfg{border-top:1px solid var(--line);padding:10px 0}
.facts{margin:0 0 6px;font-size:.9rem;color:#374151}
.diff,.pane{background:var(--panel);border:1px solid var(--line);border-radius:6px;min-width:0}
.dh,.row{display:grid;grid-template-columns:1fr 1fr}
.row+.row{border-top:1px dashed var(--line)}
.row p,.pane p{margin:0;padding:3px 10px;overflow-wrap:anywhere;line-height:1.9;min-width:0}
.row p.r{border-right:1px solid var(--line)}
.dh span,.side{padding:4px 10px 0;font-size:.75rem;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
details.raw{font-size:.85rem;margin-top:4px}
details.raw p{margin:4px 0;overflow-wrap:anywhere}
mark,del,ins{border-radius:3px;padding:0 2px;color:inherit}
mark.op-s{background:#fde7c2;text-decoration:underline wavy var(--s);text-underline-offset:3px}
mark.ref-s{background:#fef3e2;text-decoration:underline dotted var(--s);text-underline-offset:3px}
del.op-d{background:#fbd5d5;text-decoration:line-through 2px var(--d)}
ins.op-i{background:#d6e4fa;text-decoration:underline 2px var(--i);text-underline-offset:3px}
.legend{font-size:.9rem}
ul.notes{padding-left:20px}
ul.notes li{overflow-wrap:anywhere}
footer{margin-top:32px;font-size:.85rem;color:var(--muted)}
@media (max-width:640px){
body{font-size:14px}
main{padding:12px 12px 32px}
h1{font-size:1.3rem}
.dh{display:none}
.row{grid-template-columns:1fr}
.row p.r{border-right:0;padding-bottom:0}
.row p.r::before,.row p.h::before{display:inline-block;min-width:2.6em;font-size:.7rem;text-transform:uppercase;
color:var(--muted)}
.row p.r::before{content:"ref"}
.row p.h::before{content:"hyp"}
figure{padding:8px}
th,td{padding:5px 8px}
}
]]

local function td(s, class) return '<td' .. (class and (' class="' .. class .. '"') or "") .. '>' .. s .. '</td>' end

local function ranked_table(ranked, currency)
  local out = { '<div class="wrap"><table><thead><tr>' }
  for _, t in ipairs({ "Rank", "Configuration", "Error rate", "S / D / I", "Ref units",
                       "Files scored / failed / unscored", "Wall time median / max", "Median RTF", "Audio", "Billed",
                       "Cost" }) do
    out[#out + 1] = '<th scope="col"' .. (t == "Configuration" and ' class="l"' or "") .. '>' .. t .. '</th>'
  end
  out[#out + 1] = '</tr></thead><tbody>'
  for _, c in ipairs(ranked) do
    local s, w = c.summary, c.summary.wall_ms
    out[#out + 1] = '<tr>' .. td(c.rank and F.count(c.rank) or "–") .. td(h(c.id), "l")
      .. td('<b>' .. h(F.rate(s.rate)) .. '</b>') .. td(h(F.sdi(s))) .. td(F.count(s.ref_units))
      .. td(h(F.files(s)), (s.failed or 0) > 0 and "bad" or nil)
      .. td(h(F.duration(w and w.median) .. (w and w.max and (" / " .. F.duration(w.max)) or "")))
      .. td(h(F.rtf(s.rtf)))
      .. td(h(F.duration(s.audio_ms))) .. td(h(F.duration(s.billed_ms))) .. td(h(F.cost(s.cost, currency)))
      .. '</tr>'
  end
  out[#out + 1] = '</tbody></table></div>'
  return concat(out)
end

local function file_table(report, ranked, maps)
  local out = { '<div class="wrap"><table class="pf"><thead><tr><th scope="col" class="l">File</th>'
    .. '<th scope="col">Ref units</th>' }
  for _, c in ipairs(ranked) do out[#out + 1] = '<th scope="col">' .. h(label_of(c, 200)) .. '</th>' end
  out[#out + 1] = '</tr></thead><tbody>'
  for _, inp in ipairs(report.inputs) do
    out[#out + 1] = '<tr>' .. td(h(inp.name), "l") .. td(F.count(inp.ref_units))
    for i in ipairs(ranked) do
      local f = maps[i][inp.name]
      local class = f and (f.state == "failed" and "bad" or (f.state == "unscored" or f.state == "undefined")
        and "muted") or nil
      out[#out + 1] = td(h(F.cell(f)), class or nil)
    end
    out[#out + 1] = '</tr>'
  end
  out[#out + 1] = '</tbody></table></div>'
  return concat(out)
end

function M.render(report)
  MD.check(report)
  local cur = report.currency
  local ranked = F.ranked(report)
  local maps = {}
  for i, c in ipairs(ranked) do maps[i] = F.by_input(c) end
  local notes = F.notes(report)
  local failed, unscored = {}, {}
  for i, l in ipairs(notes.failed) do failed[i] = '<li>' .. h(l) .. '</li>' end
  for i, u in ipairs(notes.unscored) do unscored[i] = '<li><b>' .. h(u.name) .. '</b>: ' .. h(u.why) .. '</li>' end
  local n_failed = #failed

  local out = {}
  local function add(s) out[#out + 1] = s end
  local tool = (report.tool or "lua-stt") .. (report.version and (" " .. report.version) or "")
  add('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n')
  add('<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'; '
    .. 'img-src data:">\n')
  add('<meta name="viewport" content="width=device-width,initial-scale=1">\n')
  add('<title>Speech-to-text comparison · ' .. h(report.created) .. '</title>\n')
  add('<style>\n' .. CSS .. '</style>\n</head>\n<body>\n<main>\n')

  add('<header><h1>Speech-to-text comparison</h1><p class="meta">' .. h(tool) .. ' · ' .. h(report.created) .. ' · '
    .. #report.inputs .. (#report.inputs == 1 and ' input' or ' inputs') .. ' through ' .. #report.configs
    .. (#report.configs == 1 and ' configuration' or ' configurations') .. '</p><ul class="cards">')
  local best = ranked[1]
  if best and best.rank and best.summary.rate then
    add('<li><b>Lowest error rate</b>' .. h(best.id) .. ' — ' .. h(F.rate(best.summary.rate)) .. '</li>')
  else
    add('<li><b>Lowest error rate</b>nothing was scored</li>')
  end
  add('<li><b>Unit</b>' .. h(F.unit_note(report.unit)) .. '</li>')
  local nn = F.normalize_note(report.normalize)
  if nn then add('<li><b>Normalization</b>' .. h(nn) .. '</li>') end
  add('<li><b>Failed jobs</b>' .. n_failed .. '</li><li><b>Not scored</b>' .. #unscored .. '</li>')
  add('</ul></header>\n')

  add('<section><h2>Charts</h2><div class="charts">')
  add('<figure><figcaption>Error rate per configuration</figcaption>' .. chart_rates(ranked) .. '</figure>')
  add('<figure><figcaption>Wall time per configuration</figcaption>' .. chart_latency(ranked) .. '</figure>')
  add('<figure><figcaption>Cost against error rate</figcaption>' .. chart_cost(ranked, cur) .. '</figure>')
  add('</div></section>\n')

  add('<section><h2>Ranking</h2>' .. ranked_table(ranked, cur) .. '<p class="note">Error rate = (substitutions + '
    .. 'deletions + insertions) / reference units over the scored files. A failed job is reported as failed, not '
    .. 'scored; blank cells are figures the provider or the price table did not give. RTF: wall time / audio '
    .. 'duration.</p></section>\n')
  add('<section><h2>Error rate per file</h2>' .. file_table(report, ranked, maps) .. '</section>\n')

  add('<section><h2>Differences</h2>' .. LEGEND)
  local n = 0
  for _, inp in ipairs(report.inputs) do
    local block
    block, n = file_diffs(inp, ranked, maps, cur, n)
    add(block)
  end
  add('</section>\n')

  if #failed > 0 or #unscored > 0 then
    add('<section><h2>Notes</h2>')
    if #failed > 0 then
      add('<h3>Failed jobs (not counted in the error rates)</h3><ul class="notes">' .. concat(failed) .. '</ul>')
    end
    if #unscored > 0 then
      add('<h3>Files not scored</h3><ul class="notes">' .. concat(unscored) .. '</ul>')
    end
    add('</section>\n')
  end
  add('<footer>' .. h(tool) .. ' · report created ' .. h(report.created) .. '</footer>\n</main>\n</body>\n</html>\n')
  return concat(out)
end

return M
