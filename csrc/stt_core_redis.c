/* stt_core_redis.c - the Lua binding of the Redis client (redis.h), part of stt.core beside
 * stt_core.c (which calls stt_core_redis_open from luaopen_stt_core and stt_core_redis_push_done
 * from engine:perform()).
 *
 *   engine:redis_connect(host, port [, { connect_timeout = s }]) -> conn | nil, message
 *   conn:send(args [, timeout_s]) -> id | nil, message     args: array of strings / numbers
 *   conn:closed() -> boolean       conn:engine() -> the engine userdata (nil once closed)
 *   conn:close()                   idempotent; also __gc and __close
 *
 * A finished command comes out of engine:perform()'s done list as { id, redis = true, value }
 * or { id, redis = true, redis_error = "ERR ..." } or { id, redis = true, error = { kind, message } }.
 *
 * The connection userdata holds its engine userdata as its user value (keeping it alive, and
 * collectable with it) and the connection's id; every method looks the connection up in the
 * engine's hub, so a connection whose engine was closed first sees "closed" and touches nothing.
 * Replies are converted here, after perform(), never in a hiredis callback. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "compat.h"
#include "redis.h"

#define REDIS_MT "stt.core.redis"
#define ENGINE_MT "stt.core.engine"

typedef struct {
  long long cid;                /* 0 once closed */
} redis_box;

/* ---------------------------------------------------------------- the user value (5.4 / LuaJIT) */
static redis_box *new_box(lua_State *L) {
#if LUA_VERSION_NUM >= 504
  return lua_newuserdatauv(L, sizeof(redis_box), 1);
#else
  return lua_newuserdata(L, sizeof(redis_box));
#endif
}

/* The value at the top becomes box's (at idx, absolute) user value; it is popped. */
static void set_engine_ref(lua_State *L, int idx) {
#if LUA_VERSION_NUM >= 504
  lua_setiuservalue(L, idx, 1);
#else
  lua_createtable(L, 1, 0);
  lua_insert(L, -2);
  lua_rawseti(L, -2, 1);
  lua_setfenv(L, idx);
#endif
}

static void push_engine_ref(lua_State *L, int idx) {
#if LUA_VERSION_NUM >= 504
  lua_getiuservalue(L, idx, 1);
#else
  lua_getfenv(L, idx);
  if (lua_istable(L, -1)) lua_rawgeti(L, -1, 1); else lua_pushnil(L);
  lua_remove(L, -2);
#endif
}

/* The connection of the box at index 1, or NULL with why set. */
static stt_redis_conn *resolve(lua_State *L, redis_box *b, char *why, size_t whylen) {
  stt_engine *e;
  stt_redis_conn *c;
  if (!b->cid) { snprintf(why, whylen, "redis: connection closed"); return NULL; }
  push_engine_ref(L, 1);
  e = stt_core_engine_at(L, -1);
  lua_pop(L, 1);
  if (!e) { snprintf(why, whylen, "redis: connection closed (its engine was closed)"); return NULL; }
  c = stt_redis_find(stt_redis_hub_of(e, 0), b->cid);
  if (!c) { snprintf(why, whylen, "redis: connection closed"); return NULL; }
  return c;
}

/* engine:redis_connect(host, port [, opts]) */
static int l_redis_connect(lua_State *L) {
  stt_engine *e = stt_core_engine_at(L, 1);
  size_t hl;
  const char *host;
  lua_Integer port;
  long ct = 0;
  stt_redis_hub *h;
  stt_redis_conn *c;
  redis_box *b;
  char err[256];
  if (!e) {
    luaL_checkudata(L, 1, ENGINE_MT);
    return luaL_error(L, "engine is closed");
  }
  host = luaL_checklstring(L, 2, &hl);
  port = luaL_checkinteger(L, 3);
  if (hl == 0 || strlen(host) != hl) return luaL_argerror(L, 2, "a host name or address");
  if (port < 1 || port > 65535) return luaL_argerror(L, 3, "a port from 1 to 65535");
  if (lua_istable(L, 4)) {
    lua_getfield(L, 4, "connect_timeout");
    if (!lua_isnil(L, -1)) {
      lua_Number s = luaL_checknumber(L, -1);
      ct = s <= 0 ? 0 : s > 86400 ? 86400000L : (long)(s * 1000.0 + 0.5);
      if (s > 0 && ct == 0) ct = 1;
    }
    lua_pop(L, 1);
  }
  lua_settop(L, 4);
  b = new_box(L);                               /* index 5: made first, so nothing leaks if it fails */
  b->cid = 0;
  stt_setmetatable(L, REDIS_MT);
  lua_pushvalue(L, 1);
  set_engine_ref(L, 5);
  h = stt_redis_hub_of(e, 1);
  if (!h) return luaL_error(L, "redis_connect: out of memory");
  c = stt_redis_connect(h, host, (int)port, ct, err, sizeof err);
  if (!c) { lua_pushnil(L); lua_pushstring(L, err); return 2; }
  b->cid = stt_redis_conn_id(c);
  return 1;
}

