--- stt.subtitle.ass: what Advanced SubStation Alpha needs beyond cue text: the style (an option
-- table checked and filled with defaults for 1080p video: style()), the header that carries it
-- (header()), and karaoke tags from word timings (karaoke_text()). The format's facts and their
-- sources: docs/subtitles.md. Pure: no I/O, no globals.
local A = {}

local type, tostring, tonumber, pairs, ipairs = type, tostring, tonumber, pairs, ipairs
local mfloor, max, min, concat = math.floor, math.max, math.min, table.concat

-- Defaults for captions burned into 1920x1080 video: a 52-pixel font sets a 42-character line in
-- about 60 % of the width; a 3-pixel black outline and a soft shadow keep white text readable on
-- any picture; margins keep lines inside the action-safe area; karaoke shows words not yet spoken
-- in grey (SecondaryColour) and spoken ones in white (PrimaryColour).
A.DEFAULT_STYLE = {
  font = "Arial", size = 52, bold = false, italic = false, underline = false, strike_out = false,
  primary_colour = "&H00FFFFFF", secondary_colour = "&H00A0A0A0", outline_colour = "&H00000000",
  back_colour = "&H80000000", scale_x = 100, scale_y = 100, spacing = 0, angle = 0, border_style = 1,
  outline = 3, shadow = 1, alignment = 2, margin_l = 120, margin_r = 120, margin_v = 60,
  play_res_x = 1920, play_res_y = 1080,
}

local KIND = {
  font = "text", size = "number", bold = "boolean", italic = "boolean", underline = "boolean",
  strike_out = "boolean", primary_colour = "colour", secondary_colour = "colour", outline_colour = "colour",
  back_colour = "colour", scale_x = "number", scale_y = "number", spacing = "number", angle = "number",
  border_style = "number", outline = "number", shadow = "number", alignment = "number", margin_l = "number",
  margin_r = "number", margin_v = "number", play_res_x = "number", play_res_y = "number",
}

