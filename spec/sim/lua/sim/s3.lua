-- Plays an S3-compatible object store (AWS S3; Alibaba OSS and Volcengine TOS through their S3
-- endpoints) for local-file uploads: PUT / GET / HEAD / DELETE object, AWS Signature Version 4
-- verified by this module's own implementation (sim.crypto: OpenSSL through LuaJIT's FFI), never
-- by lua-stt's signer. docs/providers.md#s3-sigv4, #s3-errors, #s3-compatible-hosts.
--
--   path style     http://127.0.0.1:PORT/s3/<bucket>/<key>
--   virtual host   http://<bucket>.localhost:PORT/s3/<key>     (Host: <bucket>.localhost:PORT)
--
-- Auth: `Authorization: AWS4-HMAC-SHA256 Credential=<AK>/<date>/<region>/s3/aws4_request,
-- SignedHeaders=..., Signature=...` (x-amz-content-sha256 present and signed; a hex value must be
-- the body's SHA-256) or a presigned query (X-Amz-Algorithm, -Credential, -Date, -Expires,
-- -SignedHeaders, -Signature, optional -Security-Token; payload UNSIGNED-PAYLOAD). Canonical URI =
-- the raw path as received (S3 encodes once and never normalizes); canonical query = names and
-- values decoded, re-encoded (unreserved A-Za-z0-9-._~ kept, uppercase %XX) and sorted.
-- Config: s3_keys ({[access key] = secret}), s3_tokens (accepted session tokens), s3_region
-- (when set, the scope's region must equal it).
-- Objects: <media dir>/s3/<bucket>/<key> (the key decoded once; '+' is a space, as on S3),
-- metadata beside them in <media dir>/s3/.meta/<bucket>/<key>. Errors: S3's XML.
-- luacheck: globals ngx
local boot = require "sim.boot"
local crypto = require "sim.crypto"
local store = require "sim.store"
local util = require "sim.util"

local M = {}

M.DEFAULT_KEYS = { AKIDSIMEXAMPLE0001 = "sim-secret-0001" }
M.DEFAULT_TOKENS = { "sim-session-token" }
M.MAX_EXPIRES = 604800            -- 7 days: the longest X-Amz-Expires S3 takes
M.MAX_SKEW = 900                  -- header auth: 15 minutes of clock difference
local CHUNK = 1024 * 1024
local ALGORITHM = "AWS4-HMAC-SHA256"
local UNSIGNED = "UNSIGNED-PAYLOAD"

---------------------------------------------------------------------------- small helpers

-- Seconds since the epoch of a UTC civil time (no os.time: that one is local time).
function M.timegm(y, mo, d, h, mi, s)
  y = (mo <= 2) and (y - 1) or y
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mp = (mo + 9) % 12
  local doy = math.floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  return (era * 146097 + doe - 719468) * 86400 + h * 3600 + mi * 60 + s
end

local function parse_amz_date(s)
  local y, mo, d, h, mi, sec = (s or ""):match("^(%d%d%d%d)(%d%d)(%d%d)T(%d%d)(%d%d)(%d%d)Z$")
  if not y then return nil end
  return M.timegm(tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi), tonumber(sec))
end

local function iso8601(t)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(t))
end

