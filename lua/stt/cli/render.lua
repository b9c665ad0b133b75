--- Captions from Results, for the command line: the caption flags (--line-chars, --max-lines,
-- --profile, --speaker-labels, --speaker-format, --speaker-names, --karaoke, --ass-style) turned
-- into stt.subtitle options and checked before anything is submitted; one output rendered from a
-- Result; and `stt render`, which re-cuts captions from saved Result JSON (what `-f json` writes)
-- without calling any provider. Uses only the public API.
local stt = require "stt"
local util = require "stt.cli.util"

local M = {}

local usage_error = util.usage_error

-- Output formats: "json" is the whole normalized Result (the transcript: text, segments, words,
-- usage; the provider's raw body left out); the others are stt.subtitle writers of that name
-- ("cues" is the cue list as JSON, written as NAME.cues.json).
local SUBTITLE_FORMATS = { "srt", "vtt", "lrc", "ass", "ttml", "sbv", "tsv", "csv", "txt" }

function M.formats()
  local out = {}
  for _, f in ipairs(SUBTITLE_FORMATS) do
    if type(stt.subtitle[f]) == "function" then out[#out + 1] = f end
  end
  out[#out + 1] = "json"
  if type(stt.subtitle.cues_json) == "function" then out[#out + 1] = "cues" end
  return out
end

--- The formats stt render writes: every one but json (its input).
function M.caption_formats()
  local out = {}
  for _, f in ipairs(M.formats()) do if f ~= "json" then out[#out + 1] = f end end
  return out
end

--- The formats of a -f list, checked against `avail` (default M.formats()).
function M.parse_formats(text, avail)
  avail = avail or M.formats()
  local set, out, seen = {}, {}, {}
  for _, f in ipairs(avail) do set[f] = true end
  for f in text:gmatch("[^,%s]+") do
    f = f:lower()
    if not set[f] then usage_error("unknown format %q (available: %s)", f, table.concat(avail, ", ")) end
    if not seen[f] then out[#out + 1] = f; seen[f] = true end
  end
  if #out == 0 then usage_error("no output format given") end
  return out
end

function M.extension(fmt) return fmt == "cues" and "cues.json" or fmt end

local function result_json(res)
  local copy = {}
  for k, v in pairs(res) do if k ~= "raw" then copy[k] = v end end
  return stt.json_encode(copy) .. "\n"
end

--- render(fmt, result [, captions [, on_warning]]) -> the text of one output. captions: the
-- options caption_options() made (plain data: they travel in the journal).
function M.render(fmt, res, captions, on_warning)
  if fmt == "json" then return result_json(res) end
  local opts = {}
  for k, v in pairs(captions or {}) do opts[k] = v end
  opts.on_warning = on_warning
  if fmt == "cues" then return stt.subtitle.cues_json(res, opts) end
  return stt.subtitle[fmt](res, opts)
end

---------------------------------------------------------------------------- caption flags

local function number_flag(name, v, min, integer)
  local n = tonumber(v)
  if not n or n ~= n or n < min or (integer and n ~= math.floor(n)) then
    usage_error("%s must be %s >= %s, got %q", name, integer and "an integer" or "a number", tostring(min), v)
  end
  return n
end

--- A --speaker-names file: a JSON object { "ID": "Name" }, or one `ID=Name` (or ID<TAB>Name) per
-- line, with blank lines and # comments skipped.
function M.read_speaker_names(path)
  local f, err = io.open(path, "rb")
  if not f then usage_error("cannot read --speaker-names file %s: %s", path, tostring(err)) end
  local data = f:read("*a") or ""
  f:close()
  data = data:gsub("^\239\187\191", "")                       -- a UTF-8 byte order mark
  local names = {}
  if data:match("^%s*{") then
    local ok, t = pcall(stt.json_decode, data)
    if not ok or type(t) ~= "table" then usage_error("--speaker-names file %s is not a JSON object", path) end
    for k, v in pairs(t) do
      if type(v) ~= "string" and type(v) ~= "number" then
        usage_error("--speaker-names file %s: the name of %s is not text", path, tostring(k))
      end
      names[tostring(k)] = tostring(v)
    end
    return names
  end
  local n = 0
  for line in (data .. "\n"):gmatch("([^\n]*)\n") do
    n = n + 1
    line = line:gsub("\r$", ""):match("^%s*(.-)%s*$")
    if line ~= "" and line:sub(1, 1) ~= "#" then
      local id, name = line:match("^([^=\t]-)%s*[=\t]%s*(.+)$")
      if not id or id == "" then
        usage_error("--speaker-names file %s, line %d: expected ID=Name, got %q", path, n, line)
      end
      names[id] = name
    end
  end
  return names
end

--- --ass-style values (each key=value, or several joined by commas) -> the style table, checked
-- with stt.subtitle.ass_style.
function M.ass_style(list)
  local style = {}
  for _, arg in ipairs(list) do
    for pair in arg:gmatch("[^,]+") do
      local k, v = pair:match("^%s*([%w_]+)%s*=%s*(.-)%s*$")
      if not k or v == "" then usage_error("--ass-style %q: expected key=value", pair) end
      style[k] = v
    end
  end
  local ok, err = stt.subtitle.ass_style(style)
  if not ok then usage_error("--ass-style: %s", err) end
  return style
end

local KARAOKE = { kf = true, k = true, ko = true }

--- The caption flags of parsed options `o` -> stt.subtitle options (plain data), or usage errors.
function M.caption_options(o)
  local c = {}
  if o.line_chars then c.line_chars = number_flag("--line-chars", o.line_chars, 1) end
  if o.max_lines then c.max_lines = number_flag("--max-lines", o.max_lines, 1, true) end
  if o.profile then
    if not stt.subtitle.PROFILES[o.profile] then
      local names = {}
      for k in pairs(stt.subtitle.PROFILES) do names[#names + 1] = k end
      table.sort(names)
      usage_error("unknown --profile %q (known: %s)", o.profile, table.concat(names, ", "))
    end
    c.profile = o.profile
  end
  if o.speaker_labels then
    local m = o.speaker_labels
    if m ~= "turn" and m ~= "every" and m ~= "none" then
      usage_error("--speaker-labels must be turn, every or none, not %q", m)
    end
    c.speaker_labels = m ~= "none" and m or false
  end
  if o.speaker_format then
    if o.speaker_format:find("[%c]") then usage_error("--speaker-format may hold no control characters") end
    c.speaker_format = o.speaker_format
  end
  if o.speaker_names then c.speaker_names = M.read_speaker_names(o.speaker_names) end
  if o.karaoke_tag and not KARAOKE[o.karaoke_tag] then
    usage_error("--karaoke-tag must be kf, k or ko, not %q", o.karaoke_tag)
  end
  if o.karaoke or o.karaoke_tag then
    c.karaoke = o.karaoke_tag or "kf"
    c.word_timestamps = true
  end
  if o.ass_style and #o.ass_style > 0 then c.style = M.ass_style(o.ass_style) end
  return c
end

---------------------------------------------------------------------------- stt render

-- The Result JSON files of a folder, in name order; the cue lists of -f cues (NAME.cues.json)
-- are not Results.
local function results_in(dir)
  local p = io.popen("find " .. util.sh_quote(dir) .. " -maxdepth 1 -type f -name '*.json' 2>/dev/null"
    .. " | LC_ALL=C sort")
  local out = {}
  if not p then return out end
  for line in p:lines() do
    if not line:match("%.cues%.json$") then out[#out + 1] = line end
  end
  p:close()
  return out
end

local function dir_of(path) return path:match("^(.*)/[^/]*$") or "." end

local function read_result(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, tostring(err) end
  local data = f:read("*a")
  f:close()
  local ok, res = pcall(stt.json_decode, data or "")
  if not ok or type(res) ~= "table" then return nil, "not JSON" end
  if type(res.segments) ~= "table" and type(res.text) ~= "string" then
    return nil, "not a Result (no segments and no text: write one with stt transcribe -f json)"
  end
  if type(res.segments) ~= "table" then res.segments = {} end
  return res
end

--- stt render RESULT.json|DIR ... -f FORMATS [-o DIR] [caption flags]: exit 0 when every Result
-- was rendered, 1 when some failed, 2 for usage errors.
function M.command(o)
  local formats = M.parse_formats(o.format or "srt", M.caption_formats())
  local captions = M.caption_options(o)
  local out_dir = o.output and util.abspath(o.output)
  local inputs = {}
  for _, a in ipairs(o.results or {}) do
    local path = util.abspath(a)
    if util.is_dir(path) then
      local found = results_in(path)
      if #found == 0 then usage_error("%s holds no Result JSON (*.json)", a) end
      for _, f in ipairs(found) do inputs[#inputs + 1] = { path = f, listed = true } end
    elseif util.file_exists(path) then
      inputs[#inputs + 1] = { path = path }
    else
      usage_error("no such file or folder %s", a)
    end
  end
  if #inputs == 0 then usage_error("no Result given (RESULT.json files or folders)") end
  if out_dir and not util.is_dir(out_dir) and not util.mkdir_p(out_dir) then
    usage_error("cannot create output folder %s", out_dir)
  end
  -- Names as stt transcribe gives them, unique within each output folder.
  local groups, order = {}, {}
  for i, it in ipairs(inputs) do
    it.dir = out_dir or dir_of(it.path)
    if not groups[it.dir] then groups[it.dir] = {}; order[#order + 1] = it.dir end
    local g = groups[it.dir]
    g[#g + 1] = i
  end
  for _, d in ipairs(order) do
    local paths = {}
    for k, i in ipairs(groups[d]) do paths[k] = inputs[i].path end
    local names = util.unique_names(paths)
    for k, i in ipairs(groups[d]) do inputs[i].name = names[k] end
  end
  local done, failed, skipped = 0, 0, 0
  local function say(...) if not o.quiet then io.stderr:write(...) end end
  for _, it in ipairs(inputs) do
    local res, err = read_result(it.path)
    if not res and it.listed then
      skipped = skipped + 1
      say("stt: skipped ", it.path, ": ", err, "\n")
    elseif not res then
      failed = failed + 1
      io.stderr:write("stt: FAILED ", it.path, ": ", err, "\n")
    else
      local written, problem = {}, nil
      for _, fmt in ipairs(formats) do
        local file = it.dir .. "/" .. it.name .. "." .. M.extension(fmt)
        local ok, data = pcall(M.render, fmt, res, captions, function(msg)
          say("stt: warning: ", file, ": ", msg, "\n")
        end)
        if not ok or type(data) ~= "string" then
          problem = ("cannot make %s: %s"):format(fmt, tostring(data))
          break
        end
        local wok, werr = util.write_atomic(file, data)
        if not wok then problem = "cannot write " .. file .. ": " .. tostring(werr) break end
        written[#written + 1] = file
      end
      if problem then
        failed = failed + 1
        io.stderr:write("stt: FAILED ", it.path, ": ", problem, "\n")
      else
        done = done + 1
        say("stt: rendered ", it.path, " -> ", table.concat(written, ", "), "\n")
      end
    end
  end
  if not o.quiet or failed > 0 then
    io.stderr:write(("stt: %d of %d Result(s) rendered, %d failed%s; no provider was called\n"):format(done,
      #inputs - skipped, failed, skipped > 0 and (", " .. skipped .. " file(s) skipped") or ""))
  end
  return (failed > 0 or done == 0) and 1 or 0
end

return M
