-- Dispatch a request in a provider location to that provider's module.
--
-- A provider module (sim/<name>.lua) returns a table with
--   routes = { { methods = { GET = true, POST = true }, pattern = "^/prefix/(...)$",
--                handler = function(captures...) end }, ... }
--   not_found(), method_not_allowed()    optional provider-shaped error answers
-- Adding a provider = a new module + one nginx location calling serve("<name>").
-- luacheck: globals ngx
local util = require "sim.util"

local M = {}

local function default_not_found()
  return util.send_json(404, { code = "NotFound", message = "lua-stt simulator: no such route: " .. ngx.var.uri })
end

local function default_method_not_allowed()
  return util.send_json(405, { code = "MethodNotAllowed", message = "method not allowed" })
end

local function match(routes, method, uri)
  local path_matched = false
  for _, route in ipairs(routes) do
    local caps = { uri:match(route.pattern) }
    if caps[1] ~= nil then
      if route.methods[method] then
        -- A pattern without captures yields the whole match: pass no captures then.
        if caps[1] == uri and not route.pattern:find("%(") then caps = {} end
        return route, caps
      end
      path_matched = true
    end
  end
  return nil, path_matched
end

function M.serve(name)
  local mod = require("sim." .. name)
  local route, caps = match(mod.routes, ngx.req.get_method(), ngx.var.uri)
  if route then
    return route.handler(unpack(caps))
  end
  if caps then
    return (mod.method_not_allowed or default_method_not_allowed)()
  end
  return (mod.not_found or default_not_found)()
end

return M
