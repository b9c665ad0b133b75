-- DashScope temporary storage schema (csrc/providers/dashscope_upload.c) through the binding:
-- the policy request and answer, the OSS PostObject form and its answers. Pure: no network. The
-- bodies follow the examples of https://help.aliyun.com/zh/model-studio/get-temporary-file-url
-- and OSS's error format (docs/providers.md#dashscope-temporary-storage, #oss-errors).
local S = require("schema_helper").new {
  provider = "dashscope", secrets = { api_key = "sk-TEST-upload-SECRET" }, secret_headers = { Authorization = true },
}
local build, parse = S.build, S.parse

local POLICY_ANSWER = [[{"request_id":"52f4383a-c67d-9f8c","data":{"policy":"eyJlcG9saWN5In0=",
"signature":"eWy1=","upload_dir":"dashscope-instant/abc/2024-07-18/xyz",
"upload_host":"https://dashscope-file-xxx.oss-cn-beijing.aliyuncs.com","expire_in_seconds":300,
"max_file_size_mb":100,"capacity_limit_mb":999999999,"oss_access_key_id":"LTAI-test",
"x_oss_object_acl":"private","x_oss_forbid_overwrite":"true"}}]]

local function header(req, name)
  for _, h in ipairs(req.headers) do if h[1] == name then return h[2] end end
end

