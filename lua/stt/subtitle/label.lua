--- stt.subtitle.label: speaker names and speaker labels. A speaker id is an opaque string (the
-- providers' ids differ, docs/subtitles.md); its name comes from speaker_name(id), speaker_names
-- [id] or "Speaker <id>". A label is the name put through speaker_format ("%s: ", "[%s] ", or text
-- without %s such as "- " or ">> " that marks a speaker change alone), written before the first line
-- of a cue ("every") or of the first cue of each speaker turn ("turn").
-- Pure: no I/O, no globals.
local Text = require "stt.subtitle.text"

local L = {}

local type, tostring, tonumber = type, tostring, tonumber
local clean = Text.clean

L.MODES = { turn = true, every = true }

--- name(opts, speaker) -> the display name of a speaker id (nil for no speaker).
function L.name(opts, speaker)
  if speaker == nil then return nil end
  if type(opts.speaker_name) == "function" then return opts.speaker_name(speaker) end
  local names = opts.speaker_names
  if type(names) == "table" then
    -- Ids are strings here; a names table written in Lua may well use numbers as keys.
    local v = names[speaker]
    if v == nil and tonumber(speaker) then v = names[tonumber(speaker)] end
    if v ~= nil then return tostring(v) end
  end
  return "Speaker " .. speaker
end

--- mode(opts, default) -> "turn" | "every" | false: opts.speaker_labels checked (error() for a
-- value that is none of them: a programming mistake).
function L.mode(opts, default)
  local m = opts.speaker_labels
  if m == nil then m = default end
  if m == false or m == "none" then return false end
  if m == true then return "turn" end
  if not L.MODES[m] then
    error(("subtitle: speaker_labels must be \"turn\", \"every\" or false, not %s"):format(tostring(m)), 3)
  end
  return m
end

--- labeller(opts, default_mode, default_format) -> nil when no labels are asked for, else
-- function(speaker, new_turn) -> the label text or nil.
function L.labeller(opts, default_mode, default_format)
  local mode = L.mode(opts, default_mode)
  if not mode then return nil end
  local fmt = opts.speaker_format
  if fmt == nil then fmt = default_format or "%s: " end
  if type(fmt) ~= "string" and type(fmt) ~= "function" then
    error("subtitle: speaker_format must be a string or a function", 3)
  end
  local cache = {}
  return function(speaker, new_turn)
    if speaker == nil or (mode == "turn" and not new_turn) then return nil end
    local label = cache[speaker]
    if label == nil then
      local name = clean(L.name(opts, speaker))
      if type(fmt) == "function" then
        label = tostring(fmt(name, speaker))
      else
        -- %s is the name; "%%" a percent sign; a format without %s is the label as it is.
        label = fmt:gsub("%%(.)", function(c)
          if c == "s" then return name end
          return c
        end)
      end
      -- No control characters (a line break would make a line of its own); an end space is kept.
      label = label:gsub("[%c]", " ")
      cache[speaker] = label
    end
    return label
  end
end

return L
