--- The `stt` command line (bin/stt is a thin launcher). Arguments are parsed by lua-argparse;
-- each command lives in its own file and uses only the public API (require "stt").
-- M.main(args) returns the exit status: 0 when every input succeeded, 1 when some failed, 2 for
-- usage errors (then nothing was submitted), 130 after Ctrl-C.
local argparse = require "argparse"
local stt = require "stt"
local util = require "stt.cli.util"
local progress = require "stt.cli.progress"
local transcribe = require "stt.cli.transcribe"
local render = require "stt.cli.render"
local status = require "stt.cli.status"
local fleet = require "stt.cli.fleet"
local compare = require "stt.cli.compare"

local M = {
  -- kept for scripts and specs that use these pieces directly
  estimate = progress.estimate,
  base_name = util.base_name,
  unique_names = util.unique_names,
  check_url = util.check_url,
}

local EPILOG = [[
Inputs: URLs the provider can fetch, local audio files (uploaded first: DashScope's temporary
storage by default for dashscope, --upload s3://... for any provider), or @LISTFILE (one URL or
file per line; blank lines and lines starting with # are skipped; @- reads stdin).
Keys come from the environment only (never the command line, where other users could read
them): DASHSCOPE_API_KEY for dashscope; `stt providers` names every provider's variables.
Exit status: 0 all inputs succeeded, 1 some failed, 2 usage error (nothing submitted),
130 stopped by Ctrl-C or SIGTERM (rerun the same command to resume).]]

local function build_parser()
  local p = argparse("stt", "Batch speech-to-text: transcribe audio URLs through a provider's asynchronous "
    .. "API, with progress, a crash-safe journal and subtitle output.")
    :add_help(false):epilog(EPILOG):command_target("command"):require_command(false)
    :help_max_width(100):help_description_margin(28)
  p:flag("-h --help", "Show this help and exit.")
  p:flag("-V --version", "Show the version and exit.")

  -- What a job is: the options transcribe and enqueue share.
  local function job_options(c)
    c:flag("-h --help", "Show this help and exit.")
    c:option("-p --provider", "Provider (see `stt providers`).", "dashscope"):argname("<name>")
    c:option("-m --model", "Model (default: the provider's)."):argname("<name>")
    c:option("-l --language", "Language hint (en, zh, ...)."):argname("<code>")
    c:option("--mode", "volcengine-auc: standard, idle or flash (flash sends small files inline)."):argname("<mode>")
    c:option("--speakers", "Speaker diarization with N speakers (0: on, count unknown)."):argname("<N>")
    c:option("--hotwords", "Hot words file (stt.hotwords format)."):argname("<file>")
    c:option("-O --option", "A provider option the capability table knows, typed (numbers, true/false, "
      .. "[a,b] lists, \"text\"); repeatable. An option the model refuses stops the run.")
      :count("*"):argname("<key=value>")
    c:option("-f --format", "Output formats, comma-separated: " .. table.concat(transcribe.formats(), ", ")
      .. " (json: the whole transcript" .. (type(stt.subtitle.cues_json) == "function"
      and "; cues: the caption cues as JSON" or "") .. ").", "srt,json"):argname("<list>")
    c:option("--base-url", "Provider base URL, up to and including its API version."):argname("<url>")
    c:option("--upload", "Where local files go: s3://BUCKET[/PREFIX] (an S3-compatible store; keys from "
      .. "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY) or dashscope (its temporary storage, the default "
      .. "for dashscope).")
      :argname("<dest>")
    c:option("--s3-endpoint", "The store's endpoint, e.g. https://oss-cn-beijing.aliyuncs.com."):argname("<url>")
    c:option("--s3-region", "The store's region (default us-east-1).", nil):argname("<region>")
    c:flag("--s3-path-style", "Path-style object URLs (MinIO); default virtual-host style.")
    c:argument("inputs", "URL, FILE ... or @LISTFILE"):args("*")
  end

  -- How captions are cut and written: the flags transcribe and render share.
  local function caption_options(c)
    c:option("--line-chars", "Caption characters per line (default per script: 42 Latin, 16 zh, 13 ja, 16 ko).")
      :argname("<N>")
    c:option("--max-lines", "Caption lines per cue (2)."):argname("<N>")
    c:option("--profile", "Cut every caption by one script profile: latin, zh, ja or ko (default: per segment).")
      :argname("<name>")
    c:option("--speaker-labels", "Speaker labels in srt, sbv, lrc and txt: turn (each speaker change), every "
      .. "or none (default: none; txt every).")
      :argname("<mode>")
    c:option("--speaker-format", "Label format: %s is the name (\"%s: \", \"[%s] \"); without %s the text "
      .. "itself (\"- \", \">> \").")
      :argname("<fmt>")
    c:option("--speaker-names", "Speaker names: a JSON object {\"1\": \"Host\"} or ID=Name lines.")
      :argname("<file>")
    c:flag("--karaoke", "Word highlighting from word timings: \\kf tags in ass, word timestamps in vtt.")
    c:option("--karaoke-tag", "The ass karaoke tag: kf (fill, the default), k or ko (implies --karaoke).")
      :argname("<tag>")
    c:option("--ass-style", "ASS style, key=value (repeatable or comma-separated): font, size, primary_colour, "
      .. "outline_colour, outline, margin_v, alignment, play_res_x, ... (docs/subtitles.md).")
      :count("*"):argname("<key=value>")
  end

  local t = p:command("transcribe", "Transcribe inputs into one file per input and format.")
    :add_help(false):epilog(EPILOG)
  job_options(t)
  caption_options(t)
  t:option("-o --output", "Output folder; one file per input and format.", "."):argname("<dir>")
  t:option("-j --concurrency", "Jobs in flight.", "8"):argname("<N>")
  t:option("--journal", "Task journal (default <dir>/stt-journal.jsonl); a rerun resumes from it."):argname("<file>")
  t:option("--timeout", "Longest wait per job, in seconds (default 3600)."):argname("<s>")
  t:flag("--force", "Resubmit inputs whose journaled task failed, or whose earlier submit has an unknown "
    .. "outcome (that one may pay twice).")
  t:flag("-q --quiet", "No progress; failures and the summary only.")
  t:flag("--json", "Machine-readable events on stdout, one JSON object per line.")

  local e = p:command("enqueue", "Put a batch on a Redis work queue for `stt worker`s on any host; prints "
    .. "its id. Local files are uploaded first.")
    :add_help(false):epilog(EPILOG)
  job_options(e)
  caption_options(e)              -- kept in the batch: every worker cuts captions the same way
  e:option("--store", "The Redis store and queue: redis://[:PASSWORD@]HOST:PORT[/DB]."):argname("<url>")
  e:option("--store-prefix", "Prefix of its Redis keys.", "stt:"):argname("<prefix>")
  e:option("-o --output", "Output folder for the workers (default: each worker's own -o)."):argname("<dir>")

  local w = p:command("worker", "Take jobs from a Redis work queue until stopped (or until it is empty); "
    .. "every job is submitted once across all workers.")
    :add_help(false)
  w:flag("-h --help", "Show this help and exit.")
  w:option("--store", "The Redis store and queue: redis://[:PASSWORD@]HOST:PORT[/DB]."):argname("<url>")
  w:option("--store-prefix", "Prefix of its Redis keys.", "stt:"):argname("<prefix>")
  w:option("-j --concurrency", "Jobs at once.", "4"):argname("<N>")
  w:option("-o --output", "Output folder (default: the batch's, else .)."):argname("<dir>")
  w:option("--out", "Write outputs to an S3-compatible prefix instead: s3://BUCKET[/PREFIX] (keys from "
    .. "AWS_*), with --s3-endpoint."):argname("<dest>")
  w:option("--s3-endpoint", "The store's endpoint."):argname("<url>")
  w:option("--s3-region", "The store's region (default us-east-1)."):argname("<region>")
  w:flag("--s3-path-style", "Path-style object URLs (MinIO).")
  w:option("-f --format", "Output formats (default: the batch's)."):argname("<list>")
  w:option("--base-url", "Provider base URL (default: the batch's)."):argname("<url>")
  w:option("--timeout", "Longest wait per job, in seconds (default 3600)."):argname("<s>")
  w:option("--lease", "Seconds a job may go unacknowledged before another worker takes it (120)."):argname("<s>")
  w:option("--store-lease", "Seconds a job's claim holds while its worker submits (30)."):argname("<s>")
  w:option("--result-ttl", "Seconds results stay in Redis (604800; 0: forever)."):argname("<s>")
  w:flag("--until-empty", "Stop when no batch has work left.")
  w:flag("--no-rate-limit", "Send as fast as jobs come (by default the provider's documented rates, "
    .. "one budget for every worker on the store).")
  w:flag("-q --quiet", "Report failures only.")
  w:flag("--json", "One JSON event per job on stdout.")

  local r = p:command("resume", "Run the batch recorded in a journal again (finished inputs are skipped).")
    :add_help(false)
  r:flag("-h --help", "Show this help and exit.")
  r:option("-o --output", "Write the outputs here instead of the recorded folder."):argname("<dir>")
  r:option("-j --concurrency", "Jobs in flight (default: as recorded)."):argname("<N>")
  r:option("--base-url", "Provider base URL (default: as recorded)."):argname("<url>")
  r:flag("-q --quiet", "No progress; failures and the summary only.")
  r:flag("--json", "Machine-readable events on stdout.")
  r:argument("journal_file", "The journal (OUTPUT/stt-journal.jsonl)."):args("?")   -- so that --help works

  local s = p:command("status", "List the jobs of a journal, ask the provider about one task id, or list "
    .. "its recent tasks.")
    :add_help(false)
  s:flag("-h --help", "Show this help and exit.")
  s:option("-p --provider", "Provider of the task id.", "dashscope"):argname("<name>")
  s:option("-m --model", "Model of the task id."):argname("<name>")
  s:option("--base-url", "Provider base URL."):argname("<url>")
  s:flag("--json", "One JSON object per line.")
  s:flag("--list", "List the provider's recent tasks (to find tasks whose ids were lost).")
  s:option("--since", "With --list: how far back, in hours (default 24).", "24"):argname("<h>")
  s:option("--state", "With --list: only tasks in this provider state (e.g. SUCCEEDED).")
    :argname("<state>")
  s:option("--store", "A Redis work queue: the state of a batch (or of every batch)."):argname("<url>")
  s:option("--store-prefix", "Prefix of its Redis keys.", "stt:"):argname("<prefix>")
  s:argument("target", "TASK_ID or JOURNAL (with --store: a BATCH)"):args("?")

  local v = p:command("providers", "List providers, their key and base-URL variables and models.")
    :add_help(false)
  v:flag("-h --help", "Show this help and exit.")

  local rd = p:command("render", "Cut captions again from saved Results (the JSON of -f json), with other "
    .. "caption flags; calls no provider and needs no key.")
    :add_help(false)
  rd:flag("-h --help", "Show this help and exit.")
  rd:option("-f --format", "Output formats, comma-separated: " .. table.concat(render.caption_formats(), ", ")
    .. ".", "srt"):argname("<list>")
  rd:option("-o --output", "Output folder (default: each Result's own folder); names as stt transcribe "
    .. "gives them.")
    :argname("<dir>")
  rd:flag("-q --quiet", "Failures only (no line per Result, no warnings).")
  caption_options(rd)
  rd:argument("results", "RESULT.json or a folder of them"):args("*")

  -- Scoring: the options stt score and stt compare share.
  local function score_options(c)
    c:flag("-h --help", "Show this help and exit.")
    c:option("--unit", "auto (CJK by character, other scripts by word), char or word.", "auto"):argname("<unit>")
    c:option("--numerals", "arabic: Chinese numerals count as digits in both texts (二十三 = 23).")
      :argname("<form>")
    c:option("--normalize", "Replacements file applied to both texts (from<TAB>to or from => to per line).")
      :argname("<file>")
  end
  local sc = p:command("score", "Error rate of a transcript against its reference (docs/scoring.md).")
    :add_help(false)
  score_options(sc)
  sc:flag("--json", "The whole score as JSON.")
  sc:flag("--alignment", "Show the alignment ([ref→hyp] substitutions, [-deleted], [+inserted]).")
  -- optional for argparse, so that `stt score --help` shows the help; M.score requires both
  sc:argument("hypothesis", "The transcript (a text file)."):args("?")
  sc:argument("reference", "The reference transcript (a text file)."):args("?")

  local cmp = p:command("compare", "Score providers, models and options on the same inputs; writes "
    .. "report.json, report.md and report.html.")
    :add_help(false):epilog(EPILOG)
  score_options(cmp)
  cmp:option("-c --config", "A configuration: PROVIDER[:MODEL][{opt=value,...}] (repeatable; values typed: "
    .. "numbers, true/false, [a,b] lists, 'text').")
    :count("*"):argname("<config>")
  cmp:option("--ref", "Folder of reference transcripts, <name>.txt per input (names as stt transcribe "
    .. "gives outputs); inputs without one are transcribed but not scored."):argname("<dir>")
  cmp:option("--prices", "JSON price table: {\"currency\": \"USD\", \"provider/model\": price per hour, "
    .. "\"provider\": ...}; cost = billed duration x price.")
    :argname("<file>")
  cmp:option("-o --output", "Report folder."):argname("<dir>")
  cmp:option("-j --concurrency", "Jobs in flight across all configurations.", "16"):argname("<N>")
  cmp:option("--timeout", "Longest wait per job, in seconds (default 3600)."):argname("<s>")
  cmp:flag("-q --quiet", "No progress lines; the ranking and the report only.")
  cmp:argument("inputs", "URL, FILE ... or @LISTFILE"):args("*")
  return p, { transcribe = t, enqueue = e, worker = w, resume = r, status = s, providers = v, render = rd, score = sc,
              compare = cmp }
end

local function version_line()
  local v = stt.version()
  return ("stt %s (lua-stt, %s, libcurl %s)\n"):format(v.version, v.lua, v.curl)
end

local COMMANDS = {
  transcribe = transcribe.transcribe,
  resume = transcribe.resume,
  status = function(o) if o.store then return fleet.status(o) end return status.status(o) end,
  enqueue = fleet.enqueue,
  worker = fleet.worker,
  providers = status.providers,
  render = render.command,
  score = compare.score,
  compare = compare.compare,
}

--- Run the command line; returns the exit status.
function M.main(args)
  local parser, commands = build_parser()
  local ok, code = pcall(function()
    if #args == 0 then
      io.stderr:write(parser:get_help(), "\n")
      return 2
    end
    local parsed, o = parser:pparse(args)
    if not parsed then
      -- argparse's message, on one line ("unknown option '--x'\nDid you mean '--y'?")
      util.usage_error("%s (see stt --help)", (tostring(o):gsub("%s*\n%s*", "; ")))
    end
    if o.help then
      io.stdout:write((o.command and commands[o.command] or parser):get_help(), "\n")
      return 0
    end
    if o.version then
      io.stdout:write(version_line())
      return 0
    end
    if not o.command then util.usage_error("no command given (see stt --help)") end
    return COMMANDS[o.command](o)
  end)
  if ok then return code end
  if getmetatable(code) == util.Usage then
    io.stderr:write("stt: ", code.message, "\n")
    return 2
  end
  error(code, 0)
end

return M
