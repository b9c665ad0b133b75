-- The simulator's object storage (spec/sim/lua/sim/s3.lua, oss_upload.lua): the S3-compatible
-- store under /s3/ (AWS SigV4, header and query auth) and DashScope's temporary storage (the
-- getPolicy answer and the OSS PostObject bucket). Its own simulator instance, driven with the curl
-- command-line tool. Requests are signed three independent ways: curl's own --aws-sigv4, lua-stt's
-- signer (stt.s3) and openssl (the PostObject HMAC-SHA1); the simulator verifies with its own code.
local H = require "helper"
local curl_tool = require "curl_tool"
local cjson = require "cjson"
local stt_s3 = require "stt.s3"

local HERE = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".")
local SIMCTL = HERE .. "/../simctl"

local KEY = "sk-sim-valid-key-0001"
local AK, SK = "AKIDSIMEXAMPLE0001", "sim-secret-0001"
local REGION = "us-east-1"
local TOKEN = "sim-session-token"

local dir, url, port, work

---------------------------------------------------------------------------- shell helpers

local q, popen = H.sh_quote, H.popen

local function sh(cmd)
  local p = assert(popen("{ " .. cmd .. "; } 2>/dev/null; printf '\\n%d' $?"))
  local out = p:read("*a")
  p:close()
  local body, code = out:match("^(.*)\n(%d+)$")
  return body, tonumber(code)
end

local slurp, spit = H.read, H.write

local function sha256_file(path)
  return (sh("sha256sum " .. q(path)):match("^(%x+)"))
end

local function md5_file(path)
  return (sh("md5sum " .. q(path)):match("^(%x+)"))
end

local function sha256(s)
  local p = work .. "/hash.in"
  spit(p, s)
  return sha256_file(p)
end

-- curl -> { status, headers (lower-case), body, rc, stderr }; paths are sent as written
local function http(target, opts)
  opts = opts or {}
  opts.path_as_is = true
  return curl_tool.http(target, opts)
end

local function decode(s)
  local ok, v = pcall(cjson.decode, s)
  return ok and v or nil
end

local function control(method, path, tbl)
  local r = http(url .. path, { method = method, body = tbl and cjson.encode(tbl),
    headers = tbl and { "Content-Type: application/json" } or nil })
  return decode(r.body), r
end
local function config(t) return control("POST", "/_sim/config", t) end
local function stats() return (control("GET", "/_sim/stats")) end

local function xml(body, tag)
  tag = tag:gsub("%-", "%%-")
  return body:match("<" .. tag .. ">(.-)</" .. tag .. ">")
end

local function unxml(s)
  return (s:gsub("&lt;", "<"):gsub("&gt;", ">"):gsub("&quot;", '"'):gsub("&apos;", "'"):gsub("&amp;", "&"))