local function names()
  local out = {}
  for k in pairs(KIND) do out[#out + 1] = k end
  table.sort(out)
  return concat(out, ", ")
end

-- A colour as ASS writes it, &HAABBGGRR (AA: 00 opaque .. FF transparent), from that form
-- (&HBBGGRR too, a trailing & allowed) or from CSS's #RRGGBB / #RRGGBBAA (AA: FF opaque).
local function colour(v)
  if type(v) ~= "string" then return nil end
  local hex = v:match("^&[Hh](%x+)&?$")
  if hex and (#hex == 6 or #hex == 8) then
    if #hex == 6 then hex = "00" .. hex end
    return "&H" .. hex:upper()
  end
  local r, g, b, a = v:match("^#(%x%x)(%x%x)(%x%x)(%x?%x?)$")
  if r and (a == "" or #a == 2) then
    local alpha = a == "" and 0 or 255 - tonumber(a, 16)
    return ("&H%02X%s%s%s"):format(alpha, b:upper(), g:upper(), r:upper())
  end
  return nil
end

--- style(t) -> the full style (DEFAULT_STYLE with t's keys, checked), or nil, message for an
-- unknown key or a bad value. Keys may be spelt _color as well as _colour; values may be text
-- (as from the command line: "48", "true", "#FFFF00").
function A.style(t)
  if t ~= nil and type(t) ~= "table" then return nil, "the ASS style must be a table" end
  local out = {}
  for k, v in pairs(A.DEFAULT_STYLE) do out[k] = v end
  for key, v in pairs(t or {}) do
    local k = type(key) == "string" and key:gsub("_color$", "_colour") or key
    local kind = KIND[k]
    if not kind then
      return nil, ("unknown ASS style key %s (known: %s)"):format(tostring(key), names())
    end
    local bad = ("ASS style %s: %s is not a valid "):format(key, tostring(v))
    if kind == "number" then
      local n = tonumber(v)
      if not n or n ~= n or n < (k == "angle" and -360 or 0) or n > 100000 then return nil, bad .. "number" end
      if k == "alignment" and (n < 1 or n > 9 or n % 1 ~= 0) then return nil, bad .. "alignment (1 .. 9, numpad)" end
      if k == "border_style" and n ~= 1 and n ~= 3 then return nil, bad .. "border style (1 outline, 3 box)" end
      if (k == "play_res_x" or k == "play_res_y") and (n < 1 or n % 1 ~= 0) then return nil, bad .. "resolution" end
      out[k] = n
    elseif kind == "boolean" then
      if v == true or v == "true" or v == 1 or v == "1" then out[k] = true
      elseif v == false or v == "false" or v == 0 or v == "0" then out[k] = false
      else return nil, bad .. "boolean" end
    elseif kind == "colour" then
      local c = colour(v)
      if not c then return nil, bad .. "colour (#RRGGBB, #RRGGBBAA or &HAABBGGRR)" end
      out[k] = c
    else
      -- A comma would end the field early: the Style line is comma-separated.
      if type(v) ~= "string" or v == "" or v:find("[,%c]") then return nil, bad .. "font name" end
      out[k] = v
    end
  end
  return out
end

local function num(n)
  if n % 1 == 0 then return ("%d"):format(n) end
  return (("%.2f"):format(n):gsub("0+$", ""))
end

local function flag(b) return b and "-1" or "0" end

--- header(style) -> [Script Info], [V4+ Styles] with the one Default style, [Events] Format line.
function A.header(s)
  return concat({
    "[Script Info]\n",
    "ScriptType: v4.00+\n",
    "PlayResX: ", num(s.play_res_x), "\n",
    "PlayResY: ", num(s.play_res_y), "\n",
    "ScaledBorderAndShadow: yes\n\n",
    "[V4+ Styles]\n",
    "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, ",
    "Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, ",
    "MarginR, MarginV, Encoding\n",
    "Style: Default,", s.font, ",", num(s.size), ",", s.primary_colour, ",", s.secondary_colour, ",",
    s.outline_colour, ",", s.back_colour, ",", flag(s.bold), ",", flag(s.italic), ",", flag(s.underline), ",",
    flag(s.strike_out), ",", num(s.scale_x), ",", num(s.scale_y), ",", num(s.spacing), ",", num(s.angle), ",",
    num(s.border_style), ",", num(s.outline), ",", num(s.shadow), ",", num(s.alignment), ",", num(s.margin_l),
    ",", num(s.margin_r), ",", num(s.margin_v), ",0\n\n",
    "[Events]\n",
    "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n",
  })
end

A.KARAOKE_TAGS = { k = "k", kf = "kf", ko = "ko", K = "kf" }

--- karaoke_text(cue, words, tag, escape) -> the Dialogue text of a cue with a karaoke tag (\kf,
-- \k or \ko) before each word, its duration in centiseconds; silence before a word is an empty
-- \k syllable. Times count from the cue's start as ASS writes it (whole centiseconds), each
-- boundary rounded once, so the durations add up to the word times exactly.
function A.karaoke_text(c, words, tag, escape)
  local base = mfloor(c.start_ms / 10)
  local stop = mfloor(c.end_ms / 10) - base
  local parts, line, at = {}, 1, 0
  for _, w in ipairs(words) do
    if w.line ~= line then
      parts[#parts + 1] = "\\N"
      line = w.line
    end
    local s = min(max(mfloor(w.start_ms / 10) - base, at), stop)
    local e = min(max(mfloor(w.end_ms / 10) - base, s), stop)
    if s > at then parts[#parts + 1] = "{\\k" .. (s - at) .. "}" end
    parts[#parts + 1] = "{\\" .. tag .. (e - s) .. "}" .. escape(w.sep .. w.text)
    at = e
  end
  return concat(parts)
end

return A
