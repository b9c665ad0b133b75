--- The `stt` command line (bin/stt is a thin launcher). Arguments are parsed by lua-argparse;
-- each command lives in its own file and uses only the public API (require "stt").
-- M.main(args) returns the exit status: 0 when every input succeeded, 1 when some failed, 2 for
-- usage errors (then nothing was submitted), 130 after Ctrl-C.
local argparse = require "argparse"
local stt = require "stt"
local util = require "stt.cli.util"
local progress = require "stt.cli.progress"
local transcribe = require "stt.cli.transcribe"
local status = require "stt.cli.status"

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

  local t = p:command("transcribe", "Transcribe inputs into one file per input and format.")
    :add_help(false):epilog(EPILOG)
  t:flag("-h --help", "Show this help and exit.")
  t:option("-p --provider", "Provider (see `stt providers`).", "dashscope"):argname("<name>")
  t:option("-m --model", "Model (default: the provider's)."):argname("<name>")
  t:option("-l --language", "Language hint (en, zh, ...)."):argname("<code>")
  t:option("--mode", "volcengine-auc: standard, idle or flash (flash sends small files inline)."):argname("<mode>")
  t:option("--speakers", "Speaker diarization with N speakers (0: on, count unknown)."):argname("<N>")
  t:option("--hotwords", "Hot words file (stt.hotwords format)."):argname("<file>")
  t:option("-f --format", "Output formats, comma-separated: " .. table.concat(transcribe.formats(), ", ")
    .. " (json: the whole transcript" .. (type(stt.subtitle.cues_json) == "function"
    and "; cues: the caption cues as JSON" or "") .. ").", "srt,json"):argname("<list>")
  t:option("-o --output", "Output folder; one file per input and format.", "."):argname("<dir>")
  t:option("-j --concurrency", "Jobs in flight.", "8"):argname("<N>")
  t:option("--journal", "Task journal (default <dir>/stt-journal.jsonl); a rerun resumes from it."):argname("<file>")
  t:option("--base-url", "Provider base URL, up to and including its API version."):argname("<url>")
  t:option("--timeout", "Longest wait per job, in seconds (default 3600)."):argname("<s>")
  t:option("--upload", "Where local files go: s3://BUCKET[/PREFIX] (an S3-compatible store; keys from "
    .. "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY) or dashscope (its temporary storage, the default "
    .. "for dashscope).")
    :argname("<dest>")
  t:option("--s3-endpoint", "The store's endpoint, e.g. https://oss-cn-beijing.aliyuncs.com."):argname("<url>")
  t:option("--s3-region", "The store's region (default us-east-1).", nil):argname("<region>")
  t:flag("--s3-path-style", "Path-style object URLs (MinIO); default virtual-host style.")
  t:flag("--force", "Resubmit inputs whose journaled task failed, or whose earlier submit has an unknown "
    .. "outcome (that one may pay twice).")
  t:flag("-q --quiet", "No progress; failures and the summary only.")
  t:flag("--json", "Machine-readable events on stdout, one JSON object per line.")
  t:argument("inputs", "URL, FILE ... or @LISTFILE"):args("*")

  local r = p:command("resume", "Run the batch recorded in a journal again (finished inputs are skipped).")
    :add_help(false)
  r:flag("-h --help", "Show this help and exit.")
  r:option("-o --output", "Write the outputs here instead of the recorded folder."):argname("<dir>")
  r:option("-j --concurrency", "Jobs in flight (default: as recorded)."):argname("<N>")
  r:option("--base-url", "Provider base URL (default: as recorded)."):argname("<url>")
  r:flag("-q --quiet", "No progress; failures and the summary only.")
  r:flag("--json", "Machine-readable events on stdout.")
  r:argument("journal_file", "The journal (OUTPUT/stt-journal.jsonl).")

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
  s:argument("target", "TASK_ID or JOURNAL"):args("?")

  local v = p:command("providers", "List providers, their key and base-URL variables and models.")
    :add_help(false)
  v:flag("-h --help", "Show this help and exit.")
  return p, { transcribe = t, resume = r, status = s, providers = v }
end

local function version_line()
  local v = stt.version()
  return ("stt %s (lua-stt, %s, libcurl %s)\n"):format(v.version, v.lua, v.curl)
end

local COMMANDS = {
  transcribe = transcribe.transcribe,
  resume = transcribe.resume,
  status = status.status,
  providers = status.providers,
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
