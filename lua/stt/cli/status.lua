--- `stt status` (a journal's jobs, or one task asked of its provider) and `stt providers`.
-- Uses only the public API.
local stt = require "stt"
local util = require "stt.cli.util"

local M = {}

local usage_error, err_text, err_table = util.usage_error, util.err_text, util.err_table

local function journal_status(path, o)
  local jr, jerr = stt.journal.open(path)
  if not jr then usage_error("%s", jerr) end
  local counts, order, stale = {}, {}, 0
  for _, e in ipairs(jr:entries()) do
    local st = e.state
    if not counts[st] then counts[st] = 0; order[#order + 1] = st end
    counts[st] = counts[st] + 1
    local input = e.job and (e.job.url or (e.job.urls and table.concat(e.job.urls, " "))) or "?"
    local id = e.task and e.task.id or e.planned_id
    -- A writer that died or was interrupted left the states of unfinished tasks as it last knew
    -- them: the provider may have finished them since.
    local last_known = not jr.closed and not stt.journal.TERMINAL[st] or nil
    if last_known then stale = stale + 1 end
    if o.json then
      io.stdout:write(stt.json_encode({ event = "entry", state = st, task_id = id, input = input,
                                        provider = e.provider, model = e.model, error = e.error,
                                        last_known = last_known }), "\n")
    else
      local why = e.error and ("  (" .. err_text(e.error) .. ")") or ""
      if st == "unknown" then why = "  (may have been submitted: outcome unknown)" end
      io.stdout:write(("%-10s %-38s %s%s\n"):format(last_known and (st .. "*") or st, id or "-", input, why))
    end
  end
  local parts = {}
  for _, st in ipairs(order) do parts[#parts + 1] = ("%d %s"):format(counts[st], st) end
  if o.json then
    io.stdout:write(stt.json_encode({ event = "summary", counts = counts, closed = jr.closed or false }), "\n")
  else
    io.stdout:write(("%s: %s\n"):format(path, #parts > 0 and table.concat(parts, ", ") or "empty"))
    if stale > 0 then
      io.stdout:write(("* last known state: the journal was not closed cleanly (its run was killed or "
        .. "interrupted); `stt resume %s` brings %s up to date\n"):format(path, stale == 1 and "it" or "them"))
    end
  end
  return 0
end

local function task_status(id, o)
  local provider = o.provider or "dashscope"
  if not stt.providers()[provider] then usage_error("unknown provider %q", provider) end
  if not id:match("^[%w._:-]+$") then usage_error("%q is neither a journal file nor a task id", id) end
  local c = stt.client(provider, { base_url = o.base_url, model = o.model })
  local st, err = c:poll({ id = id, provider = provider, model = c.model })
  c:close()
  -- A task the provider does not know (never existed, or expired) is an error, not a state.
  if st and st.error and st.error.kind == "not_found" then st, err = nil, st.error end
  if not st then
    io.stderr:write("stt: ", id, ": ", err_text(err), "\n")
    return 1
  end
  if o.json then
    io.stdout:write(stt.json_encode({ event = "status", task_id = id, state = st.state,
                                      error = st.error and err_table(st.error),
                                      text = st.result and st.result.text }), "\n")
  else
    local extra = st.error and ("  (" .. err_text(st.error) .. ")") or ""
    io.stdout:write(("%s %s%s\n"):format(id, st.state, extra))
  end
  return 0
end

-- The provider's own list of recent tasks (c:list_tasks): for finding tasks whose ids were lost.
local function list_status(o)
  local provider = o.provider or "dashscope"
  if not stt.providers()[provider] then usage_error("unknown provider %q", provider) end
  local since = tonumber(o.since or "24")
  if not since or since <= 0 then usage_error("--since must be a positive number of hours") end
  local c = stt.client(provider, { base_url = o.base_url, model = o.model })
  local now, page, shown = os.time(), 1, 0
  while true do
    local out, err = c:list_tasks({ status = o.state, from = now - math.floor(since * 3600), to = now, page = page,
                                    page_size = 100 })
    if not out then
      c:close()
      io.stderr:write("stt: cannot list tasks: ", err_text(err), "\n")
      return 1
    end
    for _, t in ipairs(out.tasks or {}) do
      shown = shown + 1
      if o.json then
        io.stdout:write(stt.json_encode({ event = "task", task_id = t.id, state = t.state, model = t.model,
                                          submitted_at = t.submitted_at }), "\n")
      else
        io.stdout:write(("%-10s %-38s %-28s %s\n"):format(t.state or "?", t.id or "-", t.model or "-",
          t.submitted_at and os.date("!%Y-%m-%d %H:%M:%SZ", t.submitted_at) or "-"))
      end
    end
    if not out.pages or page >= out.pages then break end
    page = page + 1
  end
  c:close()
  if not o.json then
    io.stdout:write(("%s: %d task(s) in the last %g h; `stt status TASK_ID` shows one\n")
      :format(provider, shown, since))
  end
  return 0
end

function M.status(o)
  if o.list then return list_status(o) end
  if not o.target then usage_error("status needs a TASK_ID, a JOURNAL file or --list") end
  if util.file_exists(o.target) then return journal_status(o.target, o) end
  return task_status(o.target, o)
end

function M.providers()
  local list = stt.providers()
  local names = {}
  for name in pairs(list) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local info = list[name]
    local models = {}
    for m in pairs(info.models) do models[#models + 1] = m end
    table.sort(models)
    local keys = {}
    for i, alt in ipairs(util.credential_envs(info)) do keys[i] = table.concat(alt, "+") end
    io.stdout:write(("%-16s key: %-28s base URL: %-24s models: %s (default %s)\n"):format(name,
      table.concat(keys, " | "), info.env.base_url or "-", table.concat(models, " "), info.default_model))
  end
  return 0
end

return M
