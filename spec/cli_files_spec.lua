-- bin/stt with local files, as a real process against the simulator: a path is a file (in the
-- arguments and in @lists), DashScope needs nothing but its key, --upload s3://... takes any
-- provider's files through an S3-compatible store with keys from the environment, a rerun
-- uploads and submits nothing again, and bad files are usage errors before anything is sent.
local H = require "helper"

local AWS = "AWS_ACCESS_KEY_ID=AKIDSIMEXAMPLE0001 AWS_SECRET_ACCESS_KEY=sim-secret-0001"

local function stt(args, env, dir)
  local out, err = dir .. "/stdout", dir .. "/stderr"
  local p = assert(H.popen(("env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN %s "
    .. "bin/stt %s >%s 2>%s </dev/null; echo $?"):format(env or ("DASHSCOPE_API_KEY=" .. H.key), args,
    H.sh_quote(out), H.sh_quote(err))))
  local code = tonumber(p:read("*a"):match("(%d+)%s*$"))
  p:close()
  return code, H.read(out) or "", H.read(err) or ""
end

local count = H.count

-- A WAV in a folder of its own (and its reference text in the simulator's media folder).
local function audio(dir, name, text, seconds)
  H.media(name, seconds or 1, text)
  local path = dir .. "/" .. name .. ".wav"
  assert(os.execute(("cp %s %s"):format(H.sh_quote(H.sim_dir .. "/media/" .. name .. ".wav"), H.sh_quote(path))))
  return path
end

describe("bin/stt with local files", function()
  local dir
  before_each(function()
    H.reset()
    H.config({ queue_ms = 0, rtf = 0.05, min_run_ms = 0, process_inline = true })
    dir = H.tmpdir()
  end)

  it("stt transcribe talk.wav -f srt works for DashScope with only its key, and a rerun sends nothing", function()
    local path = audio(dir, "cli_talk", "Hello from a file on disk.")
    local args = ("transcribe %s -f srt -o %s --base-url %s"):format(H.sh_quote(path), H.sh_quote(dir .. "/out"),
      H.sh_quote(H.ds_base))
    local code, _, err = stt(args, nil, dir)
    assert.equal(0, code, err)
    assert.matches("Hello from a file on disk%.", H.read(dir .. "/out/cli_talk.srt"))
    assert.matches("uploading cli_talk%.wav %(31 KB%)", err)
    assert.matches("uploaded cli_talk%.wav", err)
    local st = H.stats()
    assert.equal(1, st.upload_policies["paraformer-v2"])
    -- the same command again: found in the journal by the file's content
    code, _, err = stt(args, nil, dir)
    assert.equal(0, code, err)
    assert.matches("already done", err)
    st = H.stats()
    assert.equal(1, st.upload_policies["paraformer-v2"])
    assert.equal(1, count(st.requests, "^POST /dashscope/api/v1/services"))
  end)

  it("--upload s3://bucket/prefix takes files to an S3-compatible store for any provider; --json says so", function()
    local a = audio(dir, "cli_s3_a", "First local file.")
    local b = audio(dir, "cli_s3_b", "Second local file.")
    H.write(dir .. "/list.txt", "# two files and a URL\n" .. a .. "\n" .. b .. "\n"
      .. H.media("cli_s3_url", 1, "A URL among files.") .. "\n")
    local code, out, err = stt(("transcribe @%s -p volcengine -f json -o %s --base-url %s --upload s3://stt-cli/in "
      .. "--s3-endpoint %s --s3-path-style --json"):format(H.sh_quote(dir .. "/list.txt"), H.sh_quote(dir .. "/out"),
      H.sh_quote(H.sim_url .. "/las/api/v1"), H.sh_quote(H.sim_url .. "/s3")),
      "LAS_API_KEY=" .. H.key .. " " .. AWS, dir)
    assert.equal(0, code, err)
    assert.equal("First local file.", H.json(H.read(dir .. "/out/cli_s3_a.json")).text)
    assert.equal("Second local file.", H.json(H.read(dir .. "/out/cli_s3_b.json")).text)
    assert.equal("A URL among files.", H.json(H.read(dir .. "/out/cli_s3_url.json")).text)
    local st = H.stats()
    assert.equal(2, count(st.s3, "^PUT stt%-cli/in/%x+/cli_s3_[ab]%.wav$"))
    local ev = {}
    for line in out:gmatch("[^\n]+") do
      local e = H.json(line)
      ev[e.event] = (ev[e.event] or 0) + 1
    end
    assert.equal(2, ev.uploading)
    assert.equal(2, ev.uploaded)
    assert.equal(3, ev.done)
  end)

  it("a missing file or a directory is a usage error; nothing is uploaded or submitted", function()
    local a = audio(dir, "cli_ok", "Fine.")
    H.write(dir .. "/list.txt", a .. "\n" .. dir .. "/nope.wav\n")
    local code, _, err = stt(("transcribe @%s -o %s --base-url %s"):format(H.sh_quote(dir .. "/list.txt"),
      H.sh_quote(dir .. "/out"), H.sh_quote(H.ds_base)), nil, dir)
    assert.equal(2, code)
    assert.matches("no such file .*nope%.wav %(line 2 of", err)
    code, _, err = stt(("transcribe %s -o %s"):format(H.sh_quote(dir), H.sh_quote(dir .. "/out")), nil, dir)
    assert.equal(2, code)
    assert.matches("is a directory", err)
    assert.equal(0, count(H.stats().requests, "."))
  end)

  it("a provider that cannot fetch local files without --upload says which options to give", function()
    local a = audio(dir, "cli_noup", "No upload.")
    local code, _, err = stt(("transcribe %s -p volcengine -o %s --base-url %s"):format(H.sh_quote(a),
      H.sh_quote(dir .. "/out"), H.sh_quote(H.sim_url .. "/las/api/v1")), "LAS_API_KEY=" .. H.key, dir)
    assert.equal(2, code)
    assert.matches("%-%-upload s3://BUCKET", err)
    assert.matches("%-%-s3%-endpoint", err)
    code, _, err = stt(("transcribe %s -p volcengine --upload s3://b -o %s"):format(H.sh_quote(a),
      H.sh_quote(dir .. "/out")), "LAS_API_KEY=" .. H.key, dir)
    assert.equal(2, code)
    assert.matches("needs %-%-s3%-endpoint", err)
    assert.equal(0, count(H.stats().requests, "."))
  end)

  it("volcengine-auc --mode flash sends a local file inline, with no storage", function()
    -- a length of its own: inline audio is known to the simulator by its bytes alone
    local a = audio(dir, "cli_flash", "Inline and quick.", 1.37)
    local code, _, err = stt(("transcribe %s -p volcengine-auc --mode flash -f json -o %s --base-url %s"):format(
      H.sh_quote(a), H.sh_quote(dir .. "/out"), H.sh_quote(H.sim_url .. "/auc/api/v3")),
      "VOLC_API_KEY=sim-auc-api-key-0001", dir)
    assert.equal(0, code, err)
    assert.equal("Inline and quick.", H.json(H.read(dir .. "/out/cli_flash.json")).text)
  end)
end)
