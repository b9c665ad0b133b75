--- Task stores: where a client writes down what it submitted, so that no paid task is lost and
-- none is paid twice (client options `store` / `journal`). Two backends with one interface:
--   a path            the file journal (lua/stt/store/file.lua): one process at a time
--   "redis://..."     Redis (lua/stt/store/redis.lua): shared by every process and host
-- The client never knows which one it has. Every method may yield (Redis) and every method that
-- touches the backend returns `nil, message` when it cannot (a file store only on write errors):
--   store:find(key, canon)       -> entry | nil [, message]   the job's current entry (nil: none,
--                                   or the provider refused it: submitting again is safe)
--   store:by_task(id)            -> entry | nil [, message]
--   store:intent(key, provider, model, job, planned_id, force)
--                                -> entry | nil, message [, other]   claim the job before its submit;
--                                   `other`: the entry of a claim someone else holds (then do not
--                                   submit: wait on it). force: true takes the claim whatever
--                                   it holds; "resume" takes an unknown outcome with the same
--                                   planned id whose holder is gone (one resumer wins)
--   store:busy(e)                -> true while a claim's holder is still submitting (its outcome
--                                   will be written soon; wait and find again)
--   store:submitted(key, task) / store:rejected(key, err) / store:finished(task, state, err)
--                                -> true | nil, message   (finished: a task the store does not
--                                   know is left alone, and true)
--   store:pending(provider) / store:entries()        -> list [, message]
--   store:uploaded_for(target, sha256)                -> record | nil [, message]
--   store:uploaded(target, info, got)                 -> true | nil, message
--   store:note(fields) -> true | nil, message ; store:notes_list() -> list
--   store:close() ; store.path (what to show the user: a file path or a Redis URL without password)
-- Entries: { key, provider, model, job, canon, planned_id, at, state, task?, error? }; state is
-- "unknown" from the intent until a task or a refusal is written, then the task's state.
local records = require "stt.store.records"

local M = {}

M.records = records

--- open(spec, opts) -> store | nil, message. spec: a path, a redis:// URL, or a store object
-- (anything with find/intent/submitted, used as it is). opts: { prefix, lease } (Redis: the key
-- prefix, and how long a claim holds while its holder submits, in seconds).
function M.open(spec, opts)
  if type(spec) == "table" and type(spec.find) == "function" and type(spec.intent) == "function" then
    return spec
  end
  if type(spec) ~= "string" or spec == "" then error("store: a path or a redis:// URL expected", 2) end
  if spec:match("^rediss?://") then return require("stt.store.redis").open(spec, opts) end
  return require("stt.store.file").open(spec)
end

return M