end

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function unbase64(s)
  local out, acc, nbits = {}, 0, 0
  for c in s:gsub("=", ""):gmatch(".") do
    acc = acc * 64 + (B64:find(c, 1, true) - 1)
    nbits = nbits + 6
    if nbits >= 8 then
      nbits = nbits - 8
      local byte = math.floor(acc / 2 ^ nbits)
      out[#out + 1] = string.char(byte)
      acc = acc - byte * 2 ^ nbits
    end
  end
  return table.concat(out)
end

local function le(v, bytes)
  local t = {}
  for i = 1, bytes do t[i] = string.char(v % 256); v = math.floor(v / 256) end
  return table.concat(t)
end

-- A 16 kHz mono 16-bit WAV of silence, `seconds` long, at `path`.
local function wav_file(path, seconds)
  local n = math.floor(16000 * seconds) * 2
  spit(path, "RIFF" .. le(36 + n, 4) .. "WAVE" .. "fmt " .. le(16, 4) .. le(1, 2) .. le(1, 2) .. le(16000, 4)
    .. le(32000, 4) .. le(2, 2) .. le(16, 2) .. "data" .. le(n, 4) .. string.rep("\0", n))
  return path
end

local function random_file(path, bytes)
  assert(select(2, sh("head -c " .. bytes .. " /dev/urandom > " .. q(path))) == 0)
  return path
end

---------------------------------------------------------------------------- S3 helpers

local function path_url(bucket, key) return url .. "/s3/" .. bucket .. "/" .. key end
local function vhost_url(bucket, key) return "http://" .. bucket .. ".localhost:" .. port .. "/s3/" .. key end

-- Header-signed request with lua-stt's signer: -> http() result. o: method, url (key unencoded),
-- payload_hash, file, secret_key, access_key, session_token, time, region, headers
local function signed(o)
  local s = assert(stt_s3.sign({ method = o.method or "GET", url = o.url, region = o.region or REGION,
    access_key = o.access_key or AK, secret_key = o.secret_key or SK, session_token = o.session_token,
    payload_hash = o.payload_hash, time = o.time, headers = o.headers }))
  local hs = {}
  for _, h in ipairs(s.headers) do hs[#hs + 1] = h[1] .. ": " .. h[2] end
  if o.edit then hs = o.edit(hs) end
  local origin = o.url:match("^(%a+://[^/]+)")
  return http(origin .. s.path, { method = o.method, headers = hs, file = o.file })
end

local function presign(o)
  return assert(stt_s3.presign({ method = o.method or "GET", url = o.url, region = o.region or REGION,
    access_key = o.access_key or AK, secret_key = o.secret_key or SK, session_token = o.session_token,
    expires = o.expires or 600, time = o.time }))
end

-- PUT a file with curl's own SigV4 (7.88: we pass x-amz-content-sha256 ourselves).
local function curl_put(target, file, opts)
  opts = opts or {}
  local hs = { "x-amz-content-sha256: " .. (opts.hash or sha256_file(file)) }
  for _, h in ipairs(opts.headers or {}) do hs[#hs + 1] = h end
  return http(target, { file = file, headers = hs,
    extra = "--aws-sigv4 " .. q("aws:amz:" .. (opts.region or REGION) .. ":s3") .. " --user "
      .. q((opts.access_key or AK) .. ":" .. (opts.secret_key or SK)) })
end

---------------------------------------------------------------------------- PostObject helpers

local function policy(model, key)
  local r = http(url .. "/dashscope/api/v1/uploads?action=getPolicy&model=" .. (model or "qwen-audio-turbo"),
    { headers = { "Authorization: Bearer " .. (key or KEY), "Content-Type: application/json" } })
  return decode(r.body), r
end

-- The SDKs' form: OSSAccessKeyId, Signature, policy, key, x-oss-object-acl, x-oss-forbid-overwrite,
-- success_action_status, x-oss-content-type, then file. o: data (the policy's data), file, key,
-- over = { field = value | false }, after = { {name, value} } (fields after the file)
local function post_form(o)
  local d = o.data
  local fields = {
    { "OSSAccessKeyId", d.oss_access_key_id }, { "Signature", d.signature }, { "policy", d.policy },
    { "key", o.key }, { "x-oss-object-acl", d.x_oss_object_acl },
    { "x-oss-forbid-overwrite", d.x_oss_forbid_overwrite }, { "success_action_status", "200" },
    { "x-oss-content-type", "audio/wav" },
  }
  local args = {}
  for _, f in ipairs(fields) do
    local v = f[2]
    if o.over and o.over[f[1]] ~= nil then v = o.over[f[1]] end
    if v then args[#args + 1] = "--form-string " .. q(f[1] .. "=" .. v) end
  end
  if o.file then args[#args + 1] = "-F " .. q("file=@" .. o.file .. ";type=audio/wav") end
  for _, f in ipairs(o.after or {}) do args[#args + 1] = "--form-string " .. q(f[1] .. "=" .. f[2]) end
  return http(o.host or d.upload_host, { extra = table.concat(args, " "), headers = o.headers })
end

local function oss_path(key) return dir .. "/media/oss/" .. key end

---------------------------------------------------------------------------- spec

describe("simulator object storage", function()
  setup(function()
    dir = os.tmpname()
    os.remove(dir)
    local out, code = sh("bash " .. q(SIMCTL) .. " start " .. q(dir))
    assert(code == 0, "simctl start failed: " .. out)
    url = out:match("STT_SIM_URL=(%S+)")
    port = url:match(":(%d+)$")
    work = dir .. "/work"
    sh("mkdir -p " .. q(work))
  end)

  teardown(function()
    if dir then
      sh("bash " .. q(SIMCTL) .. " stop " .. q(dir))
      sh("rm -rf " .. q(dir))
    end
  end)

  before_each(function()
    control("POST", "/_sim/reset")
    config({ queue_ms = 0, rtf = 0, min_run_ms = 0 })
  end)

  describe("S3-compatible store", function()
    it("takes a PUT signed by curl's own SigV4 and serves it back (GET, HEAD, Range)", function()
      local f = work .. "/hello.txt"
      spit(f, "Welcome to Amazon S3.")
      local r = curl_put(path_url("bkt-one", "a/hello.txt"), f, { headers = { "Content-Type: text/plain" } })
      assert.are.equal(200, r.status, r.body)
      assert.are.equal("", r.body)
      assert.are.equal('"' .. md5_file(f) .. '"', r.headers.etag)
      assert.truthy(r.headers["x-amz-request-id"])
      assert.are.equal("Welcome to Amazon S3.", slurp(dir .. "/media/s3/bkt-one/a/hello.txt"))

      local g = http(presign({ url = path_url("bkt-one", "a/hello.txt") }))
      assert.are.equal(200, g.status, g.body)
      assert.are.equal("Welcome to Amazon S3.", g.body)
      assert.are.equal("text/plain", g.headers["content-type"])
      assert.are.equal('"' .. md5_file(f) .. '"', g.headers.etag)

      local h = http(presign({ method = "HEAD", url = path_url("bkt-one", "a/hello.txt") }), { extra = "-I" })
      assert.are.equal(200, h.status)
      assert.are.equal("21", h.headers["content-length"])

      local part = signed({ url = path_url("bkt-one", "a/hello.txt"), payload_hash = sha256(""),
        headers = { { "Range", "bytes=0-6" } } })
      assert.are.equal(206, part.status, part.body)
      assert.are.equal("Welcome", part.body)
      assert.are.equal("bytes 0-6/21", part.headers["content-range"])
      local bad = signed({ url = path_url("bkt-one", "a/hello.txt"), payload_hash = sha256(""),
        headers = { { "Range", "bytes=100-" } } })
      assert.are.equal(416, bad.status)
      assert.are.equal("InvalidRange", xml(bad.body, "Code"))

      local s = stats()
      assert.are.equal(1, s.s3["PUT bkt-one/a/hello.txt"])
      assert.are.equal(2, s.s3["GET bkt-one/a/hello.txt"])   -- answered; errors count apart
      assert.are.equal(1, s.s3_errors.InvalidRange)
      assert.are.equal(1, s.s3["HEAD bkt-one/a/hello.txt"])
      assert.are.equal(21, s.s3_bytes["bkt-one/a/hello.txt"])
    end)

    it("keeps a key with spaces, '+' and Chinese characters (virtual host, lua-stt's signer)", function()
      local f = wav_file(work .. "/zh.wav", 0.2)
      local key = "录音 2024/你好 world+1.wav"
      local r = signed({ method = "PUT", url = vhost_url("vbucket", key), file = f, payload_hash = sha256_file(f),
        headers = { { "Content-Type", "audio/wav" } } })
      assert.are.equal(200, r.status, r.body)
      assert.are.equal(sha256_file(f), sha256_file(dir .. "/media/s3/vbucket/" .. key))
      -- the raw path really was percent-encoded on the wire
      assert.are.equal(1, stats().s3["PUT vbucket/" .. key])

      local g = http(presign({ url = vhost_url("vbucket", key) }))
      assert.are.equal(200, g.status, g.body)
      assert.are.equal(slurp(f), g.body)
      assert.are.equal("audio/wav", g.headers["content-type"])
      -- the same object, path style
      g = http(presign({ url = path_url("vbucket", key) }))
      assert.are.equal(200, g.status, g.body)
      assert.are.equal(slurp(f), g.body)
    end)

    it("accepts UNSIGNED-PAYLOAD", function()
      local f = work .. "/u.bin"
      spit(f, "unsigned body")
      local r = signed({ method = "PUT", url = path_url("bkt-one", "u.bin"), file = f,
        payload_hash = "UNSIGNED-PAYLOAD" })
      assert.are.equal(200, r.status, r.body)
      assert.are.equal("unsigned body", slurp(dir .. "/media/s3/bkt-one/u.bin"))
      r = curl_put(path_url("bkt-one", "u2.bin"), f, { hash = "UNSIGNED-PAYLOAD" })
      assert.are.equal(200, r.status, r.body)
      -- an unsigned body is still checked against a Content-MD5
      local md5 = sh("openssl dgst -md5 -binary " .. q(f) .. " | base64"):gsub("%s+$", "")
      r = curl_put(path_url("bkt-one", "u3.bin"), f, { hash = "UNSIGNED-PAYLOAD",
        headers = { "Content-MD5: " .. md5 } })
      assert.are.equal(200, r.status, r.body)
      r = curl_put(path_url("bkt-one", "u4.bin"), f, { hash = "UNSIGNED-PAYLOAD",
        headers = { "Content-MD5: 1B2M2Y8AsgTpgAmY7PhCfg==" } })
      assert.are.equal(400, r.status)
      assert.are.equal("BadDigest", xml(r.body, "Code"))
      assert.is_nil(slurp(dir .. "/media/s3/bkt-one/u4.bin"))
    end)

    it("refuses a body whose SHA-256 is not the signed x-amz-content-sha256 (400 XAmzContentSHA256Mismatch)", function()
      local f = work .. "/m.bin"
      spit(f, "the real body")
      local claimed = sha256("another body")
      local r = signed({ method = "PUT", url = path_url("bkt-one", "m.bin"), file = f, payload_hash = claimed })
      assert.are.equal(400, r.status)
      assert.are.equal("application/xml", r.headers["content-type"])
      assert.are.equal("XAmzContentSHA256Mismatch", xml(r.body, "Code"))
      assert.are.equal(claimed, xml(r.body, "ClientComputedContentSHA256"))
      assert.are.equal(sha256_file(f), xml(r.body, "S3ComputedContentSHA256"))
      assert.truthy(xml(r.body, "RequestId"))
      assert.truthy(xml(r.body, "HostId"))
      assert.is_nil(slurp(dir .. "/media/s3/bkt-one/m.bin"))
      -- curl's SigV4 with a wrong hash: the same
      r = curl_put(path_url("bkt-one", "m.bin"), f, { hash = claimed })
      assert.are.equal("XAmzContentSHA256Mismatch", xml(r.body, "Code"))
    end)

    it("hashes and stores a large (spooled) body from nginx's temp file", function()
      local f = random_file(work .. "/big.bin", 20 * 1024 * 1024 + 7)
      local r = curl_put(path_url("bkt-one", "big/big.bin"), f)
      assert.are.equal(200, r.status, r.body)
      assert.are.equal('"' .. md5_file(f) .. '"', r.headers.etag)
      assert.are.equal(sha256_file(f), sha256_file(dir .. "/media/s3/bkt-one/big/big.bin"))
      r = curl_put(path_url("bkt-one", "big/other.bin"), f, { hash = sha256("x") })
      assert.are.equal(400, r.status)
      assert.are.equal("XAmzContentSHA256Mismatch", xml(r.body, "Code"))
      assert.are.equal(sha256_file(f), xml(r.body, "S3ComputedContentSHA256"))
      assert.is_nil(slurp(dir .. "/media/s3/bkt-one/big/other.bin"))
    end)

    it("requires x-amz-content-sha256, signed (400 InvalidRequest)", function()
      local f = work .. "/n.bin"
      spit(f, "x")
      -- curl 7.88's SigV4 does not add the header by itself
      local r = http(path_url("bkt-one", "n.bin"), { file = f,
        extra = "--aws-sigv4 " .. q("aws:amz:" .. REGION .. ":s3") .. " --user " .. q(AK .. ":" .. SK) })
      assert.are.equal(400, r.status)
      assert.are.equal("InvalidRequest", xml(r.body, "Code"))
      assert.are.equal("Missing required header for this request: x-amz-content-sha256", xml(r.body, "Message"))
      -- present but left out of SignedHeaders
      r = signed({ method = "PUT", url = path_url("bkt-one", "n.bin"), file = f, payload_hash = sha256_file(f),
        edit = function(hs)
          for i, h in ipairs(hs) do
            hs[i] = h:gsub(";x%-amz%-content%-sha256", "")
          end
          return hs
        end })
      assert.are.equal(400, r.status)
      assert.are.equal("InvalidRequest", xml(r.body, "Code"))
      assert.truthy(xml(r.body, "Message"):find("x-amz-content-sha256", 1, true))
    end)

    it("answers a wrong secret with 403 SignatureDoesNotMatch and its own canonical request", function()
      local f = work .. "/w.bin"
      spit(f, "w")
      local r = signed({ method = "PUT", url = path_url("bkt-one", "dir/w.bin"), file = f,
        payload_hash = sha256_file(f), secret_key = "not-the-secret" })
      assert.are.equal(403, r.status)
      assert.are.equal("SignatureDoesNotMatch", xml(r.body, "Code"))
      assert.are.equal(AK, xml(r.body, "AWSAccessKeyId"))
      local canonical = unxml(xml(r.body, "CanonicalRequest"))
      assert.truthy(canonical:find("^PUT\n/s3/bkt%-one/dir/w%.bin\n\n"), canonical)
      assert.truthy(canonical:find("\nhost:127.0.0.1:" .. port .. "\n", 1, true), canonical)
      assert.truthy(canonical:find("\n" .. sha256_file(f) .. "$"), canonical)
      local sts = unxml(xml(r.body, "StringToSign"))
      assert.truthy(sts:find("^AWS4%-HMAC%-SHA256\n%d+T%d+Z\n%d+/us%-east%-1/s3/aws4_request\n"), sts)
      assert.are.equal(sha256(canonical), sts:match("(%x+)$"))
      assert.is_nil(slurp(dir .. "/media/s3/bkt-one/dir/w.bin"))
      -- curl's SigV4 with a wrong secret: the same
      r = curl_put(path_url("bkt-one", "dir/w.bin"), f, { secret_key = "nope" })
      assert.are.equal("SignatureDoesNotMatch", xml(r.body, "Code"))
    end)

    it("answers an unknown access key with 403 InvalidAccessKeyId, no auth with 403 AccessDenied", function()
      local r = signed({ url = path_url("bkt-one", "x"), payload_hash = sha256(""), access_key = "AKIDNOBODY" })
      assert.are.equal(403, r.status)
      assert.are.equal("InvalidAccessKeyId", xml(r.body, "Code"))
      assert.are.equal("AKIDNOBODY", xml(r.body, "AWSAccessKeyId"))
      r = http(path_url("bkt-one", "x"))
      assert.are.equal(403, r.status)
      assert.are.equal("AccessDenied", xml(r.body, "Code"))
      r = http(presign({ url = path_url("bkt-one", "x"), access_key = "AKIDNOBODY" }))
      assert.are.equal("InvalidAccessKeyId", xml(r.body, "Code"))
    end)

    it("refuses an expired presigned URL, X-Amz-Expires over a week, and a tampered URL", function()
      local f = work .. "/e.bin"
      spit(f, "e")
      assert.are.equal(200, curl_put(path_url("bkt-one", "e.bin"), f).status)
      -- signed two hours ago for one minute: expired whatever the machine's load
      local r = http(presign({ url = path_url("bkt-one", "e.bin"), time = os.time() - 7200, expires = 60 }))
      assert.are.equal(403, r.status)
      assert.are.equal("AccessDenied", xml(r.body, "Code"))
      assert.are.equal("Request has expired", xml(r.body, "Message"))
      assert.are.equal("60", xml(r.body, "X-Amz-Expires"))
      local good = presign({ url = path_url("bkt-one", "e.bin") })
      r = http((good:gsub("X%-Amz%-Expires=%d+", "X-Amz-Expires=604801")))
      assert.are.equal(400, r.status)
      assert.are.equal("AuthorizationQueryParametersError", xml(r.body, "Code"))
      r = http((good:gsub("/e%.bin%?", "/f.bin?")))
      assert.are.equal(403, r.status)
      assert.are.equal("SignatureDoesNotMatch", xml(r.body, "Code"))
      r = http((good:gsub("&X%-Amz%-Signature=%x+", "")))
      assert.are.equal(400, r.status)
      assert.are.equal("AuthorizationQueryParametersError", xml(r.body, "Code"))
      -- header auth and query auth at once
      r = http(good, { headers = { "Authorization: AWS4-HMAC-SHA256 Credential=x" } })
      assert.are.equal(400, r.status)
      assert.are.equal("InvalidArgument", xml(r.body, "Code"))
      assert.are.equal(200, http(good).status)
    end)

    it("refuses header auth from a clock an hour off (403 RequestTimeTooSkewed)", function()
      local r = signed({ url = path_url("bkt-one", "x"), payload_hash = sha256(""), time = os.time() - 3600 })
      assert.are.equal(403, r.status)
      assert.are.equal("RequestTimeTooSkewed", xml(r.body, "Code"))
    end)

    it("takes session tokens from config s3_tokens (default sim-session-token), else 403 InvalidToken", function()
      local f = work .. "/t.bin"
      spit(f, "token")
      local r = signed({ method = "PUT", url = path_url("bkt-one", "t.bin"), file = f, payload_hash = sha256_file(f),
        session_token = TOKEN })
      assert.are.equal(200, r.status, r.body)
      r = http(presign({ url = path_url("bkt-one", "t.bin"), session_token = TOKEN }))
      assert.are.equal(200, r.status, r.body)
      assert.are.equal("token", r.body)
      r = http(presign({ url = path_url("bkt-one", "t.bin"), session_token = "forged-token" }))
      assert.are.equal(403, r.status)
      assert.are.equal("InvalidToken", xml(r.body, "Code"))
      r = signed({ url = path_url("bkt-one", "t.bin"), payload_hash = sha256(""), session_token = "forged-token" })
      assert.are.equal("InvalidToken", xml(r.body, "Code"))
      config({ s3_tokens = { "forged-token" } })
      local forged = presign({ url = path_url("bkt-one", "t.bin"), session_token = "forged-token" })
      assert.are.equal(200, http(forged).status)
      assert.are.equal(403, http(presign({ url = path_url("bkt-one", "t.bin"), session_token = TOKEN })).status)
    end)

    it("takes its credentials from config s3_keys and checks config s3_region", function()
      config({ s3_keys = { AKIDOTHER = "other-secret" } })
      local r = signed({ url = path_url("bkt-one", "x"), payload_hash = sha256("") })
      assert.are.equal("InvalidAccessKeyId", xml(r.body, "Code"))
      r = signed({ url = path_url("bkt-one", "x"), payload_hash = sha256(""), access_key = "AKIDOTHER",
        secret_key = "other-secret" })
      assert.are.equal(404, r.status)
      assert.are.equal("NoSuchKey", xml(r.body, "Code"))
      config({ s3_keys = cjson.null, s3_region = "cn-beijing" })
      r = signed({ url = path_url("bkt-one", "x"), payload_hash = sha256("") })
      assert.are.equal(400, r.status)
      assert.are.equal("AuthorizationHeaderMalformed", xml(r.body, "Code"))
      assert.are.equal("cn-beijing", xml(r.body, "Region"))
      r = signed({ url = path_url("bkt-one", "x"), payload_hash = sha256(""), region = "cn-beijing" })
      assert.are.equal(404, r.status)
    end)

    it("answers 404 NoSuchKey for a missing object; DELETE answers 204", function()
      local r = http(presign({ url = path_url("bkt-one", "no/such key.wav") }))
      assert.are.equal(404, r.status)
      assert.are.equal("application/xml", r.headers["content-type"])
      assert.are.equal("NoSuchKey", xml(r.body, "Code"))
      assert.are.equal("no/such key.wav", xml(r.body, "Key"))
      local f = work .. "/d.bin"
      spit(f, "d")
      assert.are.equal(200, curl_put(path_url("bkt-one", "d.bin"), f).status)
      r = http(presign({ method = "DELETE", url = path_url("bkt-one", "d.bin") }), { method = "DELETE" })
      assert.are.equal(204, r.status)
      assert.is_nil(slurp(dir .. "/media/s3/bkt-one/d.bin"))
      assert.are.equal(404, http(presign({ url = path_url("bkt-one", "d.bin") })).status)
    end)

    it("refuses keys it cannot keep as files ('..' segments) and bad bucket names", function()
      local r = http(presign({ url = path_url("bkt-one", "a/../b.wav") }))
      assert.are.equal(400, r.status, r.body)
      assert.are.equal("InvalidArgument", xml(r.body, "Code"))
      r = http(presign({ url = path_url("Bad_Bucket", "b.wav") }))
      assert.are.equal(400, r.status)
      assert.are.equal("InvalidBucketName", xml(r.body, "Code"))
    end)

    it("answers an injected fault with S3's XML", function()
      control("POST", "/_sim/faults", { path = "/s3/", type = "500" })
      local r = http(presign({ url = path_url("bkt-one", "x") }))
      assert.are.equal(500, r.status)
      assert.are.equal("InternalError", xml(r.body, "Code"))
    end)

    it("lets the simulated providers download presigned URLs, path style and virtual host", function()
      local f = wav_file(work .. "/speech.wav", 1.5)
      assert.are.equal(200, curl_put(path_url("media-bkt", "in/speech.wav"), f).status)
      for _, u in ipairs({ path_url("media-bkt", "in/speech.wav"), vhost_url("media-bkt", "in/speech.wav") }) do
        local signed_url = presign({ url = u, expires = 3600 })
        local r = http(url .. "/turing/api/v1/audio/transcriptions/runs", { method = "POST",
          headers = { "Authorization: Bearer " .. KEY, "Content-Type: application/json" },
          body = cjson.encode({ service_name = "aliyun/tingwu",
                                file = { type = "public_uri", file_uri = signed_url } }) })
        assert.are.equal(200, r.status, r.body)
        local id = decode(r.body).data.task_run_id
        for _ = 1, 500 do
          local _, a = control("POST", "/_sim/tasks/" .. id .. "/advance", { to = "done" })
          if a.status == 200 then break end
          assert.are.equal(409, a.status, a.body)
          os.execute("sleep 0.02")
        end
        local p = http(url .. "/turing/api/v1/audio/transcriptions/runs/" .. id,
          { headers = { "Authorization: Bearer " .. KEY } })
        local d = decode(p.body).data
        assert.are.equal("completed", d.task_run_state, p.body)
        assert.are.equal(1500, d.audio_info.duration_ms)
      end
      assert.are.equal(2, stats().s3["GET media-bkt/in/speech.wav"])
    end)
  end)

  describe("DashScope temporary storage", function()
    it("getPolicy checks the key, the action and the model (DashScope errors)", function()
      local j, r = policy("qwen-audio-turbo", "sk-nope")
      assert.are.equal(401, r.status)
      assert.are.equal("InvalidApiKey", j.code)
      assert.truthy(j.request_id and j.message)
      r = http(url .. "/dashscope/api/v1/uploads?action=getPolicy", { headers = { "Authorization: Bearer " .. KEY } })
      assert.are.equal(400, r.status)
      assert.are.equal("InvalidParameter", decode(r.body).code)
      r = http(url .. "/dashscope/api/v1/uploads?action=list&model=m",
        { headers = { "Authorization: Bearer " .. KEY } })
      assert.are.equal(400, r.status)
      assert.are.equal("InvalidParameter", decode(r.body).code)
    end)

    it("answers the documented policy: Base64 JSON conditions, Base64 HMAC-SHA1 signature", function()
      local j, r = policy("qwen-audio-turbo")
      assert.are.equal(200, r.status, r.body)
      assert.truthy(j.request_id)
      local d = j.data
      assert.are.equal(300, d.expire_in_seconds)
      assert.are.equal(100, d.max_file_size_mb)
      assert.truthy(d.capacity_limit_mb)
      assert.are.equal("private", d.x_oss_object_acl)
      assert.are.equal("true", d.x_oss_forbid_overwrite)
      assert.truthy(d.oss_access_key_id:match("^LTAI"))
      assert.truthy(d.upload_dir:match("^dashscope%-instant/%x+/%d%d%d%d%-%d%d%-%d%d/[%x-]+$"), d.upload_dir)
      assert.are.equal(url .. "/oss-upload/dashscope-file-sim", d.upload_host)
      local doc = decode(unbase64(d.policy))
      assert.truthy(doc.expiration:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.000Z$"))
      local c = doc.conditions
      assert.are.same({ bucket = "dashscope-file-sim" }, c[1])
      assert.are.same({ "starts-with", "$key", d.upload_dir }, c[2])
      assert.are.same({ "content-length-range", 0, 100 * 1048576 }, c[3])
      assert.are.same({ ["x-oss-object-acl"] = "private" }, c[4])
      assert.are.same({ ["x-oss-forbid-overwrite"] = "true" }, c[5])
      -- the signature, recomputed with openssl from the secret simctl wrote into nginx.conf
      local secret = slurp(dir .. "/nginx.conf"):match('secret%s*=%s*"([^"]*)"')
      local sig = sh("printf %s " .. q(d.policy) .. " | openssl dgst -sha1 -hmac " .. q("sim-upload-" .. secret)
        .. " -binary | base64")
      assert.are.equal(d.signature, (sig:gsub("%s+$", "")))
      assert.are.equal(1, stats().upload_policies["qwen-audio-turbo"])
    end)

    it("takes the SDK's form (file last): 200, empty body, the object at <media>/oss/<key>", function()
      local d = policy().data
      local f = wav_file(work .. "/录音 一.wav", 0.5)
      local key = d.upload_dir .. "/录音 一.wav"
      local r = post_form({ data = d, file = f, key = key })
      assert.are.equal(200, r.status, r.body)
      assert.are.equal("", r.body)
      assert.are.equal('"' .. md5_file(f):upper() .. '"', r.headers.etag)
      assert.truthy(r.headers["x-oss-request-id"])
      assert.are.equal(sha256_file(f), sha256_file(oss_path(key)))
      assert.are.equal(1, stats().uploads[key])
      -- what the DashScope simulator fetches for oss://<key>
      local segs = {}
      for seg in key:gmatch("[^/]+") do
        segs[#segs + 1] = seg:gsub("[^%w%-._~]", function(ch) return ("%%%02X"):format(ch:byte()) end)
      end
      local m = http(url .. "/media/oss/" .. table.concat(segs, "/"))
      assert.are.equal(200, m.status)
      assert.are.equal(slurp(f), m.body)
    end)

    it("streams a large (spooled) file and ignores fields after the file; success_action_status", function()
      local d = policy().data
      local f = random_file(work .. "/big.wav", 20 * 1024 * 1024 + 3)
      local key = d.upload_dir .. "/big.wav"
      local r = post_form({ data = d, file = f, key = key, over = { success_action_status = false },
        after = { { "success_action_status", "201" }, { "x-oss-meta-note", "after the file" } } })
      assert.are.equal(204, r.status, r.body)     -- no status before the file: OSS's default
      assert.are.equal(sha256_file(f), sha256_file(oss_path(key)))
      local small = work .. "/small.wav"
      spit(small, "RIFF....")
      r = post_form({ data = d, file = small, key = d.upload_dir .. "/small.wav",
        over = { success_action_status = "201" } })
      assert.are.equal(201, r.status, r.body)
      assert.are.equal(d.upload_dir .. "/small.wav", xml(r.body, "Key"))
      assert.are.equal("dashscope-file-sim", xml(r.body, "Bucket"))
    end)

    it("refuses to overwrite a key (409 FileAlreadyExists)", function()
      local d = policy().data
      local f1, f2 = work .. "/one.wav", work .. "/two.wav"
      spit(f1, "first")
      spit(f2, "second")
      local key = d.upload_dir .. "/same.wav"
      assert.are.equal(200, post_form({ data = d, file = f1, key = key }).status)
      local r = post_form({ data = d, file = f2, key = key })
      assert.are.equal(409, r.status)
      assert.are.equal("application/xml", r.headers["content-type"])
      assert.are.equal("FileAlreadyExists", xml(r.body, "Code"))
      for _, tag in ipairs({ "Message", "RequestId", "HostId", "EC", "RecommendDoc" }) do
        assert.truthy(xml(r.body, tag), tag)
      end
      assert.are.equal("first", slurp(oss_path(key)))
    end)

    it("refuses an expired policy (403 AccessDenied Policy expired.)", function()
      config({ upload_policy_ttl_s = -60 })
      local d = policy().data
      local f = work .. "/late.wav"
      spit(f, "late")
      local r = post_form({ data = d, file = f, key = d.upload_dir .. "/late.wav" })
      assert.are.equal(403, r.status)
      assert.are.equal("AccessDenied", xml(r.body, "Code"))
      assert.are.equal("Invalid according to Policy: Policy expired.", xml(r.body, "Message"))
      assert.is_nil(slurp(oss_path(d.upload_dir .. "/late.wav")))
    end)

    it("checks the content-length-range: 400 EntityTooLarge / EntityTooSmall", function()
      config({ upload_max_mb = 0.001, upload_min_bytes = 10 })   -- 1048 bytes at most, 10 at least
      local d = policy().data
      assert.are.equal(0.001, d.max_file_size_mb)
      local big, tiny = work .. "/over.wav", work .. "/tiny.wav"
      spit(big, string.rep("x", 2000))
      spit(tiny, "tiny")
      local r = post_form({ data = d, file = big, key = d.upload_dir .. "/over.wav" })
      assert.are.equal(400, r.status)
      assert.are.equal("EntityTooLarge", xml(r.body, "Code"))
      assert.are.equal("2000", xml(r.body, "ProposedSize"))
      assert.is_nil(slurp(oss_path(d.upload_dir .. "/over.wav")))
      r = post_form({ data = d, file = tiny, key = d.upload_dir .. "/tiny.wav" })
      assert.are.equal(400, r.status)
      assert.are.equal("EntityTooSmall", xml(r.body, "Code"))
      spit(big, string.rep("x", 1048))
      assert.are.equal(200, post_form({ data = d, file = big, key = d.upload_dir .. "/edge.wav" }).status)
    end)

    it("checks every condition, the access key and the signature", function()
      local d = policy().data
      local f = work .. "/c.wav"
      spit(f, "conditions")
      local r = post_form({ data = d, file = f, key = "dashscope-instant/elsewhere/c.wav" })
      assert.are.equal(403, r.status)
      assert.are.equal("AccessDenied", xml(r.body, "Code"))
      assert.truthy(xml(r.body, "Message"):find("Policy Condition failed", 1, true))
      r = post_form({ data = d, file = f, key = d.upload_dir .. "/c.wav", over = { ["x-oss-object-acl"] = false } })
      assert.are.equal(403, r.status)
      assert.truthy(xml(r.body, "Message"):find("x-oss-object-acl", 1, true))
      r = post_form({ data = d, file = f, key = d.upload_dir .. "/c.wav",
        over = { ["x-oss-forbid-overwrite"] = "false" } })
      assert.are.equal(403, r.status)
      r = post_form({ data = d, file = f, key = d.upload_dir .. "/c.wav",
        host = url .. "/oss-upload/another-bucket" })
      assert.are.equal(403, r.status)
      assert.truthy(xml(r.body, "Message"):find("bucket", 1, true))
      r = post_form({ data = d, file = f, key = d.upload_dir .. "/c.wav",
        over = { Signature = "AAAAAAAAAAAAAAAAAAAAAAAAAAA=" } })
      assert.are.equal(403, r.status)
      assert.are.equal("SignatureDoesNotMatch", xml(r.body, "Code"))
      r = post_form({ data = d, file = f, key = d.upload_dir .. "/c.wav", over = { OSSAccessKeyId = "LTAInobody" } })
      assert.are.equal(403, r.status)
      assert.are.equal("InvalidAccessKeyId", xml(r.body, "Code"))
      r = post_form({ data = d, key = d.upload_dir .. "/c.wav" })
      assert.are.equal(400, r.status)
      assert.are.equal("InvalidArgument", xml(r.body, "Code"))
      r = post_form({ data = d, file = f, key = d.upload_dir .. "/c.wav", over = { key = false } })
      assert.are.equal(400, r.status)
      assert.are.equal("InvalidArgument", xml(r.body, "Code"))
      r = http(d.upload_host, { method = "POST", body = "key=x", headers = { "Content-Type: text/plain" } })
      assert.are.equal(400, r.status)
      assert.are.equal("MalformedPOSTRequest", xml(r.body, "Code"))
      assert.is_nil(slurp(oss_path(d.upload_dir .. "/c.wav")))
      -- and the untouched form still works
      assert.are.equal(200, post_form({ data = d, file = f, key = d.upload_dir .. "/c.wav" }).status)
    end)
  end)

  it("logged no Lua errors while doing all that", function()
    local bad = {}
    for line in (slurp(dir .. "/logs/error.log") or ""):gmatch("[^\n]+") do
      if line:find("%[error%]") or line:find("%[alert%]") or line:find("%[crit%]")
        or line:find("lua entry thread aborted", 1, true) or line:find("runtime error", 1, true) then
        bad[#bad + 1] = line
      end
    end
    assert.are.same({}, bad)
  end)
end)
