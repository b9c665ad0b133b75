-- The OpenResty fleet (examples/openresty/stt_fleet.lua): two nginx instances with two workers
-- each, on one Redis. Jobs posted to either host are done once, by whichever worker of whichever
-- host takes them, and read back from the other host.
local H = require "helper"
local core = require "stt.core"

describe("OpenResty fleet: 2 nginx x 2 workers on one Redis", function()
  if not H.redis_url then
    it("needs the suite's redis-server", function() pending("no STT_REDIS_URL") end)
    return
  end
  local hosts = {}
  local prefix = ("orfleet:%d:"):format(os.time())

  setup(function()
    H.reset()
    H.config({ queue_ms = 50, rtf = 0.05, min_run_ms = 0 })
    local env = ("EXAMPLE_WORKERS=2 EXAMPLE_REDIS_URL=%s EXAMPLE_REDIS_PREFIX=%s "):format(H.redis_url, prefix)
    for i = 1, 2 do
      local dir, base = H.example_start(env)
      hosts[i] = { dir = dir, base = base }
    end
  end)
  teardown(function()
    for _, h in ipairs(hosts) do H.example_stop(h.dir) end
  end)

  local function curl(args)
    return H.sh("curl -s --max-time 10 " .. args)
  end

  it("40 jobs posted to both hosts are each done once and read back from the other host", function()
    local ids, urls = {}, {}
    for i = 1, 40 do
      urls[i] = H.media(("orf%02d"):format(i), 1, ("Fleet in nginx %d."):format(i))
      local h = hosts[i % 2 + 1]
      local out = curl(("-X POST -d %s %s/fleet/jobs"):format(H.sh_quote(H.encode({ url = urls[i] })), h.base))
      ids[i] = assert(H.json(out).id, out)
    end
    local t0 = core.now()
    local done = {}
    while core.now() - t0 < 60 do
      local left = 0
      for i = 1, 40 do
        if not done[i] then
          local other = hosts[(i + 1) % 2 + 1]
          local rec = H.json(curl(other.base .. "/fleet/jobs/" .. ids[i]))
          if rec and rec.state == "succeeded" then
            assert.equal(("Fleet in nginx %d."):format(i), rec.result.text)
            done[i] = true
          else
            assert.is_true(rec and (rec.state == "queued" or rec.state == "running"), H.encode(rec))
            left = left + 1
          end
        end
      end
      if left == 0 then break end
      H.sleep(0.2)
    end
    local st = H.stats()
    for i = 1, 40 do
      assert.is_true(done[i], "job " .. i .. " never finished")
      assert.equal(1, st.submissions[urls[i]], urls[i])
    end
    local srt = curl(hosts[1].base .. "/fleet/jobs/" .. ids[1] .. "?format=srt")
    assert.matches("^1\r?\n00:00:", srt)
    -- the work was shared: more than one nginx worker process did jobs
    local workers, n = {}, 0
    for i = 1, 40 do
      local w = H.json(curl(hosts[1].base .. "/fleet/jobs/" .. ids[i])).worker
      assert.is_string(w)
      if not workers[w] then workers[w], n = true, n + 1 end
    end
    assert.is_true(n >= 2, "one worker did every job")
  end)
end)