/* A number as Redis reads it: integers exactly, other values with enough digits to round-trip. */
static void push_number_arg(lua_State *L, int idx) {
  char buf[64];
  lua_Number n = lua_tonumber(L, idx);
#if LUA_VERSION_NUM >= 503
  if (lua_isinteger(L, idx)) {
    snprintf(buf, sizeof buf, "%lld", (long long)lua_tointeger(L, idx));
    lua_pushstring(L, buf);
    return;
  }
#endif
  if (n == (lua_Number)(long long)n && n > -9.2e18 && n < 9.2e18) {
    snprintf(buf, sizeof buf, "%lld", (long long)n);
  } else {
    snprintf(buf, sizeof buf, "%.15g", (double)n);
    if (strtod(buf, NULL) != (double)n) snprintf(buf, sizeof buf, "%.17g", (double)n);
  }
  lua_pushstring(L, buf);
}

/* conn:send(args [, timeout_s]) -> id | nil, message */
static int l_redis_send(lua_State *L) {
  redis_box *b = luaL_checkudata(L, 1, REDIS_MT);
  stt_redis_conn *c;
  size_t n, i;
  const char **argv;
  size_t *lens;
  long ms = 0;
  lua_Number t;
  long long id;
  char err[256];
  luaL_checktype(L, 2, LUA_TTABLE);
  t = luaL_optnumber(L, 3, 0);
  if (t > 0) { ms = t > 86400 ? 86400000L : (long)(t * 1000.0 + 0.5); if (ms == 0) ms = 1; }
  n = stt_rawlen(L, 2);
  if (n < 1 || n > 0x7fffffff) return luaL_argerror(L, 2, "a non-empty array of strings and numbers");
  lua_settop(L, 3);
  argv = stt_newuserdata(L, n * sizeof *argv);      /* index 4: scratch, collected with the call */
  lens = stt_newuserdata(L, n * sizeof *lens);      /* index 5 */
  lua_newtable(L);                                  /* index 6: anchors the numbers' strings */
  for (i = 0; i < n; i++) {
    lua_rawgeti(L, 2, (int)i + 1);
    switch (lua_type(L, -1)) {
      case LUA_TSTRING:
        argv[i] = lua_tolstring(L, -1, &lens[i]);   /* stays anchored in the args table */
        lua_pop(L, 1);
        break;
      case LUA_TNUMBER:
        push_number_arg(L, lua_gettop(L));
        argv[i] = lua_tolstring(L, -1, &lens[i]);
        lua_rawseti(L, 6, (int)i + 1);
        lua_pop(L, 1);
        break;
      default:
        return luaL_error(L, "redis: argument %d is a %s (strings and numbers only)", (int)i + 1,
                          luaL_typename(L, -1));
    }
  }
  c = resolve(L, b, err, sizeof err);
  if (!c || !stt_redis_usable(c, err, sizeof err)) { lua_pushnil(L); lua_pushstring(L, err); return 2; }
  id = stt_redis_send(c, (int)n, argv, lens, ms, err, sizeof err);
  if (id < 0) { lua_pushnil(L); lua_pushstring(L, err); return 2; }
  stt_pushint(L, id);
  return 1;
}

/* conn:closed() -> true once closed or broken */
static int l_redis_closed(lua_State *L) {
  redis_box *b = luaL_checkudata(L, 1, REDIS_MT);
  char why[256];
  stt_redis_conn *c = resolve(L, b, why, sizeof why);
  lua_pushboolean(L, !c || !stt_redis_usable(c, why, sizeof why));
  return 1;
}

/* conn:engine() -> the engine this connection belongs to (nil once closed) */
static int l_redis_engine(lua_State *L) {
  redis_box *b = luaL_checkudata(L, 1, REDIS_MT);
  if (!b->cid) { lua_pushnil(L); return 1; }
  push_engine_ref(L, 1);
  return 1;
}

