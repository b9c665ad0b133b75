/* compat.h - the one place where Lua 5.4 and LuaJIT 2.1 (Lua 5.1 C API) differ for stt.core.
 * Every helper carries the stt_ prefix so that nothing clashes with what newer LuaJIT/OpenResty
 * headers already declare (luaL_setfuncs & co.; see lua-cjson's history). Only stt_core.c includes it. */
#ifndef STT_COMPAT_H
#define STT_COMPAT_H
#include <lua.h>
#include <lauxlib.h>

/* Lua 5.4 and LuaJIT 2.1 (its luaconf.h defines LUA_LJDIR); PUC Lua 5.1-5.3 lack what the Lua
 * side needs (integers, goto, bit operations), so building against them is a mistake. */
#if LUA_VERSION_NUM < 504 && !defined(LUA_LJDIR)
#  error "lua-stt needs Lua 5.4 or LuaJIT 2.1 headers (with Debian's luarocks: luarocks --lua-version=5.4 make)"
#endif

#if LUA_VERSION_NUM >= 502
#  define stt_rawlen(L, i)            lua_rawlen(L, (i))
#  define stt_setfuncs(L, l, nup)     luaL_setfuncs(L, (l), (nup))
#  define stt_newlib(L, l)            luaL_newlib(L, (l))
#else
#  define stt_rawlen(L, i)            lua_objlen(L, (i))
static inline void stt_setfuncs(lua_State *L, const luaL_Reg *l, int nup) {
  luaL_checkstack(L, nup + 1, "too many upvalues");
  for (; l->name != NULL; l++) {
    int i;
    for (i = 0; i < nup; i++) lua_pushvalue(L, -nup);
    lua_pushcclosure(L, l->func, nup);
    lua_setfield(L, -(nup + 2), l->name);
  }
  lua_pop(L, nup);
}
#  define stt_newlib(L, l)            (lua_newtable(L), stt_setfuncs(L, (l), 0))
#endif

#if LUA_VERSION_NUM >= 504
#  define stt_newuserdata(L, sz)      lua_newuserdatauv(L, (sz), 0)
#else
#  define stt_newuserdata(L, sz)      lua_newuserdata(L, (sz))
#endif

/* Integers: Lua 5.3+ has a real integer subtype; LuaJIT has doubles only (exact to 2^53). */
#if LUA_VERSION_NUM >= 503
#  define stt_pushint(L, v)           lua_pushinteger(L, (lua_Integer)(v))
#  define stt_isinteger(L, i)         lua_isinteger(L, (i))
#else
#  define stt_pushint(L, v)           lua_pushnumber(L, (lua_Number)(v))
static inline int stt_isinteger(lua_State *L, int i) {
  lua_Number n;
  if (lua_type(L, i) != LUA_TNUMBER) return 0;
  n = lua_tonumber(L, i);
  return n == (lua_Number)(long long)n && n >= -9007199254740992.0 && n <= 9007199254740992.0;
}
#endif

/* Metatables by name (luaL_setmetatable / luaL_testudata arrived in 5.2). */
#if LUA_VERSION_NUM >= 502
#  define stt_setmetatable(L, name)   luaL_setmetatable(L, (name))
#  define stt_testudata(L, i, name)   luaL_testudata(L, (i), (name))
#else
#  define stt_setmetatable(L, name)   (luaL_getmetatable(L, (name)), lua_setmetatable(L, -2))
static inline void *stt_testudata(lua_State *L, int i, const char *name) {
  void *p = lua_touserdata(L, i);
  if (p == NULL || !lua_getmetatable(L, i)) return NULL;
  luaL_getmetatable(L, name);
  if (!lua_rawequal(L, -1, -2)) p = NULL;
  lua_pop(L, 2);
  return p;
}
#endif
#endif
