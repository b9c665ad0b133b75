-- Bench 6 child: one upload of a local file through lua-stt's S3 path (the client option
-- `upload = { s3 = ... }`), in a process of its own so that its peak RSS is its own. Prints
-- idle=<KiB> peak=<KiB> hash_s=<s> hash_cpu=<s> put_s=<s> cpu=<s> status=ok|<error>.
package.path = "lua/?.lua;lua/?/init.lua;spec/bench/?.lua;" .. package.path
local B = require "common"
local stt = require "stt"
local upload = require "stt.upload"        -- the step c:submit takes for a file, on its own

local path, endpoint = arg[1], arg[2]
local c = stt.client("volcengine", { api_key = "unused", upload = { s3 = { endpoint = endpoint, bucket = "bench",
  region = "us-east-1", path_style = true, access_key = "AKIDSIMEXAMPLE0001", secret_key = "sim-secret-0001" } } })
collectgarbage()
local idle = B.mem().rss
local t0, c0 = B.now(), B.cpu()
local info = assert(upload.check(path))
assert(upload.digest(info))
local t1, c1 = B.now(), B.cpu()
local got, err = upload.put(c, info, { timeout = 600 })
local t2, c2 = B.now(), B.cpu()
print(("idle=%d peak=%d hash_s=%.3f hash_cpu=%.3f put_s=%.3f put_cpu=%.3f status=%s key=%s"):format(idle,
  B.mem().hwm, t1 - t0, c1 - c0, t2 - t1, c2 - c1, got and "ok" or tostring(err), got and got.key or ""))
