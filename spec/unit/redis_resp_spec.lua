-- RESP2 of the nginx Redis backend (lua/stt/redis/ngx.lua) without nginx: the command encoder
-- and the reply parser over an in-memory reader; and the one clear error outside nginx.
local backend = require "stt.redis.ngx"
local core = require "stt.core"

-- A reader over a string, with the socket reader's contract (line() without CRLF; bytes(n)).
local function reader(s)
  local pos = 1
  local r = {}
  function r.line()
    local nl = s:find("\n", pos, true)
    if not nl then return nil, { kind = "network", message = "closed" } end
    local line = s:sub(pos, nl - 1):gsub("\r$", "")
    pos = nl + 1
    return line
  end
  function r.bytes(_, n)
    if pos + n - 1 > #s then return nil, { kind = "network", message = "closed" } end
    local data = s:sub(pos, pos + n - 1)
    pos = pos + n
    return data
  end
  r.rest = function() return s:sub(pos) end
  return r
end
local function parse(s) return backend.read_reply(reader(s)) end

describe("RESP2 encoding", function()
  local function enc(args) return table.concat(backend.encode(args)) end

  it("sends every argument as a bulk string, binary safe", function()
    assert.equal("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\na\r\n\0b\r\n", enc({ "SET", "k", "a\r\n\0b" }))
    assert.equal("*1\r\n$0\r\n\r\n", enc({ "" }))
  end)

  it("writes integral numbers as integers and others with every digit", function()
    assert.equal("*3\r\n$6\r\nINCRBY\r\n$1\r\nk\r\n$2\r\n42\r\n", enc({ "INCRBY", "k", 42 }))
    assert.equal("$16\r\n9007199254740992\r\n", enc({ 2 ^ 53 }):match("%$.*"))
    assert.equal("$3\r\n1.5\r\n", enc({ 1.5 }):match("%$.*"))
    assert.equal("$3\r\ninf\r\n", enc({ math.huge }):match("%$.*"))
  end)

  it("appends several commands to one fragment list (one write)", function()
    local out = backend.encode({ "PING" })
    backend.encode({ "ECHO", "x" }, out)
    assert.equal("*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$1\r\nx\r\n", table.concat(out))
  end)

  it("raises on programming mistakes", function()
    assert.has_error(function() backend.encode({}) end,
      "stt.redis: a command is a non-empty array of strings and numbers")
    assert.has_error(function() backend.encode("PING") end)
    assert.has_error(function() backend.encode({ "SET", "k", true }) end,
      "stt.redis: argument 3 is a boolean (strings and numbers only)")
    assert.has_error(function() backend.encode({ "SET", "k", 0 / 0 }) end, "stt.redis: argument 3 is NaN")
  end)
end)

describe("RESP2 replies", function()
  it("maps each type to its Lua value", function()
    assert.equal("OK", parse("+OK\r\n"))
    assert.equal(-12, parse(":-12\r\n"))
    assert.equal("a\r\n\0b", parse("$5\r\na\r\n\0b\r\n"))
    assert.equal("", parse("$0\r\n\r\n"))
    assert.equal(core.null, parse("$-1\r\n"))
    assert.equal(core.null, parse("*-1\r\n"))
    assert.same({}, parse("*0\r\n"))
    assert.same({ 1, { 2, "x" }, core.null }, parse("*3\r\n:1\r\n*2\r\n:2\r\n$1\r\nx\r\n$-1\r\n"))
  end)

  it("returns an error reply as a value { err = ... }, also inside arrays", function()
    local e = parse("-ERR unknown command\r\n")
    assert.equal("ERR unknown command", e.err)
    assert.equal(backend.ErrorReply, getmetatable(e))
    local arr = parse("*2\r\n+OK\r\n-WRONGTYPE no\r\n")
    assert.equal("OK", arr[1])
    assert.equal("WRONGTYPE no", arr[2].err)
  end)

  it("reads exactly one reply, leaving the next in the stream", function()
    local r = reader("$3\r\nabc\r\n:7\r\n")
    assert.equal("abc", backend.read_reply(r))
    assert.equal(7, backend.read_reply(r))
    assert.equal("", r.rest())
  end)

  it("reports a broken stream as a protocol error, a short one as the reader's error", function()
    for _, bad in ipairs({ "HTTP/1.1 400 Bad Request\r\n", ":12x\r\n", "$abc\r\n", "$-2\r\n",
                           "$3\r\nabcd\r\n", "*x\r\n", "$999999999999\r\n" }) do
      local v, err = parse(bad)
      assert.is_nil(v, bad)
      assert.equal("protocol", err.kind, bad)
      assert.is_false(err.retryable)
    end
    local v, err = parse("$10\r\nshort\r\n")
    assert.is_nil(v)
    assert.same({ kind = "network", message = "closed" }, err)
    assert.equal("protocol", select(2, parse(("*1\r\n"):rep(100) .. ":1\r\n")).kind)
  end)

  it("connect raises one clear error outside nginx", function()
    assert.has_error(function() backend.connect({ host = "127.0.0.1", port = 6379 }) end,
      "stt.redis: the ngx backend works only inside nginx (lua-nginx-module)")
  end)
end)
