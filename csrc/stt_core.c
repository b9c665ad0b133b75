/* stt_core.c - the Lua binding of stt.core. With compat.h, the only file that knows the Lua C API:
 * it converts Lua tables <-> JSON DOM for the pure schemas (provider.h) and wraps the libcurl
 * engine (engine.h) as a userdata whose __gc, __close and close() are one idempotent function.
 * Nothing here calls Lua from a libcurl callback, blocks (except engine:wait(ms)), or yields. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include "compat.h"
#include "json.h"
#include "provider.h"
#include "engine.h"
#include "redis.h"
#include "score.h"
#include "signals.h"
#include "digest.h"
#include "sigv4.h"
#include <signal.h>

#define STT_VERSION "0.1.0"
#define ENGINE_MT "stt.core.engine"
#define HASHER_MT "stt.core.file_hasher"
#define ARENA_MT "stt.core.arena"
#define MAX_DEPTH 100

/* ---------------------------------------------------------------- arena box (leak-safe on error) */
typedef struct { stt_arena *a; } arena_box;

static int arena_gc(lua_State *L) {
  arena_box *b = luaL_checkudata(L, 1, ARENA_MT);
  stt_arena_free(b->a);
  b->a = NULL;
  return 0;
}

/* Pushes a userdata that owns a fresh arena, so a Lua error mid-conversion cannot leak it. */
static stt_arena *push_arena(lua_State *L) {
  arena_box *b = stt_newuserdata(L, sizeof *b);
  b->a = NULL;
  stt_setmetatable(L, ARENA_MT);
  b->a = stt_arena_new();
  if (!b->a) luaL_error(L, "out of memory");
  return b->a;
}

static void release_arena(lua_State *L, int idx) {
  arena_box *b = luaL_checkudata(L, idx, ARENA_MT);
  stt_arena_free(b->a);
  b->a = NULL;
}

/* ---------------------------------------------------------------- Lua -> DOM */
static stt_json *to_dom(lua_State *L, stt_arena *a, int idx, int depth);

/* An array is a table whose keys are exactly 1..n (n >= 1). */
static int table_array_len(lua_State *L, int idx) {
  size_t n = stt_rawlen(L, idx), count = 0;
  if (n == 0) return -1;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (!stt_isinteger(L, -1)) { lua_pop(L, 1); return -1; }
    count++;
  }
  return count == n ? (int)n : -1;
}

typedef struct { const char *k; size_t len; stt_json *v; } keyref;

static int cmp_key(const void *pa, const void *pb) {
  const keyref *x = pa, *y = pb;
  size_t m = x->len < y->len ? x->len : y->len;
  int c = memcmp(x->k, y->k, m);
  return c ? c : (x->len < y->len ? -1 : x->len > y->len);
}

static stt_json *table_to_dom(lua_State *L, stt_arena *a, int idx, int depth) {
  int n = table_array_len(L, idx);
  stt_json *out;
  if (n > 0) {
    int i;
    out = stt_jarr(a);
    if (!out) luaL_error(L, "out of memory");
    for (i = 1; i <= n; i++) {
      lua_rawgeti(L, idx, i);
      stt_jpush(out, to_dom(L, a, lua_gettop(L), depth + 1));
      lua_pop(L, 1);
    }
    return out;
  }
  /* Object: keys sorted bytewise so that encoding is deterministic whatever Lua's hash order.
   * Each value is converted as lua_next meets it; the key strings stay valid without anchoring
   * them, because the table holding them is on the stack and is not changed meanwhile. */
  {
    size_t count = 0, i = 0;
    keyref *keys;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
      lua_pop(L, 1);
      if (lua_type(L, -1) != LUA_TSTRING)
        luaL_error(L, "cannot encode a table with a %s key as JSON", luaL_typename(L, -1));
      count++;
    }
    out = stt_jobj(a);
    if (!out) luaL_error(L, "out of memory");
    if (count == 0) return out;
    keys = stt_arena_alloc(a, count * sizeof *keys);
    if (!keys) luaL_error(L, "out of memory");
    lua_pushnil(L);
    while (lua_next(L, idx)) {            /* the same `count` keys: nothing changes the table */
      keys[i].k = lua_tolstring(L, -2, &keys[i].len);
      keys[i].v = to_dom(L, a, lua_gettop(L), depth + 1);
      lua_pop(L, 1);
      i++;
    }
    if (count > 1) qsort(keys, count, sizeof *keys, cmp_key);
    for (i = 0; i < count; i++) {
      if (stt_jset(a, out, stt_arena_strndup(a, keys[i].k, keys[i].len), keys[i].v) != 0)
        luaL_error(L, "out of memory");
    }
    return out;
  }
}

