--- AWS Signature Version 4 for S3 and S3-compatible stores (Alibaba OSS, Volcengine TOS, MinIO):
-- presigned URLs and signed request headers. The signing is C (csrc/sigv4.c, OpenSSL's HMAC and
-- SHA-256); this module fills in defaults and checks arguments.
--   local url = stt.s3.presign({ url = "https://bucket.host/key", method = "GET", region = "us-east-1",
--                                access_key = ..., secret_key = ..., expires = 86400, time = os.time() })
local core = require "stt.core"
local errors = require "stt.errors"

local M = {}

local function args(opts, fn)
  if type(opts) ~= "table" then error(fn .. ": options table expected", 3) end
  local t = {}
  for k, v in pairs(opts) do t[k] = v end
  t.method = t.method or "GET"
  t.service = t.service or "s3"
  t.time = t.time or os.time()
  if type(t.time) ~= "number" then error(fn .. ": time must be epoch seconds", 3) end
  if type(t.url) ~= "string" then error(fn .. ": url string expected", 3) end
  -- what was not given comes from the usual AWS variables
  t.access_key = t.access_key or os.getenv("AWS_ACCESS_KEY_ID")
  t.secret_key = t.secret_key or os.getenv("AWS_SECRET_ACCESS_KEY")
  if t.session_token == nil then t.session_token = os.getenv("AWS_SESSION_TOKEN") end
  if t.session_token == "" then t.session_token = nil end
  return t
end

local function fail(msg, op)
  -- the message names what is wrong, never a key or a signature
  return nil, errors.new({ kind = "invalid", retryable = false, message = msg }, { provider = "s3", op = op })
end

--- stt.s3.presign{ url, method = "GET", region, service = "s3", access_key, secret_key,
-- session_token, expires = 86400, time = os.time() } -> the URL with the X-Amz-* query | nil, err.
-- `url` names the object key as written (the signer percent-encodes it per the spec).
function M.presign(opts)
  local t = args(opts, "s3.presign")
  t.expires = t.expires or 86400
  local url, why = core.sigv4_presign(t)
  if not url then return fail(why, "presign") end
  return url
end

--- stt.s3.sign{ url, method, region, service, access_key, secret_key, session_token, time,
-- payload_hash = hex | "UNSIGNED-PAYLOAD", headers = { {name, value}, ... } } ->
-- { headers = { {name, value}, ... } to send (with those given), path = encoded path and query }
-- | nil, err: header signing, for a request the caller sends itself.
function M.sign(opts)
  local t = args(opts, "s3.sign")
  t.payload_hash = t.payload_hash or "UNSIGNED-PAYLOAD"
  local s, why = core.sigv4_sign(t)
  if not s then return fail(why, "sign") end
  local headers = {}
  for i, h in ipairs(t.headers or {}) do headers[i] = { h[1], h[2] } end
  headers[#headers + 1] = { "x-amz-date", s.amz_date }
  headers[#headers + 1] = { "x-amz-content-sha256", t.payload_hash }
  if t.session_token then headers[#headers + 1] = { "x-amz-security-token", t.session_token } end
  headers[#headers + 1] = { "Authorization", s.authorization }
  return { headers = headers, path = s.path }
end

--- stt.s3.put{ url, region, access_key, secret_key, session_token, service, body (a string),
-- content_type, timeout = 60 } -> true | nil, err: one object written (a SigV4-signed PUT with the
-- body's SHA-256), through libcurl or, inside nginx, cosockets. For small objects (results,
-- subtitles); local files go through the client's upload option, streamed.
function M.put(opts)
  local t = args(opts, "s3.put")
  if type(t.body) ~= "string" then error("s3.put: body string expected", 2) end
  local signed, err = M.sign({ method = "PUT", url = t.url, region = t.region, service = t.service,
    access_key = t.access_key, secret_key = t.secret_key, session_token = t.session_token, time = t.time,
    payload_hash = core.sha256(t.body),
    headers = { { "Content-Type", t.content_type or "application/octet-stream" } } })
  if not signed then return nil, err end
  local sched = require "stt.sched"
  local transport = require(sched.in_nginx() and "stt.transport.ngx" or "stt.transport.curl").new()
  local origin = t.url:match("^(%a[%w+.-]*://[^/]+)")
  local resp, terr = transport:request({ method = "PUT", url = origin .. signed.path, headers = signed.headers,
    body = t.body }, { timeout = t.timeout or 60 })
  if transport.close then transport:close() end
  if not resp then return nil, errors.from_transport(terr, { provider = "s3", op = "put" }) end
  if resp.status >= 200 and resp.status < 300 then return true end
  local code = (resp.body or ""):match("<Code>([^<]*)</Code>")
  local message = (resp.body or ""):match("<Message>([^<]*)</Message>") or ("HTTP " .. resp.status)
  return nil, errors.new({ kind = (resp.status == 401 or resp.status == 403) and "auth"
    or resp.status >= 500 and "server" or "invalid", status = resp.status, code = code,
    retryable = resp.status >= 500 or resp.status == 429,
    message = ("PUT %s: %s"):format(t.url:match("^%a[%w+.-]*://[^/]+(/[^?]*)") or "", message) },
    { provider = "s3", op = "put" })
end

return M
