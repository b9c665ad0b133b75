rockspec_format = "3.0"
package = "lua-stt"
version = "scm-1"
source = {
  url = "git+https://example.invalid/lua-stt.git",
}
description = {
  summary = "Asynchronous speech-to-text for Lua: DashScope, Volcengine, TCL Turing",
  detailed = [[
A C core (libcurl multi engine, JSON, provider wire schemas) with a coroutine-friendly Lua API:
submit / poll / wait / transcribe, normalized results, subtitles, local files, and a task store
and work queue on Redis shared by many processes and hosts.]],
  license = "MIT",
}
-- Lua 5.4 or LuaJIT 2.1 (which reports itself as 5.1): the Makefile's `rock` target refuses
-- any other Lua with a message, since a rockspec cannot say "5.4 or LuaJIT".
dependencies = {
  "lua >= 5.1",
  "argparse >= 0.7",        -- the `stt` command line (Debian: lua-argparse)
}
external_dependencies = {
  CURL = { library = "curl" },   -- the header sits in a multiarch folder on Debian (pkg-config finds it)
  CRYPTO = { library = "crypto" },       -- OpenSSL: SHA-256, HMAC (uploads, SigV4)
  HIREDIS = { library = "hiredis" },     -- the Redis client of the task store and work queue
}
-- The Makefile builds under build/rock/ (nothing is written beside the sources) and installs
-- every module under lua/ and the core.
build = {
  type = "make",
  build_target = "rock",
  build_variables = { LUA_INCDIR = "$(LUA_INCDIR)", CC = "$(CC)" },
  install_target = "rock-install",
  install_variables = { LUA_INCDIR = "$(LUA_INCDIR)", INST_LUADIR = "$(LUADIR)", INST_LIBDIR = "$(LIBDIR)" },
  install = { bin = { stt = "bin/stt" } },
}
-- `luarocks test`: the pure tier (spec/unit/, busted), which needs only Lua, the libraries the core
-- links (libcurl, OpenSSL's libcrypto, hiredis) and busted;
-- `make test` runs the whole suite against the bundled simulator.
test = {
  type = "command",
  command = "make unit",
}
