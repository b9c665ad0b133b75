-- Simulator start-up: paths and secret from nginx.conf (init_by_lua), RNG seed per worker.
-- luacheck: globals ngx
local M = {
  dir = nil,        -- the simulator's DIR
  media_dir = nil,  -- where /media/ is served from (and the .txt/.json references live)
  secret = nil,     -- per-simulator secret for the signed result URLs
}

function M.init(opts)
  M.dir = opts.dir
  M.media_dir = opts.media_dir
  M.secret = opts.secret
  require("sim.store").reset_config()
end

function M.init_worker()
  math.randomseed(math.floor(ngx.now() * 1000) + ngx.worker.pid())
end

return M
