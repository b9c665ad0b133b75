-- DashScope temporary storage (docs/providers.md#dashscope-temporary-storage, #oss-postobject,
-- #oss-errors): the upload policy and the OSS bucket it names.
--   GET  /dashscope/api/v1/uploads?action=getPolicy&model=M   Bearer key -> {request_id, data:{policy,
--        signature, upload_dir, upload_host, expire_in_seconds, max_file_size_mb, capacity_limit_mb,
--        oss_access_key_id, x_oss_object_acl, x_oss_forbid_overwrite}}; errors in DashScope's
--        {request_id, code, message}
--   POST /oss-upload/<bucket>   OSS PostObject (upload_host = <scheme>://<host>/oss-upload/<bucket>):
--        multipart/form-data, the file last (fields after it are ignored); OSSAccessKeyId, V1
--        Signature = base64(HMAC-SHA1(secret, policy)), the policy's expiration and every condition
--        checked; success_action_status 200 / 201 (XML PostResponse) / else 204; OSS XML errors.
-- The object lands at <media dir>/oss/<key>: what the DashScope simulator reads for oss://<key>
-- when a submit carries X-DashScope-OssResourceResolve: enable. Bodies of any size are streamed
-- from nginx's temp file (never whole in Lua memory).
-- Config: upload_max_mb (100), upload_min_bytes (0), upload_policy_ttl_s (300; negative = an
-- already expired policy), upload_bucket, upload_base_url, rate_limit.upload_policy.
-- luacheck: globals ngx
local boot = require "sim.boot"
local crypto = require "sim.crypto"
local s3 = require "sim.s3"
local store = require "sim.store"
local util = require "sim.util"

local M = {}

M.ACCESS_KEY_ID = "LTAI5tSimulatorUpload"
M.BUCKET = "dashscope-file-sim"
local CHUNK = 1024 * 1024
local CAPACITY_LIMIT_MB = 999999999

-- The PostObject secret: derived from the per-simulator secret (simctl writes it into nginx.conf).
function M.secret()
  return "sim-upload-" .. (boot.secret or "")
end

function M.sign(policy_b64)
  return crypto.base64(crypto.hmac_sha1(M.secret(), policy_b64))
end

local function iso8601(t)
  return os.date("!%Y-%m-%dT%H:%M:%S.000Z", math.floor(t))
end

local function parse_iso8601(s)
  if type(s) ~= "string" then return nil end
  local y, mo, d, h, mi, sec = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)T(%d%d):(%d%d):(%d%d)%.?%d*Z$")
  if not y then return nil end
  return s3.timegm(tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi), tonumber(sec))
end

---------------------------------------------------------------------------- the policy (DashScope)

local function ds_error(status, code, message)
  return util.send_json(status, { request_id = util.uuid(), code = code, message = message })
end

local function max_bytes(cfg)
  local mb = tonumber(cfg.upload_max_mb) or 100
  return mb, math.floor(mb * 1048576)
end

