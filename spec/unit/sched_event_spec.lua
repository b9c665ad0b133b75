-- sched.event (lua/stt/sched.lua): what a callback's notice wakes. Inside stt.run a signal wakes the
-- waiting thread before its timeout (and cancels that timer); a signal before the wait makes the
-- wait return at once; a wait without a signal times out; outside stt.run a wait sleeps.
local sched = require "stt.sched"

describe("sched.event", function()
  it("inside stt.run: a signal from another thread wakes the waiter long before its timeout", function()
    local got, took
    sched.run(function()
      local ev = sched.event()
      local t0 = sched.now()
      sched.spawn(function() sched.sleep(0.05); ev:signal() end)
      got = ev:wait(30)
      took = sched.now() - t0
    end)
    assert.is_true(got)
    assert.is_true(took < 5, "took " .. took)
  end)

  it("a signal before the wait is kept (once); without one the wait times out with false", function()
    sched.run(function()
      local ev = sched.event()
      ev:signal()
      assert.is_true(ev:wait(30))
      local t0 = sched.now()
      assert.is_false(ev:wait(0.05))
      assert.is_true(sched.now() - t0 >= 0.04)
    end)
  end)

  it("the cancelled timer of a woken wait does not wake the thread again later", function()
    local slept
    sched.run(function()
      local ev = sched.event()
      sched.spawn(function() ev:signal() end)
      assert.is_true(ev:wait(0.1))             -- woken at once; its 0.1 s timer is now dead
      local t0 = sched.now()
      sched.sleep(0.3)                         -- this sleep must last: the dead timer is skipped
      slept = sched.now() - t0
    end)
    assert.is_true(slept >= 0.29, "the sleep ended after " .. slept .. " s")
  end)

  it("outside stt.run a wait just sleeps its timeout", function()
    local ev = sched.event()
    local t0 = sched.now()
    assert.is_false(ev:wait(0.05))
    assert.is_true(sched.now() - t0 >= 0.04)
    ev:signal()
    assert.is_true(ev:wait(0))
  end)
end)
