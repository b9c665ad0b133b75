-- Local files end to end against the simulator: DashScope's temporary storage (policy, OSS form
-- POST, oss:// with the resolve header), an S3-compatible store (SigV4 PUT, presigned GET fetched
-- by the provider, path and virtual-host style), an upload hook, Volcengine AUC flash inline, the
-- journal's reuse of uploads, progress events, and every bad input refused before anything is sent.
local H = require "helper"
local stt = require "stt"

local AK, SK = "AKIDSIMEXAMPLE0001", "sim-secret-0001"
local TEXT = "A local file, heard through the simulator."

local function ds(opts)
  return H.client("dashscope", { api_key = H.key, base_url = H.ds_base }, opts)
end

local function las(opts)
  return H.client("volcengine", { api_key = H.key, base_url = H.sim_url .. "/las/api/v1" }, opts)
end

-- A WAV in the simulator's media folder (so its reference text is known) used as a local file.
local function local_wav(name, seconds, text)
  H.media(name, seconds or 1, text or TEXT)
  return H.sim_dir .. "/media/" .. name .. ".wav"
end

local count = H.count

local function s3_cfg(extra)
  local cfg = { endpoint = H.sim_url .. "/s3", bucket = "stt-bucket", region = "us-east-1", prefix = "jobs/",
                path_style = true, access_key = AK, secret_key = SK }
  for k, v in pairs(extra or {}) do cfg[k] = v end
  return cfg
end