function M.serve_policy()
  if ngx.req.get_method() ~= "GET" then
    return ds_error(405, "MethodNotAllowed", "Method " .. ngx.req.get_method() .. " is not allowed here.")
  end
  local cfg = store.config()
  local h = ngx.var.http_authorization
  local key = h and h:match("^%s*[Bb]earer%s+(%S+)%s*$")
  local known = false
  for _, k in ipairs(cfg.keys or {}) do if k == key then known = true end end
  if not known then return ds_error(401, "InvalidApiKey", "Invalid API-key provided.") end
  local args = ngx.req.get_uri_args()
  if args.action ~= "getPolicy" then
    return ds_error(400, "InvalidParameter", "action must be getPolicy")
  end
  local model = args.model
  if type(model) ~= "string" or model == "" then
    return ds_error(400, "InvalidParameter", "model is required")
  end
  local limit = type(cfg.rate_limit) == "table" and tonumber(cfg.rate_limit.upload_policy)
  if limit and store.rate_count("dashscope_upload:" .. key .. ":" .. model) > limit then
    ngx.header["Retry-After"] = "1"
    return ds_error(429, "Throttling.RateQuota", "Requests rate limit exceeded, please try again later.")
  end
  ngx.update_time()
  local now = ngx.now()
  local ttl = tonumber(cfg.upload_policy_ttl_s) or 300
  local mb, max = max_bytes(cfg)
  local bucket = type(cfg.upload_bucket) == "string" and cfg.upload_bucket or M.BUCKET
  local dir = "dashscope-instant/" .. ngx.md5(key) .. "/" .. os.date("!%Y-%m-%d", math.floor(now)) .. "/"
    .. util.uuid()
  local doc = {
    expiration = iso8601(now + ttl),
    conditions = {
      { bucket = bucket },
      { "starts-with", "$key", dir },
      { "content-length-range", tonumber(cfg.upload_min_bytes) or 0, max },
      { ["x-oss-object-acl"] = "private" },
      { ["x-oss-forbid-overwrite"] = "true" },
    },
  }
  local policy = crypto.base64(util.json(doc))
  local base = type(cfg.upload_base_url) == "string" and cfg.upload_base_url:gsub("/+$", "")
    or (ngx.var.scheme .. "://" .. (ngx.var.http_host or ("127.0.0.1:" .. ngx.var.server_port)))
  store.count_in("upload_policies", model)
  return util.send_json(200, {
    request_id = util.uuid(),
    data = {
      policy = policy,
      signature = M.sign(policy),
      upload_dir = dir,
      upload_host = base .. "/oss-upload/" .. bucket,
      expire_in_seconds = ttl,
      max_file_size_mb = mb,
      capacity_limit_mb = CAPACITY_LIMIT_MB,
      oss_access_key_id = M.ACCESS_KEY_ID,
      x_oss_object_acl = "private",
      x_oss_forbid_overwrite = "true",
    },
  })
end

---------------------------------------------------------------------------- OSS errors

-- EC values: those documented for PostObject (0006-00000003/4 size, 0006-00000117 forbid-overwrite
-- value, 0006-00000207/208/209 policy fields, 0006-00000216 match mode, 0006-00000224 condition
-- type); the others are the simulator's own (OSS says not to branch on EC).
local function oss_request_id()
  local t = {}
  for i = 1, 24 do t[i] = string.format("%X", math.random(0, 15)) end
  return table.concat(t)
end