static stt_json *to_dom(lua_State *L, stt_arena *a, int idx, int depth) {
  stt_json *j = NULL;
  if (depth > MAX_DEPTH) luaL_error(L, "cannot encode: nesting deeper than %d (a cycle?)", MAX_DEPTH);
  switch (lua_type(L, idx)) {
    case LUA_TNIL: j = stt_jnull(a); break;
    case LUA_TBOOLEAN: j = stt_jbool(a, lua_toboolean(L, idx)); break;
    case LUA_TNUMBER:
#if LUA_VERSION_NUM >= 503
      if (lua_isinteger(L, idx)) j = stt_jint(a, (long long)lua_tointeger(L, idx));
#else
      if (stt_isinteger(L, idx)) j = stt_jint(a, (long long)lua_tonumber(L, idx));
#endif
      else j = stt_jnum(a, lua_tonumber(L, idx));
      break;
    case LUA_TSTRING: {
      size_t len;
      const char *s = lua_tolstring(L, idx, &len);
      j = stt_jstrn(a, s, len);
      break;
    }
    case LUA_TTABLE: return table_to_dom(L, a, idx, depth);
    case LUA_TLIGHTUSERDATA:
      if (lua_touserdata(L, idx) == NULL) { j = stt_jnull(a); break; }
      /* fall through */
    default:
      luaL_error(L, "cannot encode a %s as JSON", luaL_typename(L, idx));
  }
  if (!j) luaL_error(L, "out of memory");
  return j;
}

/* ---------------------------------------------------------------- DOM -> Lua */
static void push_dom(lua_State *L, const stt_json *j, int depth) {
  const stt_json *c;
  int i = 1;
  if (!j) { lua_pushnil(L); return; }
  luaL_checkstack(L, 4, "JSON too deep");
  if (depth > STT_JSON_MAX_DEPTH + 10) luaL_error(L, "JSON nesting too deep");
  switch (j->type) {
    case STT_JNULL: lua_pushlightuserdata(L, NULL); break;
    case STT_JBOOL: lua_pushboolean(L, j->b); break;
    case STT_JNUM:
      if (j->is_int) stt_pushint(L, j->i); else lua_pushnumber(L, j->n);
      break;
    case STT_JSTR: lua_pushlstring(L, j->s, j->slen); break;
    case STT_JARR:
      lua_createtable(L, (int)j->count, 0);
      for (c = j->child; c; c = c->next) { push_dom(L, c, depth + 1); lua_rawseti(L, -2, i++); }
      break;
    case STT_JOBJ:
      lua_createtable(L, 0, (int)j->count);
      for (c = j->child; c; c = c->next) {
        lua_pushlstring(L, c->key, c->klen);
        push_dom(L, c, depth + 1);
        lua_rawset(L, -3);
      }
      break;
  }
}

/* ---------------------------------------------------------------- schemas */
static const stt_provider *check_provider(lua_State *L, int idx) {
  const char *name = luaL_checkstring(L, idx);
  const stt_provider *p = stt_provider_find(name);
  if (!p) luaL_argerror(L, idx, lua_pushfstring(L, "unknown provider '%s'", name));
  return p;
}

/* core.build / core.parse (provider, op-or-kind, table) -> result | nil, err: the arguments
 * become a DOM in a fresh arena, the schema runs, its answer becomes Lua tables. */
static int call_schema(lua_State *L, int parse) {
  const stt_provider *p;
  const char *what;
  stt_arena *a;
  stt_json *in, *out, *err = NULL;
  lua_settop(L, 3);                                   /* the arena box goes to index 4 */
  p = check_provider(L, 1);
  what = luaL_checkstring(L, 2);
  luaL_checktype(L, 3, LUA_TTABLE);
  a = push_arena(L);                                  /* index 4 */
  in = to_dom(L, a, 3, 0);
  out = parse ? p->parse(a, what, in, &err) : p->build(a, what, in, &err);
  if (!out && !err) return luaL_error(L, "out of memory");
  if (out) { push_dom(L, out, 0); lua_pushnil(L); }
  else { lua_pushnil(L); push_dom(L, err, 0); }
  release_arena(L, 4);
  return 2;
}

/* core.build(provider, op, args) -> request | nil, err */
static int l_build(lua_State *L) { return call_schema(L, 0); }

/* core.parse(provider, kind, resp) -> table | nil, err */
static int l_parse(lua_State *L) { return call_schema(L, 1); }

