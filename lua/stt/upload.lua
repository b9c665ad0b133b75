--- Local files become URLs a provider can fetch (the client option `upload`):
--   "dashscope"          DashScope's temporary storage: a policy, a form POST to OSS, an oss:// URL
--                        valid 48 h (the submit then carries X-DashScope-OssResourceResolve)
--   { s3 = { ... } }     any S3-compatible store (Alibaba OSS, Volcengine TOS, AWS S3, MinIO): a
--                        PUT signed with AWS SigV4, then a presigned GET URL for the provider
--   function(path, info) -> url, expires_at    the caller's own (may yield inside stt.run)
-- Files stream from disk (the engine reads them as it sends); their SHA-256 is computed in C in
-- chunks. The client journals what it uploaded, so a rerun reuses an object while its URL is
-- valid. See docs/api.md#local-files and docs/providers.md#dashscope-temporary-storage, #s3-sigv4.
local core = require "stt.core"
local sched = require "stt.sched"
local errors = require "stt.errors"
local s3 = require "stt.s3"

local M = {}

-- Extensions of audio and video files some provider can decode (docs/providers.md): anything
-- else is refused before it is uploaded or paid for.
local TYPES = {
  wav = "audio/wav", mp3 = "audio/mpeg", m4a = "audio/mp4", aac = "audio/aac", flac = "audio/flac",
  ogg = "audio/ogg", opus = "audio/opus", amr = "audio/amr", wma = "audio/x-ms-wma", pcm = "audio/L16",
  raw = "audio/L16", spx = "audio/ogg", webm = "audio/webm", mp4 = "video/mp4", mov = "video/quicktime",
  mkv = "video/x-matroska", avi = "video/x-msvideo", flv = "video/x-flv", mpeg = "video/mpeg",
  wmv = "video/x-ms-wmv",
}
M.TYPES = TYPES

-- A temporary-storage object lives 48 h; an upload is reused only while at least this much of
-- its life is left, so that the provider can still fetch it after queueing (uploads expire
-- before a submit, never after one).
M.REUSE_MARGIN = 6 * 3600

local function fail(kind, msg, extra)
  local t = { kind = kind, retryable = false, message = msg }
  for k, v in pairs(extra or {}) do t[k] = v end
  return nil, errors.new(t, { provider = extra and extra.provider or "upload", op = "upload" })
end

local function is_dir(path)
  local f = io.open(path .. "/.", "rb")       -- opening "dir/." succeeds only for a directory
  if f then f:close() return true end
  return false
end

--- check(path, name) -> info { path, name, size, content_type, ext } | nil, err: a local file that
-- can be uploaded. `name` (optional) is the name it goes by (uploaded as, typed by its extension)
-- when the path has none of its own, as nginx's temporary body files. Missing: not_found; a
-- directory, unreadable, empty, or an extension no provider decodes: invalid.
function M.check(path, name)
  if type(path) ~= "string" or path == "" then error("file: a path string expected", 3) end
  if name ~= nil and (type(name) ~= "string" or name == "" or name:find("[/\\%c]")) then
    error("file_name: a file name expected (no '/', '\\' or control characters)", 3)
  end
  local f, msg, code = io.open(path, "rb")
  if not f then
    if code == 2 then return fail("not_found", ("file %s does not exist"):format(path)) end
    return fail("invalid", ("cannot read file %s: %s"):format(path, tostring(msg)))
  end
  local size = f:seek("end")
  f:close()
  if is_dir(path) then return fail("invalid", ("%s is a directory, not an audio file"):format(path)) end
  if not size then return fail("invalid", ("cannot read file %s"):format(path)) end
  if size == 0 then return fail("invalid", ("file %s is empty"):format(path)) end
  name = name or path:match("([^/]+)$") or path
  local ext = (name:match("%.([%w]+)$") or ""):lower()
  if not TYPES[ext] then
    return fail("invalid", ("file %s: no provider decodes %s files (audio: wav mp3 m4a aac flac ogg opus amr "
      .. "pcm; video: mp4 mov mkv webm ...)"):format(path, ext == "" and "extension-less" or ("." .. ext)))
  end
  return { path = path, name = name, size = size, ext = ext, content_type = TYPES[ext] }
