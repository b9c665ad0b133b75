--- stt.subtitle: subtitles from a normalized Result: cues() and the writers srt, vtt, lrc, ass,
-- ttml, sbv, csv, tsv, txt, and cues_json (the cues as JSON; the whole Result as JSON is
-- stt.json_encode's job). The public face of the package; the work is done in layers:
--   stt.subtitle.text   UTF-8, widths, scripts and profiles, punctuation (PROFILES, DEFAULTS)
--   stt.subtitle.label  speaker names and labels
--   stt.subtitle.cut    the token store, caption cutting and timing (cues)
--   stt.subtitle.ass    ASS styles, header and karaoke tags
--   stt.subtitle.write  the writers and their one time formatter (timestamp)
-- The rules the captions follow, and their sources: docs/subtitles.md.
-- Pure Lua for Lua 5.4 and LuaJIT: no I/O, no globals, no utf8 library.
local Text = require "stt.subtitle.text"
local Cut = require "stt.subtitle.cut"
local Write = require "stt.subtitle.write"

local M = {}

--- Per-script limits { line_chars, cps, half } of "latin", "zh", "ja", "ko", and the defaults of
-- every other option. Both are read at each call: changing them changes what follows.
M.PROFILES = Text.PROFILES
M.DEFAULTS = Text.DEFAULTS

local PROFILES, width = Text.PROFILES, Text.width

--- width(s [, profile]): width of a string in characters of a profile ("latin" by default):
-- wide characters count 1, half-width ones the profile's `half`, combining marks 0.
M.width = function(s, profile) return width(s, PROFILES[profile or "latin"] or PROFILES.latin) end

--- cues(result, opts) -> { { start_ms, end_ms, lines = { ... }, speaker = "1" or nil }, ... }
-- in time order, never overlapping. opts: see DEFAULTS and PROFILES (a key set at the top level
-- applies to every profile; opts.zh = {...} etc. to one).
M.cues = Cut.cues

--- Writers: writer(result [, opts]) -> the text of the file. opts: those of cues (srt, sbv, lrc,
-- txt and cues_json write speaker labels), speaker_name = function(speaker) or speaker_names =
-- { [speaker] = name } (default "Speaker 1"), on_warning = function(message); lrc also takes
-- title, vtt word_timestamps, ass style and karaoke, csv and tsv rows.
M.srt = Write.srt
M.vtt = Write.vtt
M.lrc = Write.lrc
M.ass = Write.ass
M.ttml = Write.ttml
M.sbv = Write.sbv
M.csv = Write.csv
M.tsv = Write.tsv
M.cues_json = Write.cues_json
M.txt = Write.txt

--- ass_style(style) -> the full ASS style, defaults for 1080p video filled in, or nil, message.
M.ass_style = Write.ass_style

return M