-- AWS UriEncode: every byte but A-Za-z0-9-._~ as uppercase %XX.
function M.uri_encode(s)
  return (s:gsub("[^A-Za-z0-9%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

local function pct_decode(s)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

function M.xml_escape(s)
  return (tostring(s):gsub("[<>&\"']", { ["<"] = "&lt;", [">"] = "&gt;", ["&"] = "&amp;", ['"'] = "&quot;",
    ["'"] = "&apos;" }))
end

local function random_hex(n, upper)
  local t = {}
  for i = 1, n do t[i] = string.format(upper and "%X" or "%x", math.random(0, 15)) end
  return table.concat(t)
end

local function trim_fold(v)
  return (v:gsub("^%s+", ""):gsub("%s+$", ""):gsub("%s+", " "))
end

local function hex_bytes(s)
  local t = {}
  for i = 1, #s do t[i] = string.format("%02x", s:byte(i)) end
  return table.concat(t, " ")
end

---------------------------------------------------------------------------- errors

function M.error_xml(code, message, extra)
  local rid = random_hex(16, true)
  local parts = { '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>', M.xml_escape(code), "</Code><Message>",
    M.xml_escape(message), "</Message>" }
  for _, kv in ipairs(extra or {}) do
    parts[#parts + 1] = "<" .. kv[1] .. ">" .. M.xml_escape(kv[2]) .. "</" .. kv[1] .. ">"
  end
  parts[#parts + 1] = "<RequestId>" .. rid .. "</RequestId><HostId>"
    .. crypto.base64(crypto.sha256(rid .. random_hex(16))) .. "</HostId></Error>"
  return table.concat(parts), rid
end

local function fail(status, code, message, extra)
  return nil, { status = status, code = code, message = message, extra = extra }
end

local function send_error(e)
  if not ngx.ctx.s3_body_read then ngx.req.discard_body() end
  store.count_in("s3_errors", e.code)
  local body, rid = M.error_xml(e.code, e.message, e.extra)
  ngx.header["x-amz-request-id"] = rid
  ngx.header["x-amz-id-2"] = crypto.base64(crypto.sha256(rid))
  ngx.header["Server"] = "AmazonS3"
  return util.send(e.status, body, "application/xml")
end

function M.fault_body(kind)
  if kind == 429 or kind == 503 then
    return (M.error_xml("SlowDown", "Please reduce your request rate.")), "application/xml"
  elseif kind == 500 then
    return (M.error_xml("InternalError", "We encountered an internal error. Please try again.")), "application/xml"
  elseif kind == "truncated" then
    return '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>Intern'
  end
end

---------------------------------------------------------------------------- keys and files

-- A key decoded once from the raw path; nil, error for one the simulator cannot keep as a file:
-- empty, '.' or '..' segments, NUL bytes (S3 itself takes them), or over 1024 bytes (S3 neither).
function M.check_key(key)
  if #key > 1024 then return fail(400, "KeyTooLongError", "Your key is too long", { { "Size", #key } }) end
  if key:find("\0", 1, true) then
    return fail(400, "InvalidArgument", "lua-stt simulator: a key with a NUL byte cannot be stored")
  end
  for seg in (key .. "/"):gmatch("([^/]*)/") do
    if seg == "" or seg == "." or seg == ".." then
      return fail(400, "InvalidArgument",
        "lua-stt simulator: keys with empty, '.' or '..' segments cannot be stored: " .. key)
    end
  end
  return key
end

local function exists(path)
  local f = io.open(path, "rb")
  if not f then return false end
  f:close()
  local d = io.open(path .. "/.", "rb")   -- opening "dir/." succeeds only for a directory
  if d then d:close(); return false, "dir" end
  return true
end
M.exists = exists

local function dirname(path) return path:match("^(.*)/[^/]*$") end

-- Put the bytes of a finished upload at `dest`: `src` (a file: renamed, or copied when on another
-- file system) or `data` (a string). The parents are made; the final step is one rename.
function M.install(dest, opts)
  local ok, err = crypto.mkdir_p(dirname(dest))
  if not ok then return nil, err end
  local kind = select(2, exists(dest))
  if kind == "dir" then return nil, "a key below this one is stored (the object would be a directory)" end
  if opts.src and os.rename(opts.src, dest) then return true end
  local tmp = dirname(dest) .. "/.sim-upload-" .. random_hex(16)
  if opts.src then
    local d, derr = crypto.digest_file(opts.src, { copy_to = tmp, yield = function() ngx.sleep(0.001) end })
    if not d then os.remove(tmp); return nil, derr end
  else
    local f, ferr = io.open(tmp, "wb")
    if not f then return nil, ferr end
    local wok, werr = f:write(opts.data or "")
    f:close()
    if not wok then os.remove(tmp); return nil, werr end
  end
  local rok, rerr = os.rename(tmp, dest)
  if not rok then os.remove(tmp); return nil, rerr end
  return true
end

local function object_path(bucket, key) return boot.media_dir .. "/s3/" .. bucket .. "/" .. key end
local function meta_path(bucket, key) return boot.media_dir .. "/s3/.meta/" .. bucket .. "/" .. key end

local function read_meta(bucket, key)
  local f = io.open(meta_path(bucket, key), "rb")
  if not f then return {} end
  local s = f:read("*a")
  f:close()
  local m = util.decode(s)
  return type(m) == "table" and m or {}
end

local function write_meta(bucket, key, meta)
  local p = meta_path(bucket, key)
  if crypto.mkdir_p(dirname(p)) then
    local f = io.open(p, "wb")
    if f then f:write(util.json(meta)); f:close() end
  end
end

---------------------------------------------------------------------------- request parts

-- Bucket and key of the request: virtual host (Host "<bucket>.localhost[:port]", path
-- /s3/<key>) or path style (/s3/<bucket>/<key>). Raw (still encoded) key.
local function locate(raw_path)
  local rest = raw_path:match("^/s3/(.*)$")
  if not rest then return fail(404, "NoSuchBucket", "The specified bucket does not exist.") end
  local host = (ngx.var.http_host or ""):lower():gsub(":%d+$", "")
  local bucket = host:match("^(.+)%.localhost$")
  local raw_key
  if bucket then
    raw_key = rest
  else
    bucket, raw_key = rest:match("^([^/]*)/?(.*)$")
  end
  bucket = pct_decode(bucket)
  if #bucket < 3 or #bucket > 63 or not bucket:match("^[a-z0-9][a-z0-9.-]*[a-z0-9]$") then
    return fail(400, "InvalidBucketName", "The specified bucket is not valid.", { { "BucketName", bucket } })
  end
  -- S3 decodes the path once, '+' as a space (encode '+' as %2B).
  local key = pct_decode((raw_key:gsub("%+", " ")))
  return { bucket = bucket, key = key }
end

local function parse_query(q)
  local list = {}
  for item in q:gmatch("[^&]+") do
    local n, v = item:match("^([^=]*)=(.*)$")
    if not n then n, v = item, "" end
    list[#list + 1] = { pct_decode(n), pct_decode(v) }
  end
  return list
end

local function query_get(list, name)
  for _, p in ipairs(list) do if p[1] == name then return p[2] end end
  return nil
end

local function canonical_query(list, skip)
  local items = {}
  for _, p in ipairs(list) do
    if p[1] ~= skip then items[#items + 1] = { M.uri_encode(p[1]), M.uri_encode(p[2]) } end
  end
  table.sort(items, function(a, b)
    if a[1] ~= b[1] then return a[1] < b[1] end
    return a[2] < b[2]
  end)
  for i, p in ipairs(items) do items[i] = p[1] .. "=" .. p[2] end
  return table.concat(items, "&")
end

-- Lower-case header name -> list of values (as received).
local function request_headers()
  local out = {}
  for k, v in pairs(ngx.req.get_headers(0, true)) do
    k = k:lower()
    local list = out[k] or {}
    if type(v) == "table" then
      for _, x in ipairs(v) do list[#list + 1] = x end
    else
      list[#list + 1] = v
    end
    out[k] = list
  end
  if not out.host and ngx.var.http_host then out.host = { ngx.var.http_host } end
  return out
end

local function header1(h, name)
  local l = h[name]
  return l and l[1] or nil
end

---------------------------------------------------------------------------- SigV4

local function signing_key(secret, date, region, service)
  local k = crypto.hmac_sha256("AWS4" .. secret, date)
  k = crypto.hmac_sha256(k, region)
  k = crypto.hmac_sha256(k, service)
  return crypto.hmac_sha256(k, "aws4_request")
end

local function keys_of(cfg)
  return type(cfg.s3_keys) == "table" and cfg.s3_keys or M.DEFAULT_KEYS
end

local function token_ok(cfg, token)
  local list = type(cfg.s3_tokens) == "table" and cfg.s3_tokens or M.DEFAULT_TOKENS
  for _, t in ipairs(list) do if t == token then return true end end
  return false
end

-- a = { access_key, date, region, service, terminal, amz_date, signed (list), signature, payload,
--       query (list), skip (query name left out), token, mode = "header" | "query" }
local function verify(cfg, a, method, raw_path, headers)
  local malformed = a.mode == "header" and "AuthorizationHeaderMalformed" or "AuthorizationQueryParametersError"
  local prefix = a.mode == "header" and "The authorization header is malformed; "
    or "Error parsing the X-Amz-Credential parameter; "
  if a.service ~= "s3" then
    return fail(400, malformed, prefix .. 'incorrect service "' .. a.service .. '". This endpoint belongs to "s3".')
  end
  if a.terminal ~= "aws4_request" then
    return fail(400, malformed, prefix .. 'incorrect terminal "' .. a.terminal
      .. '". This endpoint uses "aws4_request".')
  end
  if a.region == "" then return fail(400, malformed, prefix .. "the region is empty.") end
  local secret = keys_of(cfg)[a.access_key]
  if type(secret) ~= "string" then
    return fail(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.",
      { { "AWSAccessKeyId", a.access_key } })
  end
  if type(cfg.s3_region) == "string" and cfg.s3_region ~= "" and a.region ~= cfg.s3_region then
    return fail(400, malformed, prefix .. "the region '" .. a.region .. "' is wrong; expecting '" .. cfg.s3_region
      .. "'", { { "Region", cfg.s3_region } })
  end
  local t = parse_amz_date(a.amz_date)
  if not t then
    if a.mode == "header" then
      return fail(403, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header")
    end
    return fail(400, malformed, "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
  end
  if a.date ~= a.amz_date:sub(1, 8) then
    return fail(400, malformed, prefix .. "Invalid credential date. Date is not the same as X-Amz-Date.")
  end
  local now = ngx.now()
  if a.mode == "header" then
    if math.abs(now - t) > M.MAX_SKEW then
      return fail(403, "RequestTimeTooSkewed", "The difference between the request time and the current time is "
        .. "too large.", { { "RequestTime", a.amz_date }, { "ServerTime", iso8601(now) },
        { "MaxAllowedSkewMilliseconds", M.MAX_SKEW * 1000 } })
    end
  else
    if t - now > M.MAX_SKEW then
      return fail(403, "AccessDenied", "Request is not yet valid", { { "X-Amz-Date", a.amz_date },
        { "ServerTime", iso8601(now) } })
    end
    if now > t + a.expires then
      return fail(403, "AccessDenied", "Request has expired", { { "X-Amz-Expires", a.expires },
        { "Expires", iso8601(t + a.expires) }, { "ServerTime", iso8601(now) } })
    end
  end
  if a.token ~= nil and not token_ok(cfg, a.token) then
    return fail(403, "InvalidToken", "The provided token is malformed or otherwise invalid.",
      { { "Token-0", a.token } })
  end
  local seen = {}
  for _, name in ipairs(a.signed) do seen[name] = true end
  if not seen.host then
    return fail(400, malformed, prefix .. "the host header must be signed.")
  end
  -- canonical request
  local lines = {}
  for _, name in ipairs(a.signed) do
    local vals = {}
    for i, v in ipairs(headers[name] or {}) do vals[i] = trim_fold(v) end
    lines[#lines + 1] = name .. ":" .. table.concat(vals, ",") .. "\n"
  end
  local canonical = table.concat({ method, raw_path, canonical_query(a.query, a.skip), table.concat(lines),
    table.concat(a.signed, ";"), a.payload }, "\n")
  local sts = table.concat({ ALGORITHM, a.amz_date, a.date .. "/" .. a.region .. "/s3/aws4_request",
    crypto.sha256_hex(canonical) }, "\n")
  local want = crypto.hex(crypto.hmac_sha256(signing_key(secret, a.date, a.region, a.service), sts))
  if want ~= a.signature:lower() then
    return fail(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature "
      .. "you provided. Check your key and signing method.", {
        { "AWSAccessKeyId", a.access_key }, { "StringToSign", sts }, { "SignatureProvided", a.signature },
        { "StringToSignBytes", hex_bytes(sts) }, { "CanonicalRequest", canonical },
        { "CanonicalRequestBytes", hex_bytes(canonical) } })
  end
  return { access_key = a.access_key, payload = a.payload, mode = a.mode }
end

local function split_list(s)
  local out = {}
  for x in s:gmatch("[^;]+") do out[#out + 1] = x end
  return out
end

local function split_credential(c)
  local ak, date, region, service, terminal = (c or ""):match("^([^/]+)/(%d%d%d%d%d%d%d%d)/([^/]*)/([^/]+)/([^/]+)$")
  if not ak then return nil end
  return { access_key = ak, date = date, region = region, service = service, terminal = terminal }
end

local function header_auth(cfg, method, raw_path, query, headers, authz)
  local algo, rest = authz:match("^(%S+)%s+(.*)$")
  if algo ~= ALGORITHM then
    return fail(400, "InvalidRequest", "The authorization mechanism you have provided is not supported. "
      .. "Please use AWS4-HMAC-SHA256.")
  end
  local parts = {}
  for item in rest:gmatch("[^,]+") do
    local k, v = item:match("^%s*([^=%s]+)=(.-)%s*$")
    if k then parts[k] = v end
  end
  if not parts.Credential or not parts.SignedHeaders or not parts.Signature then
    return fail(400, "AuthorizationHeaderMalformed", "The authorization header is malformed; the authorization "
      .. "header requires three components: Credential, SignedHeaders, and Signature.")
  end
  local a = split_credential(parts.Credential)
  if not a then
    return fail(400, "AuthorizationHeaderMalformed", "The authorization header is malformed; the Credential is "
      .. 'mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".')
  end
  local payload = header1(headers, "x-amz-content-sha256")
  if not payload then
    return fail(400, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256")
  end
  a.signed = split_list(parts.SignedHeaders)
  local signed = false
  for _, name in ipairs(a.signed) do if name == "x-amz-content-sha256" then signed = true end end
  if not signed then
    return fail(400, "InvalidRequest", "header 'x-amz-content-sha256' must be included in signature")
  end
  if payload:match("^STREAMING%-") then
    return fail(501, "NotImplemented", "lua-stt simulator: aws-chunked uploads (" .. payload .. ") are not "
      .. "simulated (Alibaba OSS does not take them either)")
  end
  if payload ~= UNSIGNED and not payload:match("^" .. string.rep("%x", 64) .. "$") then
    return fail(400, "InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, "
      .. "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, or a valid sha256 value.",
      { { "ArgumentName", "x-amz-content-sha256" }, { "ArgumentValue", payload } })
  end
  a.mode, a.signature, a.payload = "header", parts.Signature, payload
  a.amz_date = header1(headers, "x-amz-date")
  a.query, a.token = query, header1(headers, "x-amz-security-token")
  return verify(cfg, a, method, raw_path, headers)
end

local REQUIRED_Q = { "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date",
  "X-Amz-SignedHeaders", "X-Amz-Expires" }

local function query_auth(cfg, method, raw_path, query, headers)
  for _, name in ipairs(REQUIRED_Q) do
    if not query_get(query, name) then
      return fail(400, "AuthorizationQueryParametersError", "Query-string authentication version 4 requires the "
        .. "X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires "
        .. "parameters.")
    end
  end
  if query_get(query, "X-Amz-Algorithm") ~= ALGORITHM then
    return fail(400, "AuthorizationQueryParametersError", 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"')
  end
  local expires = query_get(query, "X-Amz-Expires")
  if not expires:match("^%d+$") then
    return fail(400, "AuthorizationQueryParametersError", "X-Amz-Expires should be a number")
  end
  expires = tonumber(expires)
  if expires > M.MAX_EXPIRES then
    return fail(400, "AuthorizationQueryParametersError",
      "X-Amz-Expires must be less than a week (in seconds) that is; 604800")
  end
  local a = split_credential(query_get(query, "X-Amz-Credential"))
  if not a then
    return fail(400, "AuthorizationQueryParametersError", "Error parsing the X-Amz-Credential parameter; the "
      .. 'Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".')
  end
  a.mode, a.expires, a.query, a.skip = "query", expires, query, "X-Amz-Signature"
  a.signature = query_get(query, "X-Amz-Signature")
  a.signed = split_list(query_get(query, "X-Amz-SignedHeaders"))
  a.amz_date = query_get(query, "X-Amz-Date")
  a.token = query_get(query, "X-Amz-Security-Token")
  -- A presigned URL signs no payload, unless the request (or the URL) names its hash.
  a.payload = header1(headers, "x-amz-content-sha256") or query_get(query, "X-Amz-Content-Sha256") or UNSIGNED
  return verify(cfg, a, method, raw_path, headers)
end

local function authenticate(cfg, method, raw_path, raw_query)
  local headers = request_headers()
  local query = parse_query(raw_query)
  local authz = header1(headers, "authorization")
  local q = query_get(query, "X-Amz-Algorithm") or query_get(query, "X-Amz-Signature")
    or query_get(query, "X-Amz-Credential")
  if authz and q then
    return fail(400, "InvalidArgument", "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
      .. "Signature query string parameter or the Authorization header should be specified",
      { { "ArgumentName", "Authorization" }, { "ArgumentValue", authz } })
  end
  if authz then return header_auth(cfg, method, raw_path, query, headers, authz) end
  if q then return query_auth(cfg, method, raw_path, query, headers) end
  return fail(403, "AccessDenied", "Access Denied")
end

---------------------------------------------------------------------------- body

-- Read the request body and hash it: { sha256, md5, size, data = string | file = path }.
local function read_body()
  ngx.req.read_body()
  ngx.ctx.s3_body_read = true
  local data = ngx.req.get_body_data()
  if data then
    return { sha256 = crypto.sha256_hex(data), md5 = crypto.hex(crypto.md5(data)), size = #data, data = data }
  end
  local file = ngx.req.get_body_file()
  if not file then
    return { sha256 = crypto.sha256_hex(""), md5 = crypto.hex(crypto.md5("")), size = 0, data = "" }
  end
  local d, err = crypto.digest_file(file, { yield = function() ngx.sleep(0.001) end })
  if not d then return nil, err end
  d.file = file
  return d
end

local function check_payload(auth, body)
  if auth.payload ~= UNSIGNED and auth.payload:lower() ~= body.sha256 then
    return fail(400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what "
      .. "was computed.", { { "ClientComputedContentSHA256", auth.payload },
      { "S3ComputedContentSHA256", body.sha256 } })
  end
  local md5 = ngx.var.http_content_md5
  if md5 then
    local raw = crypto.unbase64(md5)
    if not raw or #raw ~= 16 then
      return fail(400, "InvalidDigest", "The Content-MD5 you specified was invalid.", { { "Content-MD5", md5 } })
    end
    if crypto.hex(raw) ~= body.md5 then
      return fail(400, "BadDigest", "The Content-MD5 you specified did not match what we received.",
        { { "ExpectedDigest", crypto.hex(raw) }, { "CalculatedDigest", body.md5 } })
    end
  end
  return true
end

---------------------------------------------------------------------------- operations

local function common_headers()
  local rid = random_hex(16, true)
  ngx.header["x-amz-request-id"] = rid
  ngx.header["x-amz-id-2"] = crypto.base64(crypto.sha256(rid))
  ngx.header["Server"] = "AmazonS3"
end

local function put_object(loc, auth)
  local body, err = read_body()
  if not body then return fail(500, "InternalError", "lua-stt simulator: cannot read the body: " .. tostring(err)) end
  local ok, perr = check_payload(auth, body)
  if not ok then return nil, perr end
  local dest = object_path(loc.bucket, loc.key)
  local iok, ierr = M.install(dest, { src = body.file, data = body.data })
  if not iok then
    return fail(400, "InvalidArgument", "lua-stt simulator: cannot store " .. loc.key .. ": " .. tostring(ierr))
  end
  ngx.update_time()
  local etag = '"' .. body.md5 .. '"'
  write_meta(loc.bucket, loc.key, { etag = etag, size = body.size, sha256 = body.sha256,
    content_type = ngx.var.http_content_type or "binary/octet-stream", last_modified = ngx.time() })
  store.count_in("s3", "PUT " .. loc.bucket .. "/" .. loc.key)
  store.count_in("s3_bytes", loc.bucket .. "/" .. loc.key, body.size)
  common_headers()
  ngx.header["ETag"] = etag
  return util.send(200, "", "application/xml")
end

-- One "bytes=a-b" / "bytes=a-" / "bytes=-n" range: first, last | false (unsatisfiable) | nil (none
-- or a form the simulator ignores, like a multi-range: the whole object is sent).
local function parse_range(h, size)
  if not h then return nil end
  local a, b = h:match("^%s*bytes%s*=%s*(%d*)%s*%-%s*(%d*)%s*$")
  if not a or (a == "" and b == "") then return nil end
  if a == "" then
    local n = tonumber(b)
    if n == 0 or size == 0 then return false end
    return math.max(0, size - n), size - 1
  end
  local first = tonumber(a)
  local last = b ~= "" and tonumber(b) or math.max(first, size - 1)
  if last < first then return nil end        -- syntactically invalid: ignored (RFC 9110)
  if first >= size then return false end
  return first, math.min(last, size - 1)
end

local function get_object(loc, method)
  local path = object_path(loc.bucket, loc.key)
  if not exists(path) then
    return fail(404, "NoSuchKey", "The specified key does not exist.", { { "Key", loc.key } })
  end
  local f = io.open(path, "rb")
  if not f then return fail(404, "NoSuchKey", "The specified key does not exist.", { { "Key", loc.key } }) end
  local size = f:seek("end")
  local meta = read_meta(loc.bucket, loc.key)
  local first, last = parse_range(ngx.var.http_range, size)
  if first == false then
    f:close()
    return fail(416, "InvalidRange", "The requested range is not satisfiable",
      { { "RangeRequested", ngx.var.http_range }, { "ActualObjectSize", size } })
  end
  store.count_in("s3", method .. " " .. loc.bucket .. "/" .. loc.key)
  common_headers()
  ngx.header["Content-Type"] = meta.content_type or "binary/octet-stream"
  ngx.header["Accept-Ranges"] = "bytes"
  if meta.etag then ngx.header["ETag"] = meta.etag end
  if meta.last_modified then ngx.header["Last-Modified"] = ngx.http_time(meta.last_modified) end
  if first then
    ngx.status = 206
    ngx.header["Content-Range"] = ("bytes %d-%d/%d"):format(first, last, size)
  else
    ngx.status = 200
    first, last = 0, size - 1
  end
  ngx.header["Content-Length"] = last - first + 1
  if method == "HEAD" or last < first then
    f:close()
    return ngx.exit(ngx.status)
  end
  f:seek("set", first)
  local left = last - first + 1
  while left > 0 do
    local s = f:read(math.min(CHUNK, left))
    if not s or s == "" then break end
    left = left - #s
    ngx.print(s)
    local ok = ngx.flush(true)
    if not ok then break end
  end
  f:close()
  return ngx.exit(ngx.status)
end

local function delete_object(loc)
  local path = object_path(loc.bucket, loc.key)
  if exists(path) then
    os.remove(path)
    os.remove(meta_path(loc.bucket, loc.key))
  end
  store.count_in("s3", "DELETE " .. loc.bucket .. "/" .. loc.key)
  common_headers()
  ngx.status = 204
  return ngx.exit(204)
end

local function bucket_op(loc, method)
  if method == "PUT" or method == "HEAD" then
    -- buckets are implicit: any valid name exists
    common_headers()
    store.count_in("s3", method .. " " .. loc.bucket)
    return util.send(200, "", "application/xml")
  end
  return fail(501, "NotImplemented", "lua-stt simulator: bucket operations other than PUT and HEAD are not "
    .. "simulated")
end

local METHODS = { GET = true, HEAD = true, PUT = true, DELETE = true }

local function handle()
  ngx.update_time()
  local method = ngx.req.get_method()
  local raw = ngx.var.request_uri
  local raw_path, raw_query = raw:match("^([^?]*)%??(.*)$")
  local loc, err = locate(raw_path)
  if not loc then return nil, err end
  if not METHODS[method] then
    return fail(405, "MethodNotAllowed", "The specified method is not allowed against this resource.",
      { { "Method", method }, { "ResourceType", loc.key == "" and "BUCKET" or "OBJECT" } })
  end
  local cfg = store.config()
  local auth
  auth, err = authenticate(cfg, method, raw_path, raw_query)
  if not auth then return nil, err end
  if loc.key == "" then return bucket_op(loc, method) end
  local ok, kerr = M.check_key(loc.key)
  if not ok then return nil, kerr end
  if auth.payload ~= UNSIGNED and method ~= "PUT" then
    -- the (empty) body of GET / HEAD / DELETE must still match a signed hash
    local body, berr = read_body()
    if not body then return fail(500, "InternalError", tostring(berr)) end
    local pok, perr = check_payload(auth, body)
    if not pok then return nil, perr end
  end
  if method == "PUT" then return put_object(loc, auth) end
  if method == "DELETE" then return delete_object(loc) end
  return get_object(loc, method)
end

-- content_by_lua entry point of `location /s3/`.
function M.serve()
  local ok, err = handle()
  if not ok and err then return send_error(err) end
end

return M