end

-- Bytes hashed between two chances for other threads to run: ~5 ms of SHA-256 here, so an nginx
-- worker (or the other jobs of stt.run) never stalls for a large file's whole hash.
M.HASH_SLICE = 8 * 1048576

--- The SHA-256 of the file (C, in chunks: the file is never read whole) into info.sha256; a
-- slice at a time, yielding in between inside stt.run and nginx.
function M.digest(info)
  if info.sha256 then return info end
  local h, oerr = core.file_hasher(info.path)
  if not h then return fail("invalid", "cannot read file: " .. tostring(oerr)) end
  while true do
    local done, err = h:step(M.HASH_SLICE)
    if done == nil then
      h:close()
      return fail("invalid", ("cannot read file %s: %s"):format(info.path, tostring(err)))
    end
    if done then break end
    sched.sleep(0)                -- yields inside stt.run and nginx; nothing outside
  end
  info.sha256, info.size = h:result()
  h:close()
  return info
end

-- What names an upload destination in the journal (no secrets): "dashscope:<model>",
-- "s3:<endpoint>/<bucket>/<prefix>", "hook".
function M.target(c)
  local u = c.uploader
  if u == "dashscope" then return "dashscope:" .. tostring(c.model) end
  if type(u) == "table" and u.s3 then
    return ("s3:%s/%s/%s"):format(tostring(u.s3.endpoint), tostring(u.s3.bucket), tostring(u.s3.prefix or ""))
  end
  if type(u) == "function" then return "hook" end
  return nil
end

---------------------------------------------------------------- S3-compatible stores
-- Retries of a PUT (idempotent: the same bytes to the same key) after transient failures.
local PUT_RETRIES = 3

