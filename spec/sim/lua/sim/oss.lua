-- Plays the Alibaba Cloud OSS bucket that holds DashScope result files, reached through
-- pre-signed URLs:  /oss/<bucket>/<object>?Expires=<epoch>&OSSAccessKeyId=..&Signature=..
-- Signature = urlencode(base64(hmac_sha1(secret, "GET\n\n\n<Expires>\n/<bucket>/<object>")))
-- (the OSS V1 query-string signature, with a per-simulator secret).
-- Errors are OSS-shaped XML documents.
-- luacheck: globals ngx
local boot = require "sim.boot"
local store = require "sim.store"
local util = require "sim.util"

local M = {}

M.ACCESS_KEY_ID = "LTAI5tSimulator"
local HOST_ID = "dashscope-result-bj.oss-cn-beijing.aliyuncs.com"

local function oss_request_id()
  local t = {}
  for i = 1, 24 do t[i] = string.format("%X", math.random(0, 15)) end
  return table.concat(t)
end

local function string_to_sign(object, expires)
  return "GET\n\n\n" .. expires .. "\n/" .. object
end

function M.signature(object, expires)
  return ngx.encode_base64(ngx.hmac_sha1(boot.secret or "", string_to_sign(object, expires)))
end

-- Pre-signed URL of an object ("<bucket>/<key>") below base ("http://127.0.0.1:port").
function M.signed_url(base, object, expires)
  expires = math.floor(expires)
  return base .. "/oss/" .. object .. "?Expires=" .. expires .. "&OSSAccessKeyId=" .. M.ACCESS_KEY_ID ..
    "&Signature=" .. ngx.escape_uri(M.signature(object, expires))
end

local function xml_escape(s)
  return (tostring(s):gsub("[<>&\"]", { ["<"] = "&lt;", [">"] = "&gt;", ["&"] = "&amp;", ['"'] = "&quot;" }))
end

function M.error_xml(code, message, extra)
  local rid = oss_request_id()
  local parts = {
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n',
    "  <Code>", xml_escape(code), "</Code>\n",
    "  <Message>", xml_escape(message), "</Message>\n",
    "  <RequestId>", rid, "</RequestId>\n",
    "  <HostId>", HOST_ID, "</HostId>\n",
  }
  for _, kv in ipairs(extra or {}) do
    parts[#parts + 1] = "  <" .. kv[1] .. ">" .. xml_escape(kv[2]) .. "</" .. kv[1] .. ">\n"
  end
  parts[#parts + 1] = "</Error>\n"
  return table.concat(parts), rid
end

local function send_error(status, code, message, extra)
  local body, rid = M.error_xml(code, message, extra)
  ngx.header["x-oss-request-id"] = rid
  ngx.header["Server"] = "AliyunOSS"
  return util.send(status, body, "application/xml")
end

local function iso8601(t)
  return os.date("!%Y-%m-%dT%H:%M:%S.000Z", math.floor(t))
end

local function serve_object(object)
  local method = ngx.req.get_method()
  store.count("result_fetches")
  -- The URL carries its own signature. A client that adds its API key as an Authorization
  -- header would, on real OSS, make OSS verify that header instead (and fail: signature
  -- mismatch / invalid argument). The simulator always refuses it so clients learn not to.
  if ngx.var.http_authorization then
    store.count("result_fetch_auth_rejected")
    return send_error(400, "InvalidArgument", "Authorization header is invalid.",
      { { "ArgumentName", "Authorization" }, { "ArgumentValue", ngx.var.http_authorization:sub(1, 12) .. "..." } })
  end
  local args = ngx.req.get_uri_args()
  local expires, key_id, sig = args.Expires, args.OSSAccessKeyId, args.Signature
  if type(expires) ~= "string" or type(key_id) ~= "string" or type(sig) ~= "string" then
    return send_error(403, "AccessDenied", "You have no right to access this object because of bucket acl.")
  end
  if key_id ~= M.ACCESS_KEY_ID then
    return send_error(403, "InvalidAccessKeyId", "The OSS Access Key Id you provided does not exist in our records.",
      { { "OSSAccessKeyId", key_id } })
  end
  local now = ngx.now()
  local exp = tonumber(expires)
  if not exp or now > exp then
    return send_error(403, "AccessDenied", "Request has expired.",
      { { "Expires", iso8601(exp or 0) }, { "ServerTime", iso8601(now) } })
  end
  if sig ~= M.signature(object, expires) then
    return send_error(403, "SignatureDoesNotMatch",
      "The request signature we calculated does not match the signature you provided. " ..
      "Check your key and signing method.",
      { { "OSSAccessKeyId", key_id }, { "SignatureProvided", sig },
        { "StringToSign", string_to_sign(object, expires) } })
  end
  local body = store.result_get(object)
  if not body then
    return send_error(404, "NoSuchKey", "The specified key does not exist.", { { "Key", object } })
  end
  ngx.header["x-oss-request-id"] = oss_request_id()
  ngx.header["x-oss-object-type"] = "Normal"
  ngx.header["Server"] = "AliyunOSS"
  ngx.header["ETag"] = '"' .. ngx.md5(body):upper() .. '"'
  if method == "HEAD" then
    ngx.header["Content-Type"] = "application/json"
    ngx.header["Content-Length"] = #body
    return ngx.exit(ngx.HTTP_OK)
  end
  return util.send(200, body, "application/json")
end

M.routes = {
  { methods = { GET = true, HEAD = true }, pattern = "^/oss/(.+)$", handler = serve_object },
}

function M.not_found()
  return send_error(404, "NoSuchBucket", "The specified bucket does not exist.")
end

function M.method_not_allowed()
  return send_error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")
end

function M.fault_body(kind)
  if kind == 429 then
    -- simulator-made: OSS throttling answers are not documented (docs/providers.md#oss-errors)
    return (M.error_xml("TooManyRequests", "Too many requests, please slow down.")), "application/xml"
  elseif kind == 500 then
    return (M.error_xml("InternalError", "We encountered an internal error. Please try again.")), "application/xml"
  elseif kind == "truncated" then
    return '{"file_url":"http://127.0.0.1/media/x.wav","properties":{"audio_format":"pcm_s16le","chan'
  end
end

return M