/* __gc == __close == close(): idempotent */
static int l_redis_close(lua_State *L) {
  redis_box *b = luaL_checkudata(L, 1, REDIS_MT);
  char why[256];
  stt_redis_conn *c;
  if (!b->cid) return 0;
  c = resolve(L, b, why, sizeof why);
  if (c) stt_redis_close(c);
  b->cid = 0;
  lua_pushnil(L);
  set_engine_ref(L, 1);                         /* the engine no longer kept alive by this box */
  return 0;
}

static int l_redis_tostring(lua_State *L) {
  redis_box *b = luaL_checkudata(L, 1, REDIS_MT);
  char why[256];
  stt_redis_conn *c = resolve(L, b, why, sizeof why);
  lua_pushstring(L, c && stt_redis_usable(c, why, sizeof why) ? "stt.core.redis (open)" : "stt.core.redis (closed)");
  return 1;
}

/* ---------------------------------------------------------------- replies -> Lua */
static void push_reply(lua_State *L, const stt_redis_reply *r, int depth) {
  size_t i;
  luaL_checkstack(L, 4, "redis reply too deep");
  switch (r->type) {
    case STT_REDIS_STRING: case STT_REDIS_STATUS:
      lua_pushlstring(L, r->str, r->len);
      break;
    case STT_REDIS_INTEGER:
      stt_pushint(L, r->integer);
      break;
    case STT_REDIS_NIL:
      lua_pushlightuserdata(L, NULL);            /* core.null */
      break;
    case STT_REDIS_ERROR:                        /* an error inside an array */
      lua_createtable(L, 0, 1);
      lua_pushlstring(L, r->str, r->len);
      lua_setfield(L, -2, "err");
      break;
    case STT_REDIS_ARRAY:
      lua_createtable(L, r->elements > 0x7fffffff ? 0 : (int)r->elements, 0);
      for (i = 0; i < r->elements; i++) {
        push_reply(L, r->element[i], depth + 1);
        lua_rawseti(L, -2, (int)i + 1);
      }
      break;
  }
}

/* Appends the hub's finished commands to the table at the top, from index i; returns the next
 * index. Each is popped only after its table is complete (a memory error leaves it queued). */
int stt_core_redis_push_done(lua_State *L, stt_engine *e, int i) {
  stt_redis_hub *h = stt_redis_hub_of(e, 0);
  stt_redis_done *d;
  while ((d = stt_redis_peek_done(h)) != NULL) {
    lua_createtable(L, 0, 3);
    stt_pushint(L, d->id); lua_setfield(L, -2, "id");
    lua_pushboolean(L, 1); lua_setfield(L, -2, "redis");
    if (d->fail != STT_REDIS_OK) {
      lua_createtable(L, 0, 2);
      lua_pushstring(L, stt_redis_fail_name(d->fail)); lua_setfield(L, -2, "kind");
      lua_pushstring(L, d->errmsg); lua_setfield(L, -2, "message");
      lua_setfield(L, -2, "error");
    } else if (d->reply->type == STT_REDIS_ERROR) {
      lua_pushlstring(L, d->reply->str, d->reply->len);
      lua_setfield(L, -2, "redis_error");
    } else {
      push_reply(L, d->reply, 0);
      lua_setfield(L, -2, "value");
    }
    lua_rawseti(L, -2, i++);
    stt_redis_done_free(stt_redis_pop_done(h));
  }
  return i;
}

static const luaL_Reg redis_methods[] = {
  {"send", l_redis_send}, {"closed", l_redis_closed}, {"engine", l_redis_engine},
  {"close", l_redis_close}, {NULL, NULL}
};

void stt_core_redis_open(lua_State *L) {
  luaL_newmetatable(L, REDIS_MT);
  lua_newtable(L);
  stt_setfuncs(L, redis_methods, 0);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, l_redis_close);           /* one function object for both (LuaJIT too) */
  lua_pushvalue(L, -1); lua_setfield(L, -3, "__gc");
  lua_setfield(L, -2, "__close");
  lua_pushcfunction(L, l_redis_tostring); lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
  /* engine:redis_connect, beside the engine's own methods */
  luaL_getmetatable(L, ENGINE_MT);
  lua_getfield(L, -1, "__index");
  lua_pushcfunction(L, l_redis_connect);
  lua_setfield(L, -2, "redis_connect");
  lua_pop(L, 2);
}