-- The error of an S3 answer: <Error><Code>..</Code><Message>..</Message> (the XML is S3's).
local function s3_error(resp, what)
  local body = resp.body or ""
  local code = body:match("<Code>([^<]*)</Code>") or ""
  local message = body:match("<Message>([^<]*)</Message>") or ("HTTP " .. tostring(resp.status))
  local s = resp.status
  local kind, retryable = "protocol", false
  if s == 401 or s == 403 then kind = "auth"
  elseif s == 404 then kind = "not_found"
  elseif s == 400 or s == 409 or s == 411 or s == 413 then kind = "invalid"
  elseif s == 429 or s == 503 then kind, retryable = "throttled", true
  elseif s >= 500 then kind, retryable = "server", true end
  return errors.new({ kind = kind, status = s, code = code ~= "" and code or nil, retryable = retryable,
    request_id = resp.headers and resp.headers["x-amz-request-id"],
    message = ("%s: %s%s"):format(what, message, code ~= "" and (" (" .. code .. ")") or "") },
    { provider = "s3", op = "upload" })
end

-- scheme://host[/path] + bucket + key -> the object URL (virtual-host or path style), key unencoded.
local function object_url(cfg, key)
  local scheme, host, base = cfg.endpoint:match("^(%a[%w+.-]*)://([^/]+)(.*)$")
  if not scheme then return nil end
  base = base:gsub("/+$", "")
  if cfg.path_style then return ("%s://%s%s/%s/%s"):format(scheme, host, base, cfg.bucket, key) end
  return ("%s://%s.%s%s/%s"):format(scheme, cfg.bucket, host, base, key)
end

local function s3_put(c, cfg, info, opts)
  local key = (cfg.prefix or "") .. info.sha256:sub(1, 16) .. "/" .. info.name
  local url = object_url(cfg, key)
  if not url then return fail("invalid", "upload.s3.endpoint must look like https://host") end
  local creds = { access_key = cfg.access_key or os.getenv("AWS_ACCESS_KEY_ID"),
                  secret_key = cfg.secret_key or os.getenv("AWS_SECRET_ACCESS_KEY"),
                  session_token = cfg.session_token or os.getenv("AWS_SESSION_TOKEN") }
  if creds.session_token == "" then creds.session_token = nil end
  if not creds.access_key or not creds.secret_key then
    return fail("auth", "upload.s3: no access_key/secret_key (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
  end
  local attempt = 0
  while true do
    local signed, serr = s3.sign({ method = "PUT", url = url, region = cfg.region, service = cfg.service,
      access_key = creds.access_key, secret_key = creds.secret_key, session_token = creds.session_token,
      payload_hash = info.sha256, headers = { { "Content-Type", info.content_type } } })
    if not signed then return nil, serr end
    local target = url:match("^(%a[%w+.-]*://[^/]+)") .. signed.path
    local resp, terr = c.transport:request({ method = "PUT", url = target, headers = signed.headers,
      body_file = info.path }, { timeout = opts.timeout, connect_timeout = c.connect_timeout, insecure = c.insecure,
      ca_file = c.ca_file, on_id = opts.on_id })
    local err
    if resp and resp.status >= 200 and resp.status < 300 then break end
    if resp then err = s3_error(resp, "PUT " .. key)
    else err = errors.from_transport(terr, { provider = "s3", op = "upload" }) end
    attempt = attempt + 1
    if not err.retryable or attempt > PUT_RETRIES then return nil, err end
    local delay = math.min(8, 0.5 * 2 ^ (attempt - 1))
    c:_emit({ type = "retry", op = "upload", attempt = attempt, delay = delay, error = err })
    sched.sleep(delay)
  end
  local expires = cfg.expires or 86400
  local get, gerr = s3.presign({ method = "GET", url = url, region = cfg.region, service = cfg.service,
    access_key = creds.access_key, secret_key = creds.secret_key, session_token = creds.session_token,
    expires = expires })
  if not get then return nil, gerr end
  return { url = get, expires_at = os.time() + expires, key = key, presigned = true }
end

---------------------------------------------------------------- DashScope temporary storage
-- Policy (GET {base}/uploads?action=getPolicy&model=M) -> form POST to its upload_host, the file
-- last -> oss://{upload_dir}/{name}. The wire forms are the schema's (csrc/providers/dashscope_upload.c).
local TEMP_LIFE = 48 * 3600

local function dashscope_put(c, info, opts)
  local attempt = 0
  while true do
    -- a policy per attempt: one that expired while the file was on its way is replaced
    local pol, perr = c:_call("upload_policy", { model = opts.model })
    if not pol then return nil, perr end
    if pol.max_file_size_mb and info.size > pol.max_file_size_mb * 1048576 then
      return fail("invalid", ("file %s is %d bytes; DashScope's temporary storage takes at most %s MB for %s "
        .. "(set the client option upload to an S3-compatible store for larger files)")
        :format(info.path, info.size, ("%g"):format(pol.max_file_size_mb), tostring(opts.model)),
        { provider = "dashscope" })
    end
    local req, berr = core.build("dashscope", "upload_form", { policy = pol, name = info.name, path = info.path,
      content_type = info.content_type })
    if not req then return nil, errors.new(berr, c:_ctx("upload")) end
    local resp, terr = c.transport:request(req, { timeout = opts.timeout, connect_timeout = c.connect_timeout,
      insecure = c.insecure, ca_file = c.ca_file, on_id = opts.on_id })
    local err
    if resp then
      local out, perr2 = core.parse("dashscope", "upload_form", { status = resp.status, headers = resp.headers,
                                                                   body = resp.body })
      if out then
        return { url = "oss://" .. req.key, expires_at = os.time() + TEMP_LIFE, key = req.key }
      end
      err = errors.new(perr2, c:_ctx("upload"))
    else
      err = errors.from_transport(terr, c:_ctx("upload"))
    end
    attempt = attempt + 1
    if not err.retryable or attempt > PUT_RETRIES then return nil, err end
    local delay = err.retry_after or math.min(8, 0.5 * 2 ^ (attempt - 1))
    c:_emit({ type = "retry", op = "upload", attempt = attempt, delay = delay, error = err })
    sched.sleep(delay)
  end
end

--- put(c, info, opts) -> { url, expires_at } | nil, err: upload the checked, digested file through
-- the client's `upload` option. opts: model, timeout (seconds for the transfer), on_id(id) (the
-- engine id of the transfer, for progress).
function M.put(c, info, opts)
  local u = c.uploader
  if u == "dashscope" then return dashscope_put(c, info, opts) end
  if type(u) == "table" and type(u.s3) == "table" then return s3_put(c, u.s3, info, opts) end
  if type(u) == "function" then
    local hinfo = { name = info.name, size = info.size, sha256 = info.sha256, content_type = info.content_type,
                    provider = c.provider, model = opts.model }
    local ok, url, expires_at = pcall(u, info.path, hinfo)
    if not ok then return fail("invalid", "the upload hook failed: " .. tostring(url)) end
    if type(url) ~= "string" then return fail("invalid", "the upload hook returned no URL") end
    return { url = url, expires_at = tonumber(expires_at) }
  end
  return fail("invalid", ("%s cannot fetch a local file without an upload: set the client option upload "
    .. "(an S3-compatible store: upload = { s3 = { endpoint, bucket, region } }, or a function)"):format(c.provider),
    { provider = c.provider })
end

--- The job as the journal keys it: a file by its content ("sha256:<hex>"), not by its path, so
-- a rerun finds the job whatever the file is called now.
function M.content_job(job, files)
  local out = {}
  -- the name a file goes by changes nothing the provider hears: not part of the job's key
  for k, v in pairs(job) do if k ~= "file" and k ~= "files" and k ~= "file_name" then out[k] = v end end
  local ids = {}
  for i, info in ipairs(files) do ids[i] = "sha256:" .. info.sha256 end
  if job.file ~= nil then out.file = ids[1] else out.files = ids end
  return out
end

--- An upload the journal recorded, used again: S3 objects get a fresh presigned URL (the
-- journal keeps their key, never a signed URL); DashScope and hook URLs are what was recorded.
function M.reuse(c, rec)
  local u = c.uploader
  if type(u) == "table" and u.s3 and rec.key then
    local cfg = u.s3
    local url = object_url(cfg, rec.key)
    local get = url and s3.presign({ method = "GET", url = url, region = cfg.region, service = cfg.service,
      access_key = cfg.access_key, secret_key = cfg.secret_key, session_token = cfg.session_token,
      expires = cfg.expires or 86400 })
    if not get then return nil end
    return { url = get, expires_at = os.time() + (cfg.expires or 86400), key = rec.key, presigned = true }
  end
  if rec.url then return { url = rec.url, expires_at = rec.expires_at, key = rec.key } end
  return nil
end

--- Check the `upload` client option's shape (a setup mistake raises).
function M.validate(u, provider)
  if u == nil or u == false or type(u) == "function" then return end
  if u == "dashscope" then
    if provider ~= "dashscope" then error("stt.client: upload = \"dashscope\" is DashScope's own storage", 3) end
    return
  end
  if type(u) ~= "table" or type(u.s3) ~= "table" then
    error("stt.client: upload must be \"dashscope\", { s3 = { ... } } or a function", 3)
  end
  for _, k in ipairs({ "endpoint", "bucket", "region" }) do
    if type(u.s3[k]) ~= "string" or u.s3[k] == "" then error("stt.client: upload.s3." .. k .. " is required", 3) end
  end
end

return M
