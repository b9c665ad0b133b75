-- AWS Signature Version 4 (csrc/sigv4.c through stt.s3): the examples AWS publishes, reproduced
-- byte for byte (the presigned URL of "Authenticating Requests: Using Query Parameters" and the
-- four header-signed examples of "Using the Authorization Header": GET with Range, PUT with a
-- '$' in the key, GET ?lifecycle, GET ?max-keys=2&prefix=J), then what the examples do not show:
-- keys with spaces and non-ASCII names, session tokens, default ports, bad arguments.
local core = require "stt.core"
local s3 = require "stt.s3"

local AK, SK = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
local T = 1369353600                                   -- 20130524T000000Z
local EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
local HOST = "https://examplebucket.s3.amazonaws.com"

local function base(t)
  t.region, t.access_key, t.secret_key, t.time = t.region or "us-east-1", AK, SK, T
  t.session_token = t.session_token or false          -- not from the environment
  if t.session_token == false then t.session_token = nil end
  return t
end

local function signature(auth) return auth:match("Signature=(%x+)$") end

describe("AWS SigV4 signer", function()
  it("reproduces AWS's presigned URL example", function()
    local url = assert(s3.presign(base({ url = HOST .. "/test.txt", expires = 86400 })))
    assert.equal(HOST .. "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F"
      .. "20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&"
      .. "X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
      url)
    local canon, sts = core.sigv4_canonical(base({ method = "GET", url = HOST .. "/test.txt", expires = 86400 }), true)
    assert.equal("GET\n/test.txt\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524"
      .. "%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\n"
      .. "host:examplebucket.s3.amazonaws.com\n\nhost\nUNSIGNED-PAYLOAD", canon)
    assert.equal("AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
      .. "3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04", sts)
  end)

  it("reproduces AWS's header-signed examples", function()
    local get = assert(s3.sign(base({ url = HOST .. "/test.txt", payload_hash = EMPTY,
                                      headers = { { "Range", "bytes=0-9" } } })))
    local auth = get.headers[#get.headers][2]
    assert.equal("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
      .. "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
      .. "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41", auth)
    assert.same({ "x-amz-date", "20130524T000000Z" }, get.headers[2])
    assert.same({ "x-amz-content-sha256", EMPTY }, get.headers[3])
    local canon = core.sigv4_canonical(base({ method = "GET", url = HOST .. "/test.txt", payload_hash = EMPTY,
                                              headers = { { "Range", "bytes=0-9" } } }), false)
    assert.equal("GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\nx-amz-content-sha256:"
      .. EMPTY .. "\nx-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n" .. EMPTY, canon)

    local body = "Welcome to Amazon S3."
    assert.equal("44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072", core.sha256(body))
    local put = assert(s3.sign(base({ method = "PUT", url = HOST .. "/test$file.text", payload_hash = core.sha256(body),
      headers = { { "Date", "Fri, 24 May 2013 00:00:00 GMT" }, { "x-amz-storage-class", "REDUCED_REDUNDANCY" } } })))
    assert.equal("98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
      signature(put.headers[#put.headers][2]))
    assert.equal("/test%24file.text", put.path)

    local lifecycle = assert(s3.sign(base({ url = HOST .. "/?lifecycle", payload_hash = EMPTY })))
    assert.equal("fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
      signature(lifecycle.headers[#lifecycle.headers][2]))
    assert.equal("/?lifecycle=", lifecycle.path)
    local list = assert(s3.sign(base({ url = HOST .. "/?max-keys=2&prefix=J", payload_hash = EMPTY })))
    assert.equal("34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
      signature(list.headers[#list.headers][2]))
  end)

  it("encodes keys with spaces, reserved and non-ASCII characters once, keeping '/'", function()
    local canon = core.sigv4_canonical(base({ method = "GET", expires = 60,
      url = HOST .. "/meetings/2026 Q1/会议 #1+(final)~.mp3" }), true)
    assert.equal("/meetings/2026%20Q1/%E4%BC%9A%E8%AE%AE%20%231%2B%28final%29~.mp3", canon:match("^GET\n([^\n]*)\n"))
    -- a '%' the user wrote is a character of the key, not an escape
    local url = assert(s3.presign(base({ url = HOST .. "/100%.wav", expires = 60 })))
    assert.matches("^" .. (HOST .. "/100%25.wav?"):gsub("%p", "%%%0"), url)
    -- an empty path is "/"; the URL's own query is signed, sorted by encoded name
    canon = core.sigv4_canonical(base({ method = "GET", url = HOST .. "?b=2&a=x y", expires = 60 }), true)
    assert.matches("^GET\n/\nX%-Amz%-Algorithm=.*&a=x%%20y&b=2\n", canon)
  end)

  it("signs a session token, drops default ports and keeps others", function()
    local url = assert(s3.presign(base({ url = HOST .. ":443/a.wav", expires = 60, session_token = "tok/en+=" })))
    assert.matches("^https://examplebucket%.s3%.amazonaws%.com/a%.wav%?", url)
    assert.matches("&X%-Amz%-Security%-Token=tok%%2Fen%%2B%%3D&", url)
    local canon = core.sigv4_canonical(base({ method = "PUT", url = "http://127.0.0.1:9000/b/k.wav",
                                              payload_hash = "UNSIGNED-PAYLOAD", session_token = "t" }), false)
    assert.matches("\nhost:127%.0%.0%.1:9000\n", canon)
    assert.matches("\nx%-amz%-security%-token:t\n", canon)
    local signed = assert(s3.sign(base({ method = "PUT", url = "http://127.0.0.1:9000/b/k.wav", session_token = "t" })))
    local names = {}
    for _, h in ipairs(signed.headers) do names[#names + 1] = h[1] end
    assert.same({ "x-amz-date", "x-amz-content-sha256", "x-amz-security-token", "Authorization" }, names)
  end)

  it("refuses what it cannot sign, naming it, never echoing a key", function()
    local _, err = s3.presign(base({ url = HOST .. "/a", expires = 604801 }))
    assert.equal("invalid", err.kind)
    assert.matches("expires must be 1..604800", err.message)
    _, err = s3.presign(base({ url = "not a url", expires = 60 }))
    assert.matches("not a URL", err.message)
    _, err = s3.presign({ url = HOST .. "/a", region = "us-east-1", access_key = AK, secret_key = "", time = T })
    assert.matches("no access key or secret key", err.message)
    _, err = s3.presign({ url = HOST .. "/a", access_key = AK, secret_key = SK, time = T })
    assert.matches("region", err.message)
    assert.is_nil(tostring(err):find(SK, 1, true))
    assert.has_error(function() s3.presign("https://x/y") end)
  end)

  it("hashes files in chunks: the same digest as the bytes", function()
    local path = os.tmpname()
    local data = ("lua-stt "):rep(100000)          -- 800 KB: several 256 KiB chunks
    local f = assert(io.open(path, "wb"))
    f:write(data)
    f:close()
    local hex, size = core.sha256_file(path)
    assert.equal(core.sha256(data), hex)
    assert.equal(#data, size)
    os.remove(path)
    local none, msg = core.sha256_file(path)
    assert.is_nil(none)
    assert.matches("open .*No such file", msg)
    assert.equal("f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8",
      core.hmac_sha256("key", "The quick brown fox jumps over the lazy dog"))
    -- RFC 4231 test case 2
    assert.equal("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
      core.hmac_sha256("Jefe", "what do ya want for nothing?"))
  end)

  it("hashes a file a slice at a time to the same digest, at every size around a chunk", function()
    local CHUNK = 256 * 1024
    for _, n in ipairs({ 0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK }) do
      local path = os.tmpname()
      local data = ("0123456789abcdef"):rep(math.ceil(n / 16) + 1):sub(1, n)
      local f = assert(io.open(path, "wb"))
      f:write(data)
      f:close()
      local h = assert(core.file_hasher(path))
      local steps = 0
      local done
      repeat
        done = h:step(1)                            -- one chunk per step: false until the end
        assert.is_boolean(done)
        steps = steps + 1
      until done
      local hex, size = h:result()
      assert.equal(core.sha256(data), hex)
      assert.equal(n, size)
      assert.is_true(steps >= math.ceil(n / CHUNK), n .. " bytes in " .. steps .. " steps")
      assert.is_true(h:step())                      -- done stays done
      h:close()
      h:close()                                     -- idempotent
      os.remove(path)
    end
    local none, msg = core.file_hasher("/nonexistent/file.wav")
    assert.is_nil(none)
    assert.matches("open /nonexistent/file%.wav: No such file", msg)
    local h = assert(core.file_hasher(os.tmpname()))
    assert.has_error(function() h:result() end)
    h:close()
    assert.has_error(function() h:step() end)
  end)
end)
