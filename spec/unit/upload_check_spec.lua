-- Local files before any upload (lua/stt/upload.lua): what check refuses and how, and a digest
-- that lets the other threads of stt.run go on while a large file is hashed. No network.
local stt = require "stt"
local core = require "stt.core"
local upload = require "stt.upload"

local function tmpfile(name, bytes)
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. dir))
  local path = dir .. "/" .. name
  local f = assert(io.open(path, "wb"))
  f:write(bytes)
  f:close()
  return path, dir
end

describe("upload.check", function()
  it("takes an audio file and says its name, size and type", function()
    local path = tmpfile("Talk One.MP3", "ID3....")
    local info = assert(upload.check(path))
    assert.same({ path = path, name = "Talk One.MP3", size = 7, ext = "mp3", content_type = "audio/mpeg" }, info)
  end)

  it("refuses a missing file (not_found), a directory, an empty file and an unknown extension (invalid)", function()
    local _, err = upload.check("/nonexistent/a.wav")
    assert.equal("not_found", err.kind)
    local path, dir = tmpfile("empty.wav", "")
    _, err = upload.check(dir)
    assert.equal("invalid", err.kind)
    assert.matches("directory", err.message)
    _, err = upload.check(path)
    assert.equal("invalid", err.kind)
    assert.matches("empty", err.message)
    _, err = upload.check((tmpfile("notes.txt", "x")))
    assert.matches("%.txt", err.message)
    _, err = upload.check((tmpfile("noext", "x")))
    assert.matches("extension%-less", err.message)
  end)

  it("file_name gives a path without an extension its name and type", function()
    local path = tmpfile("0000000042", "RIFF")
    local info = assert(upload.check(path, "meeting.wav"))
    assert.equal("meeting.wav", info.name)
    assert.equal("audio/wav", info.content_type)
    assert.has_error(function() upload.check(path, "a/b.wav") end)
  end)
end)

describe("upload.digest", function()
  it("hashes in slices and lets other threads run in between inside stt.run", function()
    local path = tmpfile("big.wav", ("\1\2\3\4"):rep(5 * 1048576))     -- 20 MiB
    local saved = upload.HASH_SLICE
    upload.HASH_SLICE = 1048576
    local ticks, info = 0, nil
    stt.run(function()
      local done = false
      local other = stt.spawn(function()
        while not done do ticks = ticks + 1; stt.sleep(0) end
      end)
      info = upload.digest({ path = path })
      done = true
      other:join()
    end)
    upload.HASH_SLICE = saved
    assert.equal(core.sha256_file(path), info.sha256)
    assert.equal(20 * 1048576, info.size)
    assert.is_true(ticks >= 10, "the other thread ran " .. ticks .. " times while 20 slices were hashed")
  end)
end)
