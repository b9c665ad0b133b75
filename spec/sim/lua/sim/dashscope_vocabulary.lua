-- DashScope custom-vocabulary (热词) API, as seen on the wire:
--   POST /dashscope/api/v1/services/audio/asr/customization
--   {"model":"speech-biasing","input":{"action":"create_vocabulary"|"list_vocabulary"|
--    "query_vocabulary"|"update_vocabulary"|"delete_vocabulary", ...}}
-- Facts: docs/subtitles.md#hotwords-dashscope, docs/providers.md#dashscope-vocabulary-api;
-- dashscope-sdk-python dashscope/audio/asr/vocabulary.py (request members, output.vocabulary_id,
-- output.vocabulary_list).
-- UNCONFIRMED and chosen here: the output of update/delete ({}), the error codes and messages for
-- rule violations (400 InvalidParameter with the messages third-party UIs quote), the id format
-- (vocab-<prefix>-<32 hex>). Vocabularies live in sim_tasks under "dashscope_vocab:<id>" (reset
-- clears them); GET /_sim/stats shows vocabulary_actions = { [action] = n }.
-- luacheck: globals ngx
local util = require "sim.util"
local store = require "sim.store"

local M = {}

local KIND = "dashscope_vocab"
local MAX_VOCABULARIES = 10      -- per account (docs/subtitles.md#hotwords-dashscope)
local MAX_ENTRIES = 500          -- per vocabulary (same)
-- Target models that take a vocabulary (Beijing list of the custom hot words doc).
local TARGETS = { "^paraformer%-v2$", "^paraformer%-8k%-v2$", "^paraformer%-realtime", "^fun%-asr", "^gummy" }

local function send_error(status, code, message)
  return util.send_json(status, { request_id = util.uuid(), code = code, message = message })
end

local function invalid(message) return send_error(400, "InvalidParameter", message) end

local function authenticate(cfg)
  local h = ngx.var.http_authorization
  local key = h and h:match("^%s*[Bb]earer%s+(%S+)%s*$")
  if key then
    for _, k in ipairs(cfg.keys or {}) do if k == key then return key end end
  end
  send_error(401, "InvalidApiKey", "Invalid API-key provided.")
  return nil
end

local function all(owner)
  local d = ngx.shared.sim_tasks
  local out = {}
  for _, key in ipairs(d:get_keys(0)) do
    if key:sub(1, #KIND + 1) == KIND .. ":" then
      local rec = util.decode(d:get(key))
      if type(rec) == "table" and rec.owner == owner then out[#out + 1] = rec end
    end
  end
  table.sort(out, function(a, b) return a.created_at > b.created_at end)   -- newest first
  return out
end

local function get(id, owner)
  local rec = type(id) == "string" and store.task_get(KIND, id)
  if type(rec) == "table" and rec.owner == owner then return rec end
  return nil
end

local function ulen(s)
  local _, n = s:gsub("[^\128-\191]", "")
  return n
end

-- The entries of a create/update, or nil + message (docs/subtitles.md#hotwords-dashscope rules).
local function check_vocabulary(v)
  if type(v) ~= "table" or #v == 0 then return nil, "input.vocabulary must be a non-empty array." end
  if #v > MAX_ENTRIES then return nil, "vocabulary is too large (at most " .. MAX_ENTRIES .. " entries)." end
  local out = {}
  for i, e in ipairs(v) do
    if type(e) ~= "table" or type(e.text) ~= "string" or e.text == "" then
      return nil, "vocabulary[" .. (i - 1) .. "].text is required."
    end
    if e.text:find("[\128-\255]") then
      if ulen(e.text) > 15 then return nil, "text should not be longer than 15 characters: " .. e.text end
    else
      local n = 0
      for _ in e.text:gmatch("%S+") do n = n + 1 end
      if n > 7 then return nil, "text should not have more than 7 words: " .. e.text end
    end
    local w = e.weight
    if w == nil then w = 4 end   -- recommended default; UNCONFIRMED that the server fills it
    if type(w) ~= "number" or w ~= math.floor(w) or w < 1 or w > 5 then
      return nil, "weight should be an integer in [1, 5]: " .. e.text
    end
    out[i] = { text = e.text, weight = w, lang = type(e.lang) == "string" and e.lang or nil }
  end
  return out
end

local function ok(output)
  return util.send_json(200, { request_id = util.uuid(), output = output, usage = { count = 1 } })
end

local function hex32()
  return (util.uuid():gsub("-", ""))
end

local actions = {}

function actions.create_vocabulary(input, owner)
  local target = input.target_model
  if type(target) ~= "string" or target == "" then return invalid("input.target_model is required.") end
  local supported = false
  for _, p in ipairs(TARGETS) do if target:match(p) then supported = true end end
  if not supported then return invalid("Model " .. target .. " does not support custom vocabularies.") end
  local prefix = input.prefix
  if type(prefix) ~= "string" or not prefix:match("^[0-9a-z]+$") or #prefix >= 10 then
    return invalid("prefix should be english letter and number, less than 10 characters.")
  end
  local entries, err = check_vocabulary(input.vocabulary)
  if not entries then return invalid(err) end
  if #all(owner) >= MAX_VOCABULARIES then
    return invalid("The number of vocabularies exceeds the limit of " .. MAX_VOCABULARIES .. ".")
  end
  local now = ngx.now()
  local rec = { id = "vocab-" .. prefix .. "-" .. hex32(), owner = owner, prefix = prefix,
                target_model = target, vocabulary = entries, created_at = now, modified_at = now }
  store.task_put(KIND, rec)
  return ok({ vocabulary_id = rec.id })
end

local function entry(rec)
  return { vocabulary_id = rec.id, gmt_create = util.beijing_time(rec.created_at),
           gmt_modified = util.beijing_time(rec.modified_at), status = "OK" }
end

function actions.list_vocabulary(input, owner)
  local index = tonumber(input.page_index) or 0
  local size = tonumber(input.page_size) or 10
  if index < 0 or size < 1 then return invalid("page_index must be >= 0 and page_size >= 1.") end
  local list = {}
  for _, rec in ipairs(all(owner)) do
    if input.prefix == nil or input.prefix == util.null or rec.prefix == input.prefix then
      list[#list + 1] = entry(rec)
    end
  end
  local page = {}
  for i = index * size + 1, math.min(#list, (index + 1) * size) do page[#page + 1] = list[i] end
  return ok({ vocabulary_list = #page > 0 and page or util.EMPTY_ARRAY })
end

local function with_vocabulary(input, owner, fn)
  local rec = get(input.vocabulary_id, owner)
  if not rec then
    return invalid("Vocabulary " .. tostring(input.vocabulary_id) .. " does not exist.")
  end
  return fn(rec)
end

function actions.query_vocabulary(input, owner)
  return with_vocabulary(input, owner, function(rec)
    local out = entry(rec)
    out.vocabulary_id = nil
    out.target_model = rec.target_model
    out.vocabulary = rec.vocabulary
    return ok(out)
  end)
end

function actions.update_vocabulary(input, owner)
  return with_vocabulary(input, owner, function(rec)
    local entries, err = check_vocabulary(input.vocabulary)
    if not entries then return invalid(err) end
    rec.vocabulary, rec.modified_at = entries, ngx.now()
    store.task_put(KIND, rec)
    return ok({})
  end)
end

function actions.delete_vocabulary(input, owner)
  return with_vocabulary(input, owner, function(rec)
    ngx.shared.sim_tasks:delete(KIND .. ":" .. rec.id)
    return ok({})
  end)
end

function M.handle()
  local cfg = store.config()
  local key = authenticate(cfg)
  if not key then return end
  local req = util.decode(util.read_body())
  if type(req) ~= "table" then return invalid("The request body is not a valid JSON object.") end
  if req.model ~= "speech-biasing" then return invalid("Model not exist.") end
  local input = req.input
  if type(input) ~= "table" then return invalid("Required parameter input is missing.") end
  local fn = type(input.action) == "string" and actions[input.action]
  if not fn then return invalid("Unknown action: " .. tostring(input.action)) end
  store.count_in("vocabulary_actions", input.action)
  return fn(input, key)
end

return M
