-- Bodies streamed from disk for the ngx transport (lua/stt/transport/body.lua): the bytes, their
-- announced length, the multipart form and base64, all read in chunks. Pure Lua, temp files only.
local body = require "stt.transport.body"

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function b64(s)                          -- RFC 4648, for checking (the transport uses nginx's)
  return (s:gsub("..?.?", function(t)
    local a, b, c = t:byte(1, 3)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local out = {}
    for k = 1, 4 do
      local v = math.floor(n / 64 ^ (4 - k)) % 64
      out[k] = B64:sub(v + 1, v + 1)
    end
    if not b then out[3], out[4] = "=", "=" elseif not c then out[4] = "=" end
    return table.concat(out)
  end))
end

local function tmpfile(content)
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  f:write(content)
  f:close()
  return path
end

local function drain(src)
  local parts = {}
  while true do
    local chunk, err = src.next()
    if err then return nil, err end
    if not chunk then break end
    parts[#parts + 1] = chunk
  end
  src.close()
  return table.concat(parts), #parts
end

-- bytes that make every chunk boundary and base64 padding case show
local function data(n)
  local t = {}
  for i = 1, n do t[i] = string.char((i * 7 + 3) % 256) end
  return table.concat(t)
end

describe("transport body sources", function()
  it("is nil for a request without a file body", function()
    assert.is_nil(body.source({ body = "x" }))
  end)

  it("sends body, then the file in chunks, then body_suffix, with the exact length", function()
    for _, n in ipairs({ 1, body.CHUNK - 1, body.CHUNK, body.CHUNK + 1, 3 * body.CHUNK + 17 }) do
      local content = data(n)
      local path = tmpfile(content)
      local src = assert(body.source({ body = "{\"a\":\"", body_file = path, body_suffix = "\"}" }))
      local all, chunks = drain(src)
      assert.is_true("{\"a\":\"" .. content .. "\"}" == all, n .. " bytes")
      assert.equal(#all, src.length)
      assert.is_true(chunks >= math.ceil(n / body.CHUNK))
      os.remove(path)
    end
  end)

  it("reads in chunks of a multiple of 3 bytes (base64 chunks must join)", function()
    assert.equal(0, body.CHUNK % 3)
  end)

  it("base64-encodes the file chunk by chunk into one valid encoding", function()
    for _, n in ipairs({ 1, 2, 3, body.CHUNK + 1, body.CHUNK + 2, 2 * body.CHUNK }) do
      local content = data(n)
      local path = tmpfile(content)
      local src = assert(body.source({ body = "[", body_file = path, body_file_base64 = true, body_suffix = "]" }, b64))
      local all = drain(src)
      assert.is_true("[" .. b64(content) .. "]" == all, "base64 of " .. n .. " bytes")
      assert.equal(#all, src.length)
      os.remove(path)
    end
    assert.has_error(function() body.source({ body_file = "/x", body_file_base64 = true }) end)
  end)

  it("builds a multipart form: fields in order, the file part last, its name quoted as browsers do", function()
    local path = tmpfile("RIFFdata")
    local src = assert(body.source({ body_file = path, form = { { "key", "dir/a b.wav" }, { "policy", "p==" } },
                                     form_file = { field = "file", name = 'a "b".wav', type = "audio/wav" } }))
    local b = src.content_type:match("^multipart/form%-data; boundary=(.+)$")
    assert.is_string(b)
    local all = drain(src)
    assert.equal(table.concat({
      "--" .. b, 'Content-Disposition: form-data; name="key"', "", "dir/a b.wav",
      "--" .. b, 'Content-Disposition: form-data; name="policy"', "", "p==",
      "--" .. b, 'Content-Disposition: form-data; name="file"; filename="a %22b%22.wav"', "Content-Type: audio/wav",
      "", "RIFFdata", "--" .. b .. "--", "" }, "\r\n"), all)
    assert.equal(#all, src.length)
    os.remove(path)
  end)

  it("a missing file is an error up front; a file that shrinks while sent is an error at its end", function()
    local src, err = body.source({ body_file = "/nonexistent/x.wav" })
    assert.is_nil(src)
    assert.matches("cannot read /nonexistent/x%.wav", err)
    local path = tmpfile(data(body.CHUNK * 2))
    src = assert(body.source({ body_file = path }))
    assert.is_string(src.next())
    local f = assert(io.open(path, "wb"))           -- truncated under the reader
    f:write("x")
    f:close()
    local _, derr = drain(src)
    assert.matches("changed size", derr)
    os.remove(path)
  end)
end)