describe("local files", function()
  before_each(function()
    H.quick_sim()
    H.config({ process_inline = true })
  end)

  describe("DashScope temporary storage (the default upload)", function()
    it("uploads the file, submits oss://<key> with the resolve header, and hears it", function()
      local path = local_wav("ds_local")
      local res, err = ds():transcribe({ file = path, language = "en" })
      assert.is_nil(err)
      assert.equal(TEXT, res.text)
      local st = H.stats()
      assert.equal(1, st.upload_policies["paraformer-v2"])
      assert.equal(1, count(st.uploads, "ds_local%.wav$"))
      local sub
      for url in pairs(st.submissions) do sub = url end
      assert.matches("^oss://dashscope%-instant/.+/ds_local%.wav$", sub)
      -- heard at all: the simulator resolves oss:// only with X-DashScope-OssResourceResolve: enable
    end)

    it("refuses a file over the policy's max_file_size_mb before posting it", function()
      H.config({ upload_max_mb = 0.01 })             -- 10485 bytes; a 1 s WAV is 32044
      local res, err = ds():transcribe({ file = local_wav("ds_big") })
      assert.is_nil(res)
      assert.equal("invalid", err.kind)
      assert.matches("at most 0.01 MB", err.message)
      assert.matches("upload", err.message)
      local st = H.stats()
      assert.equal(0, count(st.uploads, "."))
      assert.equal(0, count(st.requests, "^POST /dashscope/api/v1/services"))
    end)

    it("asks for a new policy when the one it used expired on the way, and stops after its retries", function()
      H.config({ upload_policy_ttl_s = -1 })
      local seen, on_event = H.event_log()
      local res, err = ds({ on_event = on_event }):transcribe({ file = local_wav("ds_expired") })
      assert.is_nil(res)
      assert.equal("auth", err.kind)
      assert.equal("AccessDenied", err.code)
      assert.matches("Policy expired", err.message)
      assert.equal(4, H.stats().upload_policies["paraformer-v2"])   -- first try + 3 retries
      assert.matches("retry", table.concat(seen, " "))
      assert.equal(0, count(H.stats().requests, "^POST /dashscope/api/v1/services"))
    end)

    it("retries the form POST after a 503 and succeeds", function()
      H.fault({ path = "/oss-upload/", method = "POST", count = 1, type = "503" })
      local res, err = ds():transcribe({ file = local_wav("ds_503") })
      assert.is_nil(err)
      assert.equal(TEXT, res.text)
      assert.equal(2, H.stats().upload_policies["paraformer-v2"])
    end)

    it("files = {...} uploads each one for a batch model", function()
      local a, b = local_wav("ds_a", 1, "First file."), local_wav("ds_b", 1, "Second file.")
      local res, err = ds():transcribe({ files = { a, b } })
      assert.is_nil(err)
      assert.equal(2, #res.files)
      assert.equal("First file.", res.files[1].result.text)
      assert.equal("Second file.", res.files[2].result.text)
    end)
  end)

  describe("an S3-compatible store", function()
    it("PUTs the file signed (payload hash included) and hands the provider a presigned GET (path style)", function()
      local path = local_wav("s3_path")
      local res, err = las({ upload = { s3 = s3_cfg() } }):transcribe({ file = path })
      assert.is_nil(err)
      assert.equal(TEXT, res.text)
      local st = H.stats()
      assert.equal(1, count(st.s3, "^PUT stt%-bucket/jobs/%x+/s3_path%.wav$"))
      assert.equal(32044, st.s3_bytes[next(st.s3_bytes)])
      local sub = next(st.submissions)
      assert.matches("/s3/stt%-bucket/jobs/%x+/s3_path%.wav%?X%-Amz%-Algorithm=AWS4%-HMAC%-SHA256&", sub)
      assert.matches("X%-Amz%-Expires=86400", sub)
    end)

    it("works virtual-host style, with a session token, and a key with spaces and non-ASCII characters", function()
      local dir = H.tmpdir()
      local path = dir .. "/Réunion du lundi.wav"
      assert(os.execute("cp " .. H.sh_quote(local_wav("s3_vhost")) .. " " .. H.sh_quote(path)))
      H.write(H.sim_dir .. "/media/Réunion du lundi.txt", TEXT)     -- the object's reference text
      local cfg = s3_cfg({ endpoint = H.sim_url:gsub("127%.0%.0%.1", "localhost") .. "/s3", path_style = false,
                           session_token = "sim-session-token", prefix = "my files/" })
      local res, err = las({ upload = { s3 = cfg } }):transcribe({ file = path })
      assert.is_nil(err)
      assert.equal(TEXT, res.text)
      local key = next(H.stats().s3_bytes)
      assert.matches("^stt%-bucket/my files/%x+/Réunion du lundi%.wav$", key)
    end)

    it("the provider fails the task when the presigned URL expired or names no object", function()
      local path = local_wav("s3_gone")
      local cfg = s3_cfg()
      local function presigned(key, t)
        return function()
          return stt.s3.presign({ url = cfg.endpoint .. "/" .. cfg.bucket .. "/" .. key, region = cfg.region,
                                  access_key = AK, secret_key = SK, expires = 60, time = t })
        end
      end
      assert.is_nil(select(2, las({ upload = { s3 = cfg } }):transcribe({ file = path })))
      local stored = next(H.stats().s3_bytes):match("^[^/]+/(.*)$")
      for _, hook in ipairs({ presigned(stored, os.time() - 3600), presigned("jobs/missing.wav", os.time()) }) do
        local res, err = las({ upload = hook }):transcribe({ file = path, force = true })
        assert.is_nil(res)
        assert.equal("task_failed", err.kind)
      end
    end)

    it("a refused signature is an auth error naming the store's code; nothing is submitted", function()
      local res, err = las({ upload = { s3 = s3_cfg({ secret_key = "wrong-secret" }) } })
        :transcribe({ file = local_wav("s3_bad") })
      assert.is_nil(res)
      assert.equal("auth", err.kind)
      assert.equal("SignatureDoesNotMatch", err.code)
      assert.equal(403, err.status)
      assert.is_false(err.retryable)
      assert.not_matches("wrong%-secret", tostring(err))
      assert.equal(0, count(H.stats().requests, "^POST /las/"))
    end)

    it("missing keys are an auth error that names the variables", function()
      local cfg = s3_cfg()
      cfg.access_key, cfg.secret_key = nil, nil
      local c = las({ upload = { s3 = cfg } })
      local saved_ak = os.getenv("AWS_ACCESS_KEY_ID")
      if saved_ak then pending("AWS_ACCESS_KEY_ID is set in this environment") return end
      local res, err = c:transcribe({ file = local_wav("s3_nokey") })
      assert.is_nil(res)
      assert.equal("auth", err.kind)
      assert.matches("AWS_ACCESS_KEY_ID", err.message)
    end)

    it("retries a PUT that failed with 500, with a retry event", function()
      H.fault({ path = "/s3/", method = "PUT", count = 2, type = "500" })
      local seen, on_event = H.event_log()
      local c = las({ upload = { s3 = s3_cfg() }, on_event = on_event })
      local res, err = c:transcribe({ file = local_wav("s3_500") })
      assert.is_nil(err)
      assert.equal(TEXT, res.text)
      local retries = 0
      for _, e in ipairs(seen) do if e:match("^retry") then retries = retries + 1 end end
      assert.is_true(retries >= 2)
    end)
  end)

  describe("an upload hook", function()
    it("gets { name, size, sha256, content_type, provider, model } and may yield inside stt.run", function()
      local path = local_wav("hook_file")
      local got
      local c = H.client("turing", { api_key = H.key, base_url = H.sim_url .. "/turing/api/v1" }, {
        upload = function(p, info)
          got = info
          stt.sleep(0.01)
          assert.equal(path, p)
          return H.sim_url .. "/media/hook_file.wav", os.time() + 3600
        end })
      local res, err
      stt.run(function() res, err = c:transcribe({ file = path }) end)
      assert.is_nil(err)
      assert.equal(TEXT, res.text)
      assert.same({ name = "hook_file.wav", size = 32044, content_type = "audio/wav", provider = "turing",
                    model = c.model, sha256 = H.sh("sha256sum " .. H.sh_quote(path)):match("^%x+") }, got)
    end)

    it("an error raised in the hook is an invalid error, and nothing is submitted", function()
      local c = las({ upload = function() error("bucket unreachable") end })
      local res, err = c:transcribe({ file = local_wav("hook_err") })
      assert.is_nil(res)
      assert.equal("invalid", err.kind)
      assert.matches("bucket unreachable", err.message)
      assert.equal(0, count(H.stats().requests, "^POST /las/"))
    end)
  end)

  describe("the journal", function()
    it("knows a file by its content: a copy elsewhere is neither uploaded nor submitted again", function()
      local dir = H.tmpdir()
      local jpath = dir .. "/j.jsonl"
      local path = local_wav("j_same")
      local res1, err1 = ds({ journal = jpath }):transcribe({ file = path })
      assert.is_nil(err1)
      local copy = dir .. "/renamed.wav"
      assert(os.execute("cp " .. H.sh_quote(path) .. " " .. H.sh_quote(copy)))
      local res2, err2 = ds({ journal = jpath }):transcribe({ file = copy })
      assert.is_nil(err2)
      assert.equal(res1.task_id, res2.task_id)
      local st = H.stats()
      assert.equal(1, st.upload_policies["paraformer-v2"])
      assert.equal(1, count(st.requests, "^POST /dashscope/api/v1/services"))
    end)

    it("reuses an upload for another job while valid, and uploads again before submitting once not", function()
      local dir = H.tmpdir()
      local jpath = dir .. "/j.jsonl"
      local path = local_wav("j_reuse")
      local hooks = 0
      local life = 7 * 3600
      local function hook()
        hooks = hooks + 1
        return H.sim_url .. "/media/j_reuse.wav", os.time() + life
      end
      local function c() return las({ journal = jpath, upload = hook }) end
      assert.is_nil(select(2, c():transcribe({ file = path, language = "en-US" })))
      assert.is_nil(select(2, c():transcribe({ file = path, language = "zh-CN" })))   -- another job
      assert.equal(1, hooks)
      life = 60                                                  -- the next upload lives 1 minute
      assert.is_nil(select(2, c():transcribe({ file = path, language = "ja-JP" })))
      assert.equal(1, hooks)                                     -- 7 h left > 6 h margin: reused
      -- journal a short-lived upload, then a new job: the short one is not reused
      local j = assert(stt.journal.open(jpath))
      local info = { sha256 = H.sh("sha256sum " .. H.sh_quote(path)):match("^%x+"), name = "j_reuse.wav", size = 32044 }
      assert(j:uploaded("hook", info, { url = H.sim_url .. "/media/j_reuse.wav", expires_at = os.time() + 60 }))
      j:close()
      assert.is_nil(select(2, c():transcribe({ file = path, language = "ko-KR" })))
      assert.equal(2, hooks)
      assert.equal(4, count(H.stats().requests, "^POST /las/api/v1/.*submit"))
    end)
  end)

  it("upload events report bytes sent and the total, ending at the total", function()
    local events = {}
    local c = las({ upload = { s3 = s3_cfg() }, on_event = function(ev)
      if ev.type == "upload" then events[#events + 1] = ev end
    end })
    local res, err
    stt.run(function() res, err = c:transcribe({ file = local_wav("progress", 5) }) end)
    assert.is_nil(err)
    assert.is_table(res)
    assert.is_true(#events >= 2)
    assert.equal(0, events[1].sent)
    assert.equal(160044, events[#events].sent)
    for i, e in ipairs(events) do
      assert.equal("progress.wav", e.file)
      assert.equal(160044, e.total)
      if i > 1 then assert.is_true(e.sent >= events[i - 1].sent) end
    end
  end)

  describe("Volcengine AUC flash", function()
    local function auc(opts)
      return H.client("volcengine-auc", { api_key = "sim-auc-api-key-0001", base_url = H.sim_url .. "/auc/api/v3",
                                          mode = "flash" }, opts)
    end

    it("sends a small local file inline (audio.data) without any storage", function()
      -- a length of its own: inline audio is known to the simulator by its bytes alone
      local res, err = auc():transcribe({ file = local_wav("flash_local", 1.23) })
      assert.is_nil(err)
      assert.equal(TEXT, res.text)
      assert.equal(0, count(H.stats().s3, "."))
    end)

    it("refuses a file over 100 MB, naming the limit and the upload option", function()
      local path = H.tmpdir() .. "/huge.wav"
      assert(os.execute("truncate -s 105000000 " .. H.sh_quote(path)))
      local res, err = auc():transcribe({ file = path })
      assert.is_nil(res)
      assert.equal("invalid", err.kind)
      assert.matches("100 MB", err.message)
      assert.matches("upload", err.message)
      assert.equal(0, count(H.stats().requests, "^POST /auc/"))
    end)
  end)

  describe("bad input is refused before anything is sent", function()
    local function nothing_sent()
      local st = H.stats()
      assert.equal(0, count(st.requests, "^POST /dashscope/") + count(st.requests, "^GET /dashscope/"))
    end

    it("a missing file is not_found", function()
      local res, err = ds():transcribe({ file = "/nonexistent/talk.mp3" })
      assert.is_nil(res)
      assert.equal("not_found", err.kind)
      assert.matches("/nonexistent/talk.mp3", err.message)
      nothing_sent()
    end)

    it("a directory, an empty file and an unknown extension are invalid", function()
      local dir = H.tmpdir()
      local empty = dir .. "/empty.wav"
      H.write(empty, "")
      local text = dir .. "/notes.txt"
      H.write(text, "not audio")
      for path, pat in pairs({ [dir] = "directory", [empty] = "empty", [text] = "%.txt" }) do
        local res, err = ds():transcribe({ file = path })
        assert.is_nil(res)
        assert.equal("invalid", err.kind)
        assert.matches(pat, err.message)
      end
      nothing_sent()
    end)

    it("a provider without an upload path says which option to set", function()
      local res, err = las():transcribe({ file = local_wav("no_upload") })
      assert.is_nil(res)
      assert.equal("invalid", err.kind)
      assert.matches("client option upload", err.message)
      assert.equal(0, count(H.stats().requests, "^POST /las/"))
    end)

    it("url and file together is a programming error", function()
      assert.has_error(function() ds():submit({ url = "https://x/a.wav", file = "/tmp/a.wav" }) end)
    end)
  end)
end)