static int l_providers(lua_State *L) {
  int i;
  const stt_provider *p;
  lua_newtable(L);
  for (i = 0; (p = stt_provider_at(i)) != NULL; i++) {
    lua_pushstring(L, p->name);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

/* core.capabilities() -> { [provider] = { default_model, models = { [model] = { batch_max,
 * options = { [option] = "<wire field(s)>" | false } } }, env, credentials, rate, client_ids } },
 * from each schema's own tables and the registry's facts (provider.h). */
static int l_capabilities(lua_State *L) {
  int i;
  const stt_provider *p;
  stt_arena *a = push_arena(L);                       /* index 1 */
  lua_newtable(L);
  for (i = 0; (p = stt_provider_at(i)) != NULL; i++) {
    stt_json *c = p->caps ? p->caps(a) : NULL;
    stt_json *f = stt_provider_facts_json(a, p->name), *m;
    if ((p->caps && !c) || !f) return luaL_error(L, "out of memory");
    if (!c) continue;
    for (m = f->child; m; m = m->next)
      if (stt_jset(a, c, m->key, stt_jclone(a, m)) != 0) return luaL_error(L, "out of memory");
    push_dom(L, c, 0);
    lua_setfield(L, -2, p->name);
  }
  release_arena(L, 1);
  return 1;
}

/* core.json_decode(str) -> value | nil, message */
static int l_json_decode(lua_State *L) {
  size_t len;
  const char *s;
  lua_settop(L, 1);                                   /* the arena box goes to index 2 */
  s = luaL_checklstring(L, 1, &len);
  char msg[160];
  stt_arena *a = push_arena(L);                       /* index 2 */
  stt_json *j = stt_json_parse(a, s, len, msg, sizeof msg);
  if (!j) { release_arena(L, 2); lua_pushnil(L); lua_pushstring(L, msg); return 2; }
  push_dom(L, j, 0);
  release_arena(L, 2);
  return 1;
}

/* core.json_encode(value) -> string */
static int l_json_encode(lua_State *L) {
  stt_arena *a;
  stt_json *j;
  stt_buf b;
  luaL_checkany(L, 1);
  lua_settop(L, 1);
  a = push_arena(L);                                  /* index 2 */
  j = to_dom(L, a, 1, 0);
  stt_buf_init(&b);
  if (stt_json_write(&b, j) != 0) { stt_buf_free(&b); return luaL_error(L, "out of memory"); }
  lua_pushlstring(L, b.data ? b.data : "", b.len);
  stt_buf_free(&b);
  release_arena(L, 2);
  return 1;
}

/* core.now() -> monotonic seconds (for the scheduler; schemas never read a clock) */
static int l_now(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
  return 1;
}

static int l_version(lua_State *L) {
  lua_newtable(L);
  lua_pushstring(L, STT_VERSION); lua_setfield(L, -2, "version");
  lua_pushstring(L, stt_engine_curl_version()); lua_setfield(L, -2, "curl");
  lua_pushboolean(L, stt_engine_has_async_dns()); lua_setfield(L, -2, "async_dns");
  lua_pushboolean(L, stt_engine_has_http2()); lua_setfield(L, -2, "http2");
  lua_pushinteger(L, LUA_VERSION_NUM); lua_setfield(L, -2, "lua_version_num");
  return 1;
}

/* ---------------------------------------------------------------- digests and AWS SigV4 */
/* core.sha256(data) -> lower-case hex */
static int l_sha256(lua_State *L) {
  size_t n;
  const char *d = luaL_checklstring(L, 1, &n);
  unsigned char md[STT_SHA256_LEN];
  char hex[2 * STT_SHA256_LEN + 1];
  if (stt_sha256(d, n, md)) return luaL_error(L, "sha256 failed");
  stt_hex(md, STT_SHA256_LEN, hex);
  lua_pushstring(L, hex);
  return 1;
}

/* core.hmac_sha256(key, data) -> lower-case hex */
static int l_hmac_sha256(lua_State *L) {
  size_t kn, n;
  const char *k = luaL_checklstring(L, 1, &kn), *d = luaL_checklstring(L, 2, &n);
  unsigned char md[STT_SHA256_LEN];
  char hex[2 * STT_SHA256_LEN + 1];
  if (stt_hmac_sha256(k, kn, d, n, md)) return luaL_error(L, "hmac-sha256 failed");
  stt_hex(md, STT_SHA256_LEN, hex);
  lua_pushstring(L, hex);
  return 1;
}

/* core.sha256_file(path) -> hex, size | nil, message (the file is read in chunks) */
static int l_sha256_file(lua_State *L) {
  const char *path = luaL_checkstring(L, 1), *what = NULL;
  char hex[2 * STT_SHA256_LEN + 1];
  long long size = 0;
  if (stt_sha256_file(path, hex, &size, &what)) {
    lua_pushnil(L);
    lua_pushfstring(L, "%s %s: %s", what, path, strerror(errno));
    return 2;
  }
  lua_pushstring(L, hex);
  stt_pushint(L, size);
  return 2;
}

/* core.file_hasher(path) -> hasher | nil, message: the SHA-256 of a file a slice at a time
 * (Lua lets other threads run between slices: the file may be large, and a worker must not
 * stall). hasher:step(max_bytes) -> true when done (then hasher:result() -> hex, size), false
 * when more is left, or nil, message; hasher:close() (also __gc, __close) is idempotent. */
typedef struct {
  stt_file_hash *h;
  int done;
  char hex[2 * STT_SHA256_LEN + 1];
  long long size;
} hasher_box;

static int l_file_hasher(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  hasher_box *b = stt_newuserdata(L, sizeof *b);
  memset(b, 0, sizeof *b);
  stt_setmetatable(L, HASHER_MT);
  if (!(b->h = stt_file_hash_open(path))) {
    lua_pushnil(L);
    lua_pushfstring(L, "open %s: %s", path, strerror(errno));
    return 2;
  }
  return 1;
}

static int l_hasher_step(lua_State *L) {
  hasher_box *b = luaL_checkudata(L, 1, HASHER_MT);
  lua_Number max = luaL_optnumber(L, 2, 8.0 * 1024 * 1024);
  const char *what = NULL;
  if (b->done) { lua_pushboolean(L, 1); return 1; }
  if (!b->h) return luaL_error(L, "file_hasher: closed");
  if (!(max >= 1)) return luaL_error(L, "file_hasher:step: max_bytes must be positive");
  if (stt_file_hash_step(b->h, max > 9e18 ? 0x7fffffffffffffffLL : (long long)max, &b->done, b->hex, &b->size,
                         &what)) {
    int err = errno;
    stt_file_hash_free(b->h);
    b->h = NULL;
    lua_pushnil(L);
    lua_pushfstring(L, "%s: %s", what, strerror(err));
    return 2;
  }
  if (b->done) { stt_file_hash_free(b->h); b->h = NULL; }
  lua_pushboolean(L, b->done);
  return 1;
}

static int l_hasher_result(lua_State *L) {
  hasher_box *b = luaL_checkudata(L, 1, HASHER_MT);
  if (!b->done) return luaL_error(L, "file_hasher:result: not done (step until it answers true)");
  lua_pushstring(L, b->hex);
  stt_pushint(L, b->size);
  return 2;
}

static int l_hasher_close(lua_State *L) {
  hasher_box *b = luaL_checkudata(L, 1, HASHER_MT);
  stt_file_hash_free(b->h);
  b->h = NULL;
  return 0;
}

static const luaL_Reg hasher_methods[] = {
  {"step", l_hasher_step}, {"result", l_hasher_result}, {"close", l_hasher_close}, {NULL, NULL}
};

static const char *opt_string(lua_State *L, int t, const char *field) {
  const char *v;
  lua_getfield(L, t, field);
  v = lua_isnil(L, -1) ? NULL : luaL_checkstring(L, -1);
  lua_pop(L, 1);                /* the string stays anchored in the table */
  return v;
}

/* The SigV4 request from a Lua table { method, url, region, service, access_key, secret_key,
 * session_token, time, expires, payload_hash, headers = { {name, value}, ... } }. The header
 * array is built in *kv (at most 32). */
static void sigv4_args(lua_State *L, int t, stt_sigv4 *r, stt_kv *kv, size_t maxkv) {
  size_t i, n;
  luaL_checktype(L, t, LUA_TTABLE);
  memset(r, 0, sizeof *r);
  r->method = opt_string(L, t, "method");
  r->url = opt_string(L, t, "url");
  r->region = opt_string(L, t, "region");
  r->service = opt_string(L, t, "service");
  r->access_key = opt_string(L, t, "access_key");
  r->secret_key = opt_string(L, t, "secret_key");
  r->session_token = opt_string(L, t, "session_token");
  r->payload_hash = opt_string(L, t, "payload_hash");
  lua_getfield(L, t, "time");
  r->time = (long long)luaL_checknumber(L, -1);
  lua_pop(L, 1);
  lua_getfield(L, t, "expires");
  r->expires = lua_isnil(L, -1) ? 0 : (long long)luaL_checknumber(L, -1);
  lua_pop(L, 1);
  lua_getfield(L, t, "headers");
  n = lua_istable(L, -1) ? stt_rawlen(L, -1) : 0;
  if (n > maxkv) luaL_error(L, "sigv4: at most %d headers", (int)maxkv);
  for (i = 0; i < n; i++) {
    lua_rawgeti(L, -1, (int)i + 1);
    luaL_checktype(L, -1, LUA_TTABLE);
    lua_rawgeti(L, -1, 1);
    lua_rawgeti(L, -2, 2);
    kv[i].name = luaL_checkstring(L, -2);
    kv[i].value = luaL_checkstring(L, -1);
    lua_pop(L, 3);               /* anchored in the headers table, itself anchored in t */
  }
  lua_pop(L, 1);
  r->headers = kv;
  r->nheaders = n;
}

static int push_buf_or_error(lua_State *L, int rc, stt_buf *b, const char *why) {
  if (rc) {
    stt_buf_free(b);
    lua_pushnil(L);
    lua_pushfstring(L, "sigv4: %s", why ? why : "failed");
    return 2;
  }
  lua_pushlstring(L, b->data ? b->data : "", b->len);
  stt_buf_free(b);
  return 1;
}

/* core.sigv4_presign(t) -> url | nil, message */
static int l_sigv4_presign(lua_State *L) {
  stt_sigv4 r;
  stt_kv kv[32];
  stt_buf b;
  const char *why = NULL;
  int rc;
  sigv4_args(L, 1, &r, kv, 32);
  stt_buf_init(&b);
  rc = stt_sigv4_presign(&r, &b, &why);
  return push_buf_or_error(L, rc, &b, why);
}

/* core.sigv4_sign(t) -> { authorization, amz_date, path } | nil, message (header signing) */
static int l_sigv4_sign(lua_State *L) {
  stt_sigv4 r;
  stt_kv kv[32];
  stt_buf auth, path;
  char date[17];
  const char *why = NULL;
  sigv4_args(L, 1, &r, kv, 32);
  stt_buf_init(&auth);
  stt_buf_init(&path);
  if (stt_sigv4_sign_headers(&r, &auth, date, &path, &why)) {
    stt_buf_free(&auth);
    stt_buf_free(&path);
    lua_pushnil(L);
    lua_pushfstring(L, "sigv4: %s", why ? why : "failed");
    return 2;
  }
  lua_createtable(L, 0, 3);
  lua_pushlstring(L, auth.data, auth.len); lua_setfield(L, -2, "authorization");
  lua_pushstring(L, date); lua_setfield(L, -2, "amz_date");
  lua_pushlstring(L, path.data ? path.data : "/", path.len); lua_setfield(L, -2, "path");
  stt_buf_free(&auth);
  stt_buf_free(&path);
  return 1;
}

/* core.sigv4_canonical(t, presign) -> canonical request, string to sign | nil, message */
static int l_sigv4_canonical(lua_State *L) {
  stt_sigv4 r;
  stt_kv kv[32];
  stt_buf c, sts;
  const char *why = NULL;
  sigv4_args(L, 1, &r, kv, 32);
  stt_buf_init(&c);
  stt_buf_init(&sts);
  if (stt_sigv4_canonical(&r, lua_toboolean(L, 2), &c, &sts, &why)) {
    stt_buf_free(&c);
    stt_buf_free(&sts);
    lua_pushnil(L);
    lua_pushfstring(L, "sigv4: %s", why ? why : "failed");
    return 2;
  }
  lua_pushlstring(L, c.data, c.len);
  lua_pushlstring(L, sts.data, sts.len);
  stt_buf_free(&c);
  stt_buf_free(&sts);
  return 2;
}

/* ---------------------------------------------------------------- signals (a clean Ctrl-C) */
static const struct { const char *name; int sig; } SIGNALS[] = { {"INT", SIGINT}, {"TERM", SIGTERM} };
#define NSIGNALS (sizeof SIGNALS / sizeof SIGNALS[0])

/* core.catch_signal("INT" | "TERM") -> true | nil, err */
static int l_catch_signal(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  size_t i;
  for (i = 0; i < NSIGNALS; i++) {
    if (strcmp(name, SIGNALS[i].name) == 0) {
      if (stt_signals_catch(SIGNALS[i].sig) != 0) {
        lua_pushnil(L);
        lua_pushfstring(L, "sigaction SIG%s: %s", name, strerror(errno));
        return 2;
      }
      lua_pushboolean(L, 1);
      return 1;
    }
  }
  return luaL_argerror(L, 1, "\"INT\" or \"TERM\" expected");
}

/* core.pending_signal() -> "INT" | "TERM" | nil (and forget it) */
static int l_pending_signal(lua_State *L) {
  int sig = stt_signals_take();
  size_t i;
  for (i = 0; i < NSIGNALS; i++) {
    if (SIGNALS[i].sig == sig) { lua_pushstring(L, SIGNALS[i].name); return 1; }
  }
  lua_pushnil(L);
  return 1;
}

/* ---------------------------------------------------------------- durable append (the journal) */
/* Returns nil, "<what> <path>: <strerror>" (2 values) with errno preserved from the failed call. */
static int push_os_error(lua_State *L, const char *what, const char *path, int err) {
  lua_pushnil(L);
  lua_pushfstring(L, "%s %s: %s", what, path, strerror(err));
  return 2;
}

/* fsync the folder that holds `path`, so that a file just created survives a power cut too. */
static int sync_parent_dir(lua_State *L, const char *path) {
  const char *slash = strrchr(path, '/');
  const char *dir;
  int fd, rc;
  if (!slash) dir = ".";
  else if (slash == path) dir = "/";
  else {
    lua_pushlstring(L, path, (size_t)(slash - path));             /* Lua owns the copy */
    dir = lua_tostring(L, -1);
  }
  fd = open(dir, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  rc = fsync(fd) == 0 ? 0 : errno;
  close(fd);
  return rc == EINVAL ? 0 : rc;           /* some file systems cannot fsync a folder: not an error */
}

/* core.append_sync(path, data) -> true | nil, message.
 * Appends `data` (one write loop, O_APPEND) to `path` (created 0600 if missing), fsyncs it and
 * closes it before returning: the durability point of the task journal. It blocks for one
 * fsync (about a millisecond on an SSD, up to tens of ms on a busy disk); the journal calls it
 * once per record, never from a libcurl callback. */
static int l_append_sync(lua_State *L) {
  size_t len, off = 0;
  const char *path = luaL_checkstring(L, 1);
  const char *data = luaL_checklstring(L, 2, &len);
  int created = 0, err;
  int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    created = 1;
  }
  if (fd < 0) return push_os_error(L, "cannot open", path, errno);
  while (off < len) {
    ssize_t n = write(fd, data + off, len - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      close(fd);
      return push_os_error(L, "cannot write", path, err);
    }
    off += (size_t)n;
  }
  if (fsync(fd) != 0) { err = errno; close(fd); return push_os_error(L, "cannot fsync", path, err); }
  if (close(fd) != 0) return push_os_error(L, "cannot close", path, errno);
  if (created && (err = sync_parent_dir(L, path)) != 0) return push_os_error(L, "cannot fsync the folder of", path, err);
  lua_pushboolean(L, 1);
  return 1;
}

/* ---------------------------------------------------------------- engine userdata */
typedef struct { stt_engine *e; } engine_box;

/* For the Redis binding (stt_core_redis.c): the engine of the engine userdata at idx; NULL when
 * it is closed or not an engine. */
stt_engine *stt_core_engine_at(lua_State *L, int idx) {
  engine_box *b = stt_testudata(L, idx, ENGINE_MT);
  return b ? b->e : NULL;
}

static engine_box *check_engine(lua_State *L) {
  engine_box *b = luaL_checkudata(L, 1, ENGINE_MT);
  if (!b->e) luaL_error(L, "engine is closed");
  return b;
}

static long opt_ms(lua_State *L, int t, const char *field, long dflt) {
  long v = dflt;
  lua_getfield(L, t, field);
  if (!lua_isnil(L, -1)) v = (long)(luaL_checknumber(L, -1) * 1000.0 + 0.5);
  lua_pop(L, 1);
  return v;
}

static int opt_bool(lua_State *L, int t, const char *field) {
  int v;
  lua_getfield(L, t, field);
  v = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return v;
}

/* core.engine{ max_host_connections =, max_total_connections = } */
static int l_engine_new(lua_State *L) {
  stt_engine_opts o;
  char err[256];
  engine_box *b;
  memset(&o, 0, sizeof o);
  if (lua_istable(L, 1)) {
    lua_getfield(L, 1, "max_host_connections");
    o.max_host_connections = (long)luaL_optinteger(L, -1, 0);
    lua_getfield(L, 1, "max_total_connections");
    o.max_total_connections = (long)luaL_optinteger(L, -1, 0);
    lua_pop(L, 2);
  }
  b = stt_newuserdata(L, sizeof *b);
  b->e = NULL;
  stt_setmetatable(L, ENGINE_MT);
  b->e = stt_engine_new(&o, err, sizeof err);
  if (!b->e) return luaL_error(L, "stt.core.engine: %s", err);
  return 1;
}

static int has_crlf(const char *s, size_t n) {
  return memchr(s, '\r', n) != NULL || memchr(s, '\n', n) != NULL;
}

/* engine:add(req, opts) -> id | nil, message
 * req  = { method, url, headers = { {name, value}, ... } or { Name = value }, body }
 * opts = { timeout (s), connect_timeout (s), max_body (bytes), insecure, ca_file, fresh_connect,
 *          max_host_connections (transfers at once to this host) } */
/* A body streamed from disk (request fields body_file, body_file_base64, body_suffix) or a
 * multipart form (form = { {name, value}, ... }, form_file = { field, name, type }) -> r. Every
 * string read stays anchored in the request table (index 2) for the call. */
static void add_body_file(lua_State *L, stt_http_req *r) {
  size_t i, n;
  const char **names, **values;
  lua_getfield(L, 2, "body_file");
  if (lua_isnil(L, -1)) { lua_pop(L, 1); return; }
  r->body_file = luaL_checkstring(L, -1);
  lua_pop(L, 1);
  r->body_file_base64 = opt_bool(L, 2, "body_file_base64");
  lua_getfield(L, 2, "body_suffix");
  if (!lua_isnil(L, -1)) r->body_suffix = luaL_checklstring(L, -1, &r->body_suffix_len);
  lua_pop(L, 1);
  lua_getfield(L, 2, "form_file");
  if (lua_isnil(L, -1)) { lua_pop(L, 1); return; }
  luaL_checktype(L, -1, LUA_TTABLE);
  lua_getfield(L, -1, "field"); r->form_file_field = luaL_checkstring(L, -1); lua_pop(L, 1);
  lua_getfield(L, -1, "name"); r->form_file_name = luaL_optstring(L, -1, NULL); lua_pop(L, 1);
  lua_getfield(L, -1, "type"); r->form_file_type = luaL_optstring(L, -1, NULL); lua_pop(L, 1);
  lua_pop(L, 1);
  lua_getfield(L, 2, "form");
  n = lua_istable(L, -1) ? stt_rawlen(L, -1) : 0;
  names = stt_newuserdata(L, (n + 1) * sizeof *names);      /* scratch, collected with the call */
  values = stt_newuserdata(L, (n + 1) * sizeof *values);
  for (i = 0; i < n; i++) {
    lua_rawgeti(L, -3, (int)i + 1);
    luaL_checktype(L, -1, LUA_TTABLE);
    lua_rawgeti(L, -1, 1);
    lua_rawgeti(L, -2, 2);
    names[i] = luaL_checkstring(L, -2);
    values[i] = luaL_checkstring(L, -1);
    lua_pop(L, 3);
  }
  r->form_names = names;
  r->form_values = values;
  r->nform = n;
  /* the form table and the two scratch arrays stay on the stack until the call returns */
}

/* engine:progress(id) -> sent, total | nil (the request body's bytes, while it is in flight) */
static int l_engine_progress(lua_State *L) {
  engine_box *b = check_engine(L);
  long long sent = 0, total = 0;
  if (!stt_engine_progress(b->e, (long long)luaL_checknumber(L, 2), &sent, &total)) {
    lua_pushnil(L);
    return 1;
  }
  stt_pushint(L, sent);
  stt_pushint(L, total);
  return 2;
}

static int l_engine_add(lua_State *L) {
  engine_box *b = check_engine(L);
  stt_http_req r;
  const char **lines;
  size_t nh = 0, cap;
  char err[256];
  long long id;
  int lines_idx;
  memset(&r, 0, sizeof r);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_getfield(L, 2, "method"); r.method = luaL_optstring(L, -1, "GET");
  lua_getfield(L, 2, "url"); r.url = luaL_checkstring(L, -1);
  lua_getfield(L, 2, "body");
  if (!lua_isnil(L, -1)) { r.body = luaL_checklstring(L, -1, &r.body_len); r.has_body = 1; }
  lua_getfield(L, 2, "headers");                       /* stack: method url body headers */
  cap = lua_istable(L, -1) ? stt_rawlen(L, -1) + 16 : 1;
  if (lua_istable(L, -1)) {
    lua_pushnil(L);
    while (lua_next(L, -2)) { lua_pop(L, 1); cap++; }
  }
  lines = stt_newuserdata(L, cap * sizeof *lines);     /* scratch, collected with the call */
  lua_newtable(L);                                     /* keeps the header strings alive */
  lines_idx = lua_gettop(L);
  if (lua_istable(L, lines_idx - 2)) {
    int hidx = lines_idx - 2;
    lua_pushnil(L);
    while (lua_next(L, hidx)) {
      size_t nl, vl;
      const char *name, *val;
      if (lua_type(L, -2) == LUA_TNUMBER) {            /* { name, value } pair */
        luaL_checktype(L, -1, LUA_TTABLE);
        lua_rawgeti(L, -1, 1); lua_rawgeti(L, -2, 2);
      } else {                                         /* Name = value */
        lua_pushvalue(L, -2); lua_pushvalue(L, -2);
      }
      name = luaL_checklstring(L, -2, &nl);
      val = luaL_checklstring(L, -1, &vl);
      if (has_crlf(name, nl) || has_crlf(val, vl) || memchr(name, ':', nl))
        return luaL_error(L, "header '%s' contains CR, LF or ':' in its name", name);
      lua_pushfstring(L, "%s: %s", name, val);
      if (nh < cap) lines[nh++] = lua_tostring(L, -1);
      lua_rawseti(L, lines_idx, (int)nh);
      lua_pop(L, 3);
    }
  }
  r.headers = lines;
  r.nheaders = nh;
  add_body_file(L, &r);                                /* strings stay anchored in the request table */
  if (lua_istable(L, 3)) {
    r.timeout_ms = opt_ms(L, 3, "timeout", 0);
    r.connect_timeout_ms = opt_ms(L, 3, "connect_timeout", 0);
    lua_getfield(L, 3, "max_body"); r.max_body = (size_t)luaL_optinteger(L, -1, 0); lua_pop(L, 1);
    r.insecure = opt_bool(L, 3, "insecure");
    r.fresh_connect = opt_bool(L, 3, "fresh_connect");
    lua_getfield(L, 3, "max_host_connections");
    r.host_limit = (long)luaL_optinteger(L, -1, 0);
    lua_pop(L, 1);
    lua_getfield(L, 3, "ca_file"); r.ca_file = luaL_optstring(L, -1, NULL);   /* stays on stack */
  }
  id = stt_engine_add(b->e, &r, err, sizeof err);
  if (id < 0) { lua_pushnil(L); lua_pushstring(L, err); return 2; }
  stt_pushint(L, id);
  return 1;
}

/* The response's fields ("name\0value\0" pairs from the engine) -> { lower-case name = value },
 * repeats joined by ", " */
static void push_headers(lua_State *L, const stt_buf *h) {
  const char *p = h->data, *end = h->data ? h->data + h->len : NULL;
  lua_newtable(L);
  while (p && p < end) {
    const char *name = p, *value = name + strlen(name) + 1;
    size_t name_len = strlen(name), value_len;
    luaL_Buffer lb;
    size_t i;
    if (value >= end) break;
    value_len = strlen(value);
    p = value + value_len + 1;
    luaL_buffinit(L, &lb);
    for (i = 0; i < name_len; i++) {
      char c = name[i];
      luaL_addchar(&lb, (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c);
    }
    luaL_pushresult(&lb);                              /* name */
    lua_pushvalue(L, -1);
    lua_rawget(L, -3);
    if (lua_isnil(L, -1)) { lua_pop(L, 1); lua_pushlstring(L, value, value_len); }
    else { lua_pushliteral(L, ", "); lua_pushlstring(L, value, value_len); lua_concat(L, 3); }
    lua_rawset(L, -3);
  }
}

static void push_resp(lua_State *L, stt_http_resp *r) {
  lua_createtable(L, 0, 10);
  stt_pushint(L, r->id); lua_setfield(L, -2, "id");
  lua_pushinteger(L, (lua_Integer)r->status); lua_setfield(L, -2, "status");
  push_headers(L, &r->headers); lua_setfield(L, -2, "headers");
  lua_pushlstring(L, r->body.data ? r->body.data : "", r->body.len); lua_setfield(L, -2, "body");
  lua_pushboolean(L, r->sent); lua_setfield(L, -2, "sent");
  lua_pushboolean(L, r->new_connections == 0); lua_setfield(L, -2, "reused");
  lua_pushinteger(L, (lua_Integer)r->http_version); lua_setfield(L, -2, "http_version");
  lua_pushnumber(L, r->total_s); lua_setfield(L, -2, "time");
  if (r->fail != STT_HTTP_OK) {
    lua_createtable(L, 0, 3);
    lua_pushstring(L, stt_http_fail_name(r->fail)); lua_setfield(L, -2, "kind");
    lua_pushstring(L, r->errmsg); lua_setfield(L, -2, "message");
    lua_pushinteger(L, r->curl_code); lua_setfield(L, -2, "curl_code");
    lua_setfield(L, -2, "error");
  }
}

/* engine:perform() -> running, done  (done: array of finished responses, possibly empty, then the
 * finished Redis commands: { id, redis = true, value | redis_error | error }, stt_core_redis.c) */
static int l_engine_perform(lua_State *L) {
  engine_box *b = check_engine(L);
  int running = 0, i = 1;
  char err[256];
  stt_http_resp *r;
  if (stt_engine_perform(b->e, &running, err, sizeof err) != 0) return luaL_error(L, "engine: %s", err);
  lua_pushinteger(L, running);
  lua_newtable(L);
  while ((r = stt_engine_next_done(b->e)) != NULL) {
    /* push_resp may raise on memory errors: keep r reachable only until it is copied */
    push_resp(L, r);
    stt_resp_free(r);
    lua_rawseti(L, -2, i++);
  }
  stt_core_redis_push_done(L, b->e, i);
  return 2;
}

/* engine:wait(seconds) -> number of ready descriptors (blocks at most that long) */
static int l_engine_wait(lua_State *L) {
  engine_box *b = check_engine(L);
  double s = luaL_optnumber(L, 2, 0);
  int ms = s <= 0 ? 0 : s > 86400 ? 86400000 : (int)(s * 1000.0 + 0.5);
  lua_pushinteger(L, stt_engine_wait(b->e, ms));
  return 1;
}

/* engine:timeout() -> seconds until libcurl wants perform() again, or nil */
static int l_engine_timeout(lua_State *L) {
  engine_box *b = check_engine(L);
  long ms = stt_engine_timeout(b->e);
  if (ms < 0) lua_pushnil(L); else lua_pushnumber(L, (lua_Number)ms / 1000.0);
  return 1;
}

static int l_engine_cancel(lua_State *L) {
  engine_box *b = check_engine(L);
  lua_pushboolean(L, stt_engine_cancel(b->e, (long long)luaL_checknumber(L, 2)));
  return 1;
}

static int l_engine_inflight(lua_State *L) {
  engine_box *b = check_engine(L);
  lua_pushinteger(L, (lua_Integer)stt_engine_inflight(b->e));
  return 1;
}

/* engine:stats() -> { running, queued, spare_handles, hosts, handles_created, host_limit } */
static int l_engine_stats(lua_State *L) {
  engine_box *b = check_engine(L);
  stt_engine_stats st;
  stt_engine_get_stats(b->e, &st);
  lua_createtable(L, 0, 6);
  lua_pushinteger(L, (lua_Integer)st.running); lua_setfield(L, -2, "running");
  lua_pushinteger(L, (lua_Integer)st.queued); lua_setfield(L, -2, "queued");
  lua_pushinteger(L, (lua_Integer)st.spare_handles); lua_setfield(L, -2, "spare_handles");
  lua_pushinteger(L, (lua_Integer)st.hosts); lua_setfield(L, -2, "hosts");
  lua_pushnumber(L, (lua_Number)st.handles_created); lua_setfield(L, -2, "handles_created");
  lua_pushinteger(L, (lua_Integer)st.host_limit); lua_setfield(L, -2, "host_limit");
  return 1;
}

/* __gc == __close == close(): idempotent */
static int l_engine_close(lua_State *L) {
  engine_box *b = luaL_checkudata(L, 1, ENGINE_MT);
  stt_engine_free(b->e);
  b->e = NULL;
  return 0;
}

static int l_engine_closed(lua_State *L) {
  engine_box *b = luaL_checkudata(L, 1, ENGINE_MT);
  lua_pushboolean(L, b->e == NULL);
  return 1;
}

static int l_engine_tostring(lua_State *L) {
  engine_box *b = luaL_checkudata(L, 1, ENGINE_MT);
  if (b->e) lua_pushfstring(L, "stt.core.engine (%d in flight)", (int)stt_engine_inflight(b->e));
  else lua_pushliteral(L, "stt.core.engine (closed)");
  return 1;
}

static const luaL_Reg engine_methods[] = {
  {"add", l_engine_add}, {"perform", l_engine_perform}, {"wait", l_engine_wait},
  {"timeout", l_engine_timeout}, {"cancel", l_engine_cancel}, {"inflight", l_engine_inflight},
  {"stats", l_engine_stats}, {"progress", l_engine_progress},
  {"close", l_engine_close}, {"closed", l_engine_closed}, {NULL, NULL}
};

static const luaL_Reg core_funcs[] = {
  {"build", l_build}, {"parse", l_parse}, {"providers", l_providers},
  {"capabilities", l_capabilities},
  {"json_decode", l_json_decode}, {"json_encode", l_json_encode},
  {"engine", l_engine_new}, {"now", l_now}, {"version", l_version},
  {"append_sync", l_append_sync}, {"catch_signal", l_catch_signal},
  {"pending_signal", l_pending_signal}, {"sha256", l_sha256}, {"hmac_sha256", l_hmac_sha256},
  {"sha256_file", l_sha256_file}, {"file_hasher", l_file_hasher}, {"sigv4_presign", l_sigv4_presign}, {"sigv4_sign", l_sigv4_sign},
  {"sigv4_canonical", l_sigv4_canonical}, {NULL, NULL}
};

int luaopen_stt_core(lua_State *L);
int luaopen_stt_core(lua_State *L) {
  if (stt_engine_global_init() != 0) return luaL_error(L, "stt.core: curl_global_init failed");
  luaL_newmetatable(L, ARENA_MT);
  lua_pushcfunction(L, arena_gc); lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  luaL_newmetatable(L, ENGINE_MT);
  lua_newtable(L);
  stt_setfuncs(L, engine_methods, 0);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, l_engine_close);         /* one function object for both (LuaJIT too) */
  lua_pushvalue(L, -1); lua_setfield(L, -3, "__gc");
  lua_setfield(L, -2, "__close");
  lua_pushcfunction(L, l_engine_tostring); lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
  stt_core_redis_open(L);                       /* engine:redis_connect and its connections */
  luaL_newmetatable(L, HASHER_MT);
  lua_newtable(L);
  stt_setfuncs(L, hasher_methods, 0);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, l_hasher_close);
  lua_pushvalue(L, -1); lua_setfield(L, -3, "__gc");
  lua_setfield(L, -2, "__close");
  lua_pop(L, 1);
  stt_newlib(L, core_funcs);
  stt_core_score_open(L);                       /* score_align, utf8_invalid (stt_core_score.c) */
  lua_pushlightuserdata(L, NULL); lua_setfield(L, -2, "null");
  lua_pushliteral(L, STT_VERSION); lua_setfield(L, -2, "_VERSION");
  return 1;
}
