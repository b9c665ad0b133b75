--- DashScope's custom vocabulary (hot word) API, behind the client methods c:vocabulary_create /
-- list / query / update / delete and vocabulary_for (one vocabulary per hot word list and model,
-- created once and found again by its prefix), and the submit step that turns a job's hot words
-- into what the provider takes. client.lua defines those methods by calling these functions;
-- the requests go through the client's own exchange (retries, rate limits, errors).
local hotwords = require "stt.hotwords"

local M = {}

local function call(c, op, args) return c:_call(op, args) end

-- A vocabulary given as an stt.hotwords object becomes the API's entries for `model`.
local function entries(voc, model)
  if getmetatable(voc) == hotwords.Hotwords then return voc:vocabulary(model) end
  return voc
end

function M.create(c, opts)
  local model = opts.target_model or c.model
  local voc, err = entries(opts.vocabulary, model)
  if not voc then return nil, err end
  local out
  out, err = call(c, "vocabulary_create", { target_model = model, prefix = opts.prefix, vocabulary = voc })
  if not out then return nil, err end
  return out.vocabulary_id, out
end

function M.list(c, opts)
  opts = opts or {}
  local out, err = call(c, "vocabulary_list", { prefix = opts.prefix, page_index = opts.page_index,
                                                page_size = opts.page_size })
  if not out then return nil, err end
  return out.vocabularies or {}, out
end

function M.query(c, id)
  return call(c, "vocabulary_query", { vocabulary_id = id })
end

function M.update(c, id, voc, model)
  local list, err = entries(voc, model or c.model)
  if not list then return nil, err end
  local out
  out, err = call(c, "vocabulary_update", { vocabulary_id = id, vocabulary = list })
  if not out then return nil, err end
  return true
end

function M.delete(c, id)
  local out, err = call(c, "vocabulary_delete", { vocabulary_id = id })
  if not out then return nil, err end
  return true
end

-- Create-or-reuse: one vocabulary per (list, target model), found again by its prefix; the ids
-- found are remembered per client.
function M.find_or_create(c, hw, model)
  model = model or c.model
  local prefix = hw:prefix(model)
  c._vocabularies = c._vocabularies or {}
  if c._vocabularies[prefix] then return c._vocabularies[prefix] end
  local list, err = M.list(c, { prefix = prefix, page_index = 0, page_size = 10 })
  if not list then return nil, err end
  local id
  for _, v in ipairs(list) do
    if type(v.vocabulary_id) == "string" and v.vocabulary_id:find("-" .. prefix .. "-", 1, true) then
      id = v.vocabulary_id
      break
    end
  end
  if not id then
    id, err = M.create(c, { target_model = model, prefix = prefix, vocabulary = hw })
    if not id then return nil, err end
  end
  c._vocabularies[prefix] = id
  return id
end

-- What a dry run puts where a vocabulary id will go (c:check sends nothing).
local DRY_ID = "vocab-check-0000"

--- The job as sent, for a job with hot words (object, list, text or path): validated for the
-- provider and model; DashScope models that take a vocabulary get a vocabulary_id (with `dry`,
-- a placeholder: nothing is created), the others the normalized list in job.hotwords. Returns the
-- new job, nil and the warnings of the list (UNCONFIRMED limits it breaks), or nil, err.
function M.job(c, job, model, dry)
  local hw = hotwords.from(job.hotwords)
  local ok, problems = hw:validate(c.provider, model)
  if not ok then return nil, hotwords.invalid(c.provider, problems, "submit") end
  local warnings = problems                   -- on success: the UNCONFIRMED limits the list breaks
  local out = {}
  for k, v in pairs(job) do out[k] = v end
  if hotwords.needs_vocabulary(c.provider, model) then
    local id, err = DRY_ID, nil
    if not dry then id, err = M.find_or_create(c, hw, model) end
    if not id then return nil, err end
    out.hotwords, out.vocabulary_id = nil, id
  else
    out.hotwords = hw:wire_list(c.provider, model)
  end
  return out, nil, warnings
end

return M
