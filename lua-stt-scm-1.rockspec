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
submit / poll / wait / transcribe, normalized results, subtitles.]],
  license = "MIT",
}
dependencies = {
  "lua >= 5.1",
}
external_dependencies = {
  CURL = { library = "curl" },   -- the header sits in a multiarch folder on Debian
}
build = {
  type = "builtin",
  modules = {
    ["stt"] = "lua/stt/init.lua",
    ["stt.capabilities"] = "lua/stt/capabilities.lua",
    ["stt.cli"] = "lua/stt/cli.lua",
    ["stt.client"] = "lua/stt/client.lua",
    ["stt.errors"] = "lua/stt/errors.lua",
    ["stt.hotwords"] = "lua/stt/hotwords.lua",
    ["stt.journal"] = "lua/stt/journal.lua",
    ["stt.ratelimit"] = "lua/stt/ratelimit.lua",
    ["stt.sched"] = "lua/stt/sched.lua",
    ["stt.subtitle"] = "lua/stt/subtitle.lua",
    ["stt.transport.curl"] = "lua/stt/transport/curl.lua",
    ["stt.transport.ngx"] = "lua/stt/transport/ngx.lua",
    ["stt.core"] = {
      sources = {
        "csrc/stt_core.c", "csrc/engine.c", "csrc/headers.c", "csrc/json.c", "csrc/buf.c", "csrc/providers.c",
        "csrc/providers/dashscope.c", "csrc/providers/dashscope_vocabulary.c",
        "csrc/providers/volcengine.c", "csrc/providers/volcengine_auc.c",
        "csrc/providers/volcengine_common.c", "csrc/providers/turing.c",
      },
      defines = { "_POSIX_C_SOURCE=200809L" },
      libraries = { "curl" },
      incdirs = { "$(CURL_INCDIR)" },
      libdirs = { "$(CURL_LIBDIR)" },
    },
  },
  install = { bin = { stt = "bin/stt" } },
}
test = {
  type = "command",
  command = "make test",
}