describe("dashscope upload schema", function()
  describe("upload_policy", function()
    it("GETs {base}/uploads?action=getPolicy&model=M with the bearer, Accept and the doc's Content-Type", function()
      local req = assert(build("upload_policy", { model = "paraformer-v2" }))
      assert.equal("GET", req.method)
      assert.equal("https://dashscope.aliyuncs.com/api/v1/uploads?action=getPolicy&model=paraformer-v2", req.url)
      assert.equal("Bearer sk-TEST-upload-SECRET", header(req, "Authorization"))
      assert.equal("application/json", header(req, "Content-Type"))
      assert.matches("^application/json", header(req, "Accept"))
      assert.is_nil(req.body)
    end)

    it("follows region, base_url and workspace, and escapes the model", function()
      local req = assert(build("upload_policy", { model = "a b&c", region = "intl", workspace = "ws-1" }))
      assert.equal("https://dashscope-intl.aliyuncs.com/api/v1/uploads?action=getPolicy&model=a%20b%26c", req.url)
      assert.equal("ws-1", header(req, "X-DashScope-WorkSpace"))
      req = assert(build("upload_policy", { model = "m", base_url = "http://127.0.0.1:9/x/" }))
      assert.equal("http://127.0.0.1:9/x/uploads?action=getPolicy&model=m", req.url)
    end)

    it("needs a model and a key", function()
      local _, err = build("upload_policy", {})
      assert.equal("invalid", err.kind)
      _, err = build("upload_policy", { model = "m", api_key = false })
      assert.equal("auth", err.kind)
      assert.matches("DASHSCOPE_API_KEY", err.message)
    end)

    it("reads the answer, its counts as numbers or as the strings the doc's table names", function()
      local p = assert(parse("upload_policy", 200, POLICY_ANSWER))
      assert.same({ policy = "eyJlcG9saWN5In0=", signature = "eWy1=",
        upload_dir = "dashscope-instant/abc/2024-07-18/xyz",
        upload_host = "https://dashscope-file-xxx.oss-cn-beijing.aliyuncs.com", oss_access_key_id = "LTAI-test",
        x_oss_object_acl = "private", x_oss_forbid_overwrite = "true", expire_in_seconds = 300,
        max_file_size_mb = 100, capacity_limit_mb = 999999999, request_id = "52f4383a-c67d-9f8c" }, p)
      local as_strings = POLICY_ANSWER:gsub(":300,", ':"300",'):gsub(":100,", ':"100",')
      p = assert(parse("upload_policy", 200, as_strings))
      assert.equal(300, p.expire_in_seconds)
      assert.equal(100, p.max_file_size_mb)
      p = assert(parse("upload_policy", 200, (POLICY_ANSWER:gsub(":100,", ':"0.5",'))))
      assert.equal(0.5, p.max_file_size_mb)
      p = assert(parse("upload_policy", 200, (POLICY_ANSWER:gsub(":100,", ':"lots",'))))
      assert.is_nil(p.max_file_size_mb)
      p = assert(parse("upload_policy", 200, (POLICY_ANSWER:gsub('"true"', "true"))))
      assert.equal("true", p.x_oss_forbid_overwrite)
    end)

    it("an answer without a needed member is a protocol error", function()
      for _, member in ipairs({ "policy", "signature", "upload_dir", "upload_host", "oss_access_key_id" }) do
        local _, err = parse("upload_policy", 200,
          (POLICY_ANSWER:gsub('"' .. member .. '":', '"x_' .. member .. '":')))
        assert.equal("protocol", err.kind)
        assert.matches(member, err.message)
      end
      local _, err = parse("upload_policy", 200, '{"request_id":"r"}')
      assert.equal("protocol", err.kind)
    end)

    it("errors are DashScope's: 401, 429 Throttling.RateQuota (retryable), an envelope in a 200", function()
      local _, err = parse("upload_policy", 401,
        '{"request_id":"r1","code":"InvalidApiKey","message":"Invalid API-key"}')
      assert.equal("auth", err.kind)
      assert.equal("InvalidApiKey", err.code)
      assert.equal("r1", err.request_id)
      _, err = parse("upload_policy", 429, '{"request_id":"r2","code":"Throttling.RateQuota","message":"slow down"}')
      assert.equal("throttled", err.kind)
      assert.is_true(err.retryable)
      _, err = parse("upload_policy", 200, '{"request_id":"r3","code":"InvalidParameter","message":"bad model"}')
      assert.equal("InvalidParameter", err.code)
    end)
  end)

  describe("upload_form", function()
    local policy = assert(parse("upload_policy", 200, POLICY_ANSWER))

    it("POSTs the SDKs' fields in their order to upload_host, the file last", function()
      local req = assert(build("upload_form", { policy = policy, name = "talk 1.mp3", path = "/data/talk 1.mp3",
                                                content_type = "audio/mpeg" }))
      assert.equal("POST", req.method)
      assert.equal(policy.upload_host, req.url)
      assert.same({
        { "OSSAccessKeyId", "LTAI-test" }, { "Signature", "eWy1=" }, { "policy", "eyJlcG9saWN5In0=" },
        { "key", "dashscope-instant/abc/2024-07-18/xyz/talk 1.mp3" }, { "x-oss-object-acl", "private" },
        { "x-oss-forbid-overwrite", "true" }, { "success_action_status", "200" },
        { "x-oss-content-type", "audio/mpeg" },
      }, req.form)
      assert.same({ field = "file", name = "talk 1.mp3", type = "audio/mpeg" }, req.form_file)
      assert.equal("/data/talk 1.mp3", req.body_file)
      assert.equal("dashscope-instant/abc/2024-07-18/xyz/talk 1.mp3", req.key)
      assert.is_nil(header(req, "Authorization"))              -- the form carries the auth
    end)

    it("leaves out the optional acl fields a policy lacks, and types an unknown file as octet-stream", function()
      local p = {}
      for k, v in pairs(policy) do p[k] = v end
      p.x_oss_object_acl, p.x_oss_forbid_overwrite = nil, nil
      p.upload_dir = p.upload_dir .. "/"
      local req = assert(build("upload_form", { policy = p, name = "a.wav", path = "/a.wav" }))
      assert.equal(6, #req.form)
      assert.equal("dashscope-instant/abc/2024-07-18/xyz/a.wav", req.key)
      assert.equal("application/octet-stream", req.form_file.type)
    end)

    it("refuses a name that is no file name, and a policy that is not one", function()
      for _, name in ipairs({ "", "a/b.wav", "..", "a\nb.wav", ("x"):rep(256) }) do
        local _, err = build("upload_form", { policy = policy, name = name, path = "/a.wav" })
        assert.equal("invalid", err.kind)
      end
      local _, err = build("upload_form", { policy = { upload_host = "x" }, name = "a.wav", path = "/a.wav" })
      assert.equal("invalid", err.kind)
      local p = {}
      for k, v in pairs(policy) do p[k] = v end
      p.upload_host = "ftp://host/"
      _, err = build("upload_form", { policy = p, name = "a.wav", path = "/a.wav" })
      assert.equal("protocol", err.kind)
    end)

    it("200 is done; OSS XML errors are classified by status and code", function()
      local ok = assert(parse("upload_form", 200, "", { headers = { ["x-oss-request-id"] = "oss-1" } }))
      assert.same({ ok = true, request_id = "oss-1" }, ok)
      local function xml(code, msg)
        return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>%s</Code>\n  <Message>%s</Message>\n"
          .. "  <RequestId>RID-%s</RequestId>\n  <HostId>h</HostId>\n  <EC>0006-00000001</EC>\n</Error>")
          :format(code, msg, code)
      end
      local cases = {
        { 403, "AccessDenied", "Invalid according to Policy: Policy expired.", "auth", true },
        { 403, "SignatureDoesNotMatch", "The request signature we calculated does not match", "auth", false },
        { 403, "AccessDenied", "Invalid according to Policy: Policy Condition failed", "auth", false },
        { 400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.", "invalid", false },
        { 409, "FileAlreadyExists", "The object you specified already exists", "invalid", false },
        { 503, "ServiceUnavailable", "busy", "server", true },
      }
      for _, c in ipairs(cases) do
        local _, err = parse("upload_form", c[1], xml(c[2], c[3]))
        assert.equal(c[4], err.kind, c[2])
        assert.equal(c[5], err.retryable, c[2] .. " " .. c[3])
        assert.equal(c[2], err.code)
        assert.equal("RID-" .. c[2], err.request_id)
        assert.equal(c[1], err.status)
        assert.matches(c[3]:sub(1, 20), err.message, 1, true)
      end
      local _, err = parse("upload_form", 502, "", { headers = { ["x-oss-request-id"] = "oss-2" } })
      assert.equal("server", err.kind)
      assert.equal("oss-2", err.request_id)
      assert.matches("empty body", err.message)
    end)
  end)
end)