local function error_xml(code, message, ec, extra, bucket)
  local rid = oss_request_id()
  local esc = s3.xml_escape
  local parts = {
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n',
    "  <Code>", esc(code), "</Code>\n",
    "  <Message>", esc(message), "</Message>\n",
    "  <RequestId>", rid, "</RequestId>\n",
    "  <HostId>", esc((bucket or M.BUCKET) .. ".oss-cn-beijing.aliyuncs.com"), "</HostId>\n",
  }
  for _, kv in ipairs(extra or {}) do
    parts[#parts + 1] = "  <" .. kv[1] .. ">" .. esc(kv[2]) .. "</" .. kv[1] .. ">\n"
  end
  parts[#parts + 1] = "  <EC>" .. ec .. "</EC>\n"
  parts[#parts + 1] = "  <RecommendDoc>https://api.aliyun.com/troubleshoot?q=" .. ec .. "</RecommendDoc>\n"
  parts[#parts + 1] = "</Error>\n"
  return table.concat(parts), rid
end

local function fail(status, code, message, ec, extra)
  return nil, { status = status, code = code, message = message, ec = ec, extra = extra }
end

local function send_error(e, bucket)
  if not ngx.ctx.oss_body_read then ngx.req.discard_body() end
  store.count_in("upload_errors", e.code)
  local body, rid = error_xml(e.code, e.message, e.ec or "0000-00000000", e.extra, bucket)
  ngx.header["x-oss-request-id"] = rid
  ngx.header["x-oss-ec"] = e.ec or "0000-00000000"
  ngx.header["Server"] = "AliyunOSS"
  return util.send(e.status, body, "application/xml")
end

function M.fault_body(kind)
  if kind == 429 then
    -- simulator-made: OSS throttling answers are not documented (docs/providers.md#oss-errors)
    return (error_xml("TooManyRequests", "Too many requests, please slow down.", "0000-00000429")), "application/xml"
  elseif kind == 500 then
    return (error_xml("InternalError", "We encountered an internal error. Please try again.", "0000-00000500")),
      "application/xml"
  elseif kind == "truncated" then
    return '<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n  <Code>Inter'
  end
end

local function malformed()
  return fail(400, "MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data.",
    "0006-00000001")
end

---------------------------------------------------------------------------- multipart reader

-- The request body as a chunk source: nginx's buffer, or its temp file read 1 MiB at a time
-- (-> source, the temp file's path or nil).
local function body_source()
  ngx.req.read_body()
  ngx.ctx.oss_body_read = true
  local data = ngx.req.get_body_data()
  if data then
    local done = false
    return function()
      if done then return nil end
      done = true
      return data
    end
  end
  local path = ngx.req.get_body_file()
  local f = path and io.open(path, "rb")
  if not f then return function() return nil end end
  return function()
    local s = f and f:read(CHUNK)
    if not s and f then f:close(); f = nil end
    return s
  end, path
end

local Reader = {}
Reader.__index = Reader

-- buf: bytes read; i: the first one not consumed yet; pos: its offset in the body. Consuming
-- moves i only (no copies of the buffer: a spooled body's first chunk is 1 MiB).
local function reader(src, boundary)
  return setmetatable({ src = src, buf = "", i = 1, pos = 0, eof = false, boundary = boundary }, Reader)
end

function Reader:left() return #self.buf - self.i + 1 end

function Reader:consume(n)
  self.i = self.i + n
  self.pos = self.pos + n
end

function Reader:more()
  if self.eof then return false end
  local s = self.src()
  if not s or s == "" then self.eof = true; return false end
  self.buf = (self.i > 1 and self.buf:sub(self.i) or self.buf) .. s
  self.i = 1
  return true
end

function Reader:need(n)
  while self:left() < n do
    if not self:more() then return false end
  end
  return true
end

-- The bytes before `delim` (consumed with it), or nil when it is not within `limit` bytes.
function Reader:upto(delim, limit)
  local skip = 0    -- bytes already searched
  while true do
    local at = self.buf:find(delim, self.i + skip, true)
    if at then
      local out = self.buf:sub(self.i, at - 1)
      self:consume(at - self.i + #delim)
      return out
    end
    if self:left() > limit then return nil end
    skip = math.max(0, self:left() - #delim + 1)
    if not self:more() then return nil end
  end
end

-- After a delimiter: "\r\n" (a part follows) -> "part", "--" (the end) -> "end", else nil.
function Reader:after_delimiter()
  if not self:need(2) then return nil end
  local two = self.buf:sub(self.i, self.i + 1)
  self:consume(2)
  if two == "\r\n" then return "part" end
  if two == "--" then return "end" end
  return nil
end

-- Stream the current part's data to sink(s) up to the next delimiter; -> what follows it | nil.
function Reader:stream(sink)
  local delim = "\r\n--" .. self.boundary
  local keep = #delim - 1
  local chunks = 0
  while true do
    local at = self.buf:find(delim, self.i, true)
    if at then
      sink(self.buf:sub(self.i, at - 1))
      self:consume(at - self.i + #delim)
      return self:after_delimiter()
    end
    local n = self:left() - keep
    if n > 0 then
      sink(self.buf:sub(self.i, self.i + n - 1))
      self:consume(n)
    end
    chunks = chunks + 1
    if chunks % 16 == 0 then ngx.sleep(0.001) end
    if not self:more() then return nil end
  end
end

local function parse_disposition(h)
  local name = h:match('[;%s]name="([^"]*)"') or h:match("[;%s]name=([^;%s]+)")
  local filename = h:match('[;%s]filename="([^"]*)"') or h:match("[;%s]filename=([^;%s]+)")
  return name, filename
end

-- Fields up to the file part: fields (lower-case names), the file part's info; the reader then
-- stands at the first byte of the file. -> fields, file | nil, err
local function read_fields(r)
  local first = r:upto("--" .. r.boundary, 65536)
  if not first or (first ~= "" and first:sub(-2) ~= "\r\n") then return malformed() end
  local fields = {}
  local state = r:after_delimiter()
  while state == "part" do
    local head = r:upto("\r\n\r\n", 16384)
    if not head then return malformed() end
    local name, filename, ctype
    for line in (head .. "\r\n"):gmatch("(.-)\r\n") do
      local k, v = line:match("^([^:]+):%s*(.-)%s*$")
      if k and k:lower() == "content-disposition" then name, filename = parse_disposition(v)
      elseif k and k:lower() == "content-type" then ctype = v end
    end
    if not name then return malformed() end
    if name:lower() == "file" then
      return fields, { filename = filename, content_type = ctype }
    end
    local value = r:upto("\r\n--" .. r.boundary, 1048576)
    if not value then return malformed() end
    fields[name:lower()] = value
    state = r:after_delimiter()
  end
  if state == nil then return malformed() end
  return fields, nil
end

---------------------------------------------------------------------------- policy checks

local function cond_text(c)
  local parts = {}
  for i, v in ipairs(c) do
    parts[i] = type(v) == "string" and ('"' .. v .. '"') or tostring(v)
  end
  return "[" .. table.concat(parts, ", ") .. "]"
end

local function condition_failed(c)
  return fail(403, "AccessDenied", "Invalid according to Policy: Policy Condition failed: " .. cond_text(c),
    "0006-00000005")
end

local function invalid_policy(msg, ec)
  return fail(400, "InvalidPolicyDocument", "Invalid Policy: " .. msg, ec or "0006-00000206")
end

-- Check the decoded policy against the form; -> { min, max } (content-length-range) | nil, err
local function check_conditions(doc, fields, bucket)
  local function value_of(name)
    name = tostring(name):gsub("^%$", ""):lower()
    if name == "bucket" then return bucket end
    return fields[name]
  end
  local range = {}
  for _, c in ipairs(doc.conditions) do
    if type(c) ~= "table" then return invalid_policy("Invalid Condition: must be an array or an object.") end
    if c[1] == nil then
      local n, k1, v1 = 0, nil, nil
      for k, v in pairs(c) do n, k1, v1 = n + 1, k, v end
      if n ~= 1 then
        return invalid_policy("Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.")
      end
      if value_of(k1) ~= tostring(v1) then
        return fail(403, "AccessDenied", ('Invalid according to Policy: Policy Condition failed: ["eq", "$%s", "%s"]')
          :format(k1, tostring(v1)), "0006-00000005")
      end
    else
      local op = type(c[1]) == "string" and c[1]:lower() or ""
      if op == "content-length-range" then
        local lo, hi = tonumber(c[2]), tonumber(c[3])
        if not lo or not hi or lo < 0 or hi < lo then
          return invalid_policy("Invalid content-length-range: min and max must be integers, max >= min.",
            "0006-00000224")
        end
        range = { lo, hi }
      elseif op == "eq" or op == "starts-with" then
        if #c ~= 3 or type(c[3]) ~= "string" then
          return invalid_policy("Invalid Condition: " .. op .. " takes a field and a string.", "0006-00000224")
        end
        local v = value_of(c[2])
        if v == nil or (op == "eq" and v ~= c[3]) or (op == "starts-with" and v:sub(1, #c[3]) ~= c[3]) then
          return condition_failed(c)
        end
      elseif op == "in" or op == "not-in" then
        if type(c[3]) ~= "table" then
          return invalid_policy("Invalid Condition: " .. op .. " takes a list.", "0006-00000224")
        end
        local v, found = value_of(c[2]), false
        for _, x in ipairs(c[3]) do if x == v then found = true end end
        if (op == "in") ~= found then
          return fail(403, "AccessDenied", "Invalid according to Policy: Policy Condition failed: [\"" .. op
            .. "\", \"" .. tostring(c[2]) .. "\", ...]", "0006-00000005")
        end
      else
        return invalid_policy("Invalid Condition: unknown match mode \"" .. tostring(c[1]) .. "\".", "0006-00000216")
      end
    end
  end
  return range
end

local ACLS = { private = true, ["public-read"] = true, ["public-read-write"] = true, default = true }

-- Everything but the file: key, credentials, signature, policy. -> key, range | nil, err
local function authorize(fields, bucket)
  local key = fields.key
  if not key or key == "" then
    return fail(400, "InvalidArgument", "Bucket POST must contain a field named 'key'. If it is specified, please "
      .. "check the order of the fields.", "0006-00000101")
  end
  local ok, kerr = s3.check_key(key)
  if not ok then kerr.ec = "0006-00000102"; return nil, kerr end
  local akid, sig, policy = fields.ossaccesskeyid, fields.signature, fields.policy
  if not akid and not sig and not policy then
    return fail(403, "AccessDenied", "You have no right to access this object because of bucket acl.",
      "0003-00000001")
  end
  if not akid or not sig or not policy then
    return fail(400, "InvalidArgument", "OSSAccessKeyId, Signature and policy must all be present.",
      "0006-00000103")
  end
  if akid ~= M.ACCESS_KEY_ID then
    return fail(403, "InvalidAccessKeyId", "The OSS Access Key Id you provided does not exist in our records.",
      "0002-00000902", { { "OSSAccessKeyId", akid } })
  end
  if sig ~= M.sign(policy) then
    return fail(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature "
      .. "you provided. Check your key and signing method.", "0002-00000040",
      { { "OSSAccessKeyId", akid }, { "SignatureProvided", sig }, { "StringToSign", policy } })
  end
  local json = crypto.unbase64(policy)
  local doc = json and util.decode(json)
  if type(doc) ~= "table" then return invalid_policy("Invalid JSON.", "0006-00000206") end
  if doc.expiration == nil and doc.conditions == nil then
    return invalid_policy("Policy has no expiration and no conditions.", "0006-00000209")
  end
  if doc.conditions == nil then return invalid_policy("Policy has no conditions.", "0006-00000207") end
  if doc.expiration == nil then return invalid_policy("Policy has no expiration.", "0006-00000208") end
  local exp = parse_iso8601(doc.expiration)
  if not exp then return invalid_policy("Invalid expiration: not ISO 8601 GMT.", "0006-00000210") end
  if type(doc.conditions) ~= "table" then return invalid_policy("conditions must be an array.", "0006-00000207") end
  ngx.update_time()
  if ngx.now() > exp then
    return fail(403, "AccessDenied", "Invalid according to Policy: Policy expired.", "0006-00000006")
  end
  local range, cerr = check_conditions(doc, fields, bucket)
  if not range then return nil, cerr end
  local acl = fields["x-oss-object-acl"]
  if acl and not ACLS[acl] then
    return fail(400, "InvalidArgument", "no such bucket access control exists", "0006-00000116",
      { { "ArgumentName", "x-oss-object-acl" }, { "ArgumentValue", acl } })
  end
  local fo = fields["x-oss-forbid-overwrite"]
  if fo and fo:lower() ~= "true" and fo:lower() ~= "false" then
    return fail(400, "InvalidArgument", "Invalid x-oss-forbid-overwrite header value.", "0006-00000117",
      { { "ArgumentName", "x-oss-forbid-overwrite" }, { "ArgumentValue", fo } })
  end
  return key, range
end

---------------------------------------------------------------------------- PostObject

local function object_path(key) return boot.media_dir .. "/oss/" .. key end

local function already_exists()
  return fail(409, "FileAlreadyExists", "The object you specified already exists and can not be overwritten.",
    "0026-00000002")
end

local function post(bucket)
  local ctype = ngx.var.http_content_type or ""
  if not ctype:lower():match("^%s*multipart/form%-data") then return malformed() end
  local boundary = ctype:match('[Bb]oundary="([^"]+)"') or ctype:match("[Bb]oundary=([^;%s]+)")
  if not boundary then return malformed() end
  local src, body_file = body_source()
  local r = reader(src, boundary)
  local fields, file = read_fields(r)
  if not fields then return nil, file end
  local key, range = authorize(fields, bucket)
  if not key then return nil, range end
  if not file then
    return fail(400, "InvalidArgument", "POST requires exactly one file upload per request.", "0006-00000104")
  end
  local forbid = (fields["x-oss-forbid-overwrite"] or "false"):lower() == "true"
  local dest = object_path(key)
  if forbid and s3.exists(dest) then return already_exists() end
  -- stream the file part into a temporary file beside the objects
  local tmpdir = boot.media_dir .. "/oss"
  local ok, merr = crypto.mkdir_p(tmpdir)
  if not ok then return fail(500, "InternalError", "lua-stt simulator: " .. tostring(merr), "0000-00000500") end
  local tmp = tmpdir .. "/.sim-upload-" .. ngx.md5(key .. ngx.now() .. math.random())
  local out = io.open(tmp, "wb")
  if not out then return fail(500, "InternalError", "lua-stt simulator: cannot write " .. tmp, "0000-00000500") end
  local max = range[2]
  local sum, state, werr
  if body_file then
    -- a spooled body: C copies the part's bytes from nginx's temp file (fast for 1 GB)
    out:close()
    local delim = "\r\n--" .. boundary
    local c, cerr = crypto.copy_until(body_file, r.pos, delim, tmp, max,
      { yield = function() ngx.sleep(0.001) end })
    if c then
      sum = c
      local f = io.open(body_file, "rb")
      f:seek("set", c.stop + #delim)
      local two = f:read(2)
      f:close()
      state = (two == "--" and "end") or (two == "\r\n" and "part") or nil
    elseif cerr ~= "no closing delimiter" then
      werr = cerr
    end
  else
    local d = crypto.digester(true)
    local size = 0
    state = r:stream(function(s)
      d:update(s)
      size = size + #s
      -- past the maximum the bytes are only counted (the answer is EntityTooLarge)
      if (not max or size <= max) and not werr then
        local wok, e = out:write(s)
        if not wok then werr = e end
      end
    end)
    out:close()
    sum = d:final()
  end
  if state == nil or werr then
    os.remove(tmp)
    if werr then return fail(500, "InternalError", "lua-stt simulator: " .. tostring(werr), "0000-00000500") end
    return malformed()
  end
  if max and sum.size > max then
    os.remove(tmp)
    return fail(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.", "0006-00000003",
      { { "ProposedSize", sum.size }, { "MaxSizeAllowed", max } })
  end
  if range[1] and sum.size < range[1] then
    os.remove(tmp)
    return fail(400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size.",
      "0006-00000004", { { "ProposedSize", sum.size }, { "MinSizeAllowed", range[1] } })
  end
  -- no yield from this check to the rename: another upload of the key cannot slip in between
  if forbid and s3.exists(dest) then os.remove(tmp); return already_exists() end
  local iok, ierr = s3.install(dest, { src = tmp })
  if not iok then
    os.remove(tmp)
    return fail(400, "InvalidArgument", "lua-stt simulator: cannot store " .. key .. ": " .. tostring(ierr),
      "0006-00000102")
  end
  store.count_in("uploads", key)
  local etag = '"' .. sum.md5:upper() .. '"'
  ngx.header["x-oss-request-id"] = oss_request_id()
  ngx.header["ETag"] = etag
  ngx.header["Server"] = "AliyunOSS"
  local status = fields.success_action_status
  if status == "201" then
    local host = ngx.var.scheme .. "://" .. (ngx.var.http_host or "127.0.0.1")
    return util.send(201, table.concat({ '<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse>\n',
      "  <Bucket>", s3.xml_escape(bucket), "</Bucket>\n",
      "  <Location>", s3.xml_escape(host .. "/oss-upload/" .. bucket .. "/" .. key), "</Location>\n",
      "  <Key>", s3.xml_escape(key), "</Key>\n",
      "  <ETag>", s3.xml_escape(etag), "</ETag>\n",
      "</PostResponse>\n" }), "application/xml")
  end
  if status == "200" then return util.send(200, "", "application/xml") end
  ngx.status = 204
  return ngx.exit(204)
end

-- content_by_lua entry point of `location /oss-upload/`: POST /oss-upload/<bucket>[/].
function M.serve_post()
  local bucket = ngx.var.uri:match("^/oss%-upload/([^/]+)/?$")
  if not bucket then
    return send_error({ status = 404, code = "NoSuchBucket", message = "The specified bucket does not exist.",
      ec = "0015-00000101" })
  end
  if ngx.req.get_method() ~= "POST" then
    return send_error({ status = 405, code = "MethodNotAllowed",
      message = "The specified method is not allowed against this resource.", ec = "0000-00000405" }, bucket)
  end
  local ok, err = post(bucket)
  if not ok and err then return send_error(err, bucket) end
end

return M
