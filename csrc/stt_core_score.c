/* stt_core_score.c - the Lua binding of the scorer's core (score.h), part of stt.core beside
 * stt_core.c, which calls stt_core_score_open from luaopen_stt_core. lua/stt/score/ is the
 * public side (normalizing, rates, reports). */
#include <stdlib.h>
#include <string.h>
#include "compat.h"
#include "score.h"

#define SCRATCH_MT "stt.core.score_scratch"

/* Everything one call allocates, owned by one userdata so that a Lua error (out of memory while
 * building the answer) still frees it: __gc and the explicit release below are the same. */
typedef struct {
  stt_intern *t;
  stt_units r, h;
  char *ops;
} scratch;

static void scratch_release(scratch *s) {
  stt_intern_free(s->t);
  s->t = NULL;
  stt_units_free(&s->r);
  stt_units_free(&s->h);
  free(s->ops);
  s->ops = NULL;
}

static int scratch_gc(lua_State *L) {
  scratch_release(luaL_checkudata(L, 1, SCRATCH_MT));
  return 0;
}

static int unit_mode(lua_State *L, int idx) {
  const char *u = luaL_optstring(L, idx, "auto");
  if (strcmp(u, "char") == 0) return STT_UNIT_CHAR;
  if (strcmp(u, "word") == 0) return STT_UNIT_WORD;
  if (strcmp(u, "auto") == 0) return STT_UNIT_AUTO;
  return luaL_error(L, "stt.core.score_align: unit must be \"auto\", \"char\" or \"word\", got %s", u);
}

static void set_int(lua_State *L, const char *k, size_t v) {
  stt_pushint(L, v);
  lua_setfield(L, -2, k);
}

/* core.utf8_invalid(s) -> nil when s is well-formed UTF-8, else the 0-based offset of the first
 * byte that is not. */
static int l_utf8_invalid(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  size_t at = stt_utf8_invalid(s, len);
  if (at == (size_t)-1) lua_pushnil(L);
  else stt_pushint(L, at);
  return 1;
}

/* core.score_align(ref, hyp, unit, with_alignment, max_entries) -> { distance, substitutions,
 * deletions, insertions, matches, ref_units, hyp_units, cjk_units, word_units,
 * alignment = { { op = "=" | "S" | "D" | "I", ref = unit?, hyp = unit? }, ... } (unless
 * with_alignment is false) }. Both texts must be valid UTF-8 (raises otherwise). max_entries
 * (for tests: a small one takes the linear-memory method) is stt_align's. */
static int l_score_align(lua_State *L) {
  size_t rl, hl, nops = 0, i, ri = 0, hi = 0, cnt[4] = { 0, 0, 0, 0 };
  const char *ref = luaL_checklstring(L, 1, &rl), *hyp = luaL_checklstring(L, 2, &hl);
  int mode = unit_mode(L, 3), want = lua_isnoneornil(L, 4) ? 1 : lua_toboolean(L, 4);
  lua_Number maxe = luaL_optnumber(L, 5, 0);
  scratch *s;
  long d;
  if (stt_utf8_invalid(ref, rl) != (size_t)-1 || stt_utf8_invalid(hyp, hl) != (size_t)-1)
    return luaL_error(L, "stt.core.score_align: the texts must be valid UTF-8");
  if (rl > 0x7fffffff || hl > 0x7fffffff) return luaL_error(L, "stt.core.score_align: text too long");
  s = stt_newuserdata(L, sizeof *s);
  memset(s, 0, sizeof *s);
  stt_setmetatable(L, SCRATCH_MT);
  s->t = stt_intern_new();
  if (!s->t || stt_units_cut(ref, rl, mode, s->t, &s->r) != 0 || stt_units_cut(hyp, hl, mode, s->t, &s->h) != 0)
    return luaL_error(L, "stt.core.score_align: out of memory");
  d = stt_align(s->r.id, s->r.n, s->h.id, s->h.n, maxe > 0 ? (size_t)maxe : 0, &s->ops, &nops);
  if (d < 0) return luaL_error(L, "stt.core.score_align: out of memory");
  lua_createtable(L, 0, 10);
  if (want) lua_createtable(L, (int)nops, 0);
  for (i = 0; i < nops; i++) {
    char op = s->ops[i];
    cnt[op == '=' ? 0 : op == 'S' ? 1 : op == 'D' ? 2 : 3]++;
    if (want) {
      lua_createtable(L, 0, 3);
      lua_pushlstring(L, &op, 1);
      lua_setfield(L, -2, "op");
      if (op != 'I') {
        lua_pushlstring(L, ref + s->r.off[ri], s->r.len[ri]);
        lua_setfield(L, -2, "ref");
      }
      if (op != 'D') {
        lua_pushlstring(L, hyp + s->h.off[hi], s->h.len[hi]);
        lua_setfield(L, -2, "hyp");
      }
      lua_rawseti(L, -2, (int)i + 1);
    }
    if (op != 'I') ri++;
    if (op != 'D') hi++;
  }
  if (want) lua_setfield(L, -2, "alignment");
  set_int(L, "distance", (size_t)d);
  set_int(L, "matches", cnt[0]);
  set_int(L, "substitutions", cnt[1]);
  set_int(L, "deletions", cnt[2]);
  set_int(L, "insertions", cnt[3]);
  set_int(L, "ref_units", s->r.n);
  set_int(L, "hyp_units", s->h.n);
  set_int(L, "cjk_units", s->r.cjk + s->h.cjk);
  set_int(L, "word_units", s->r.words + s->h.words);
  scratch_release(s);
  return 1;
}

static const luaL_Reg score_funcs[] = {
  {"score_align", l_score_align}, {"utf8_invalid", l_utf8_invalid}, {NULL, NULL}
};

/* Adds the scorer's functions to the module table on the top of the stack. */
void stt_core_score_open(lua_State *L) {
  luaL_newmetatable(L, SCRATCH_MT);
  lua_pushcfunction(L, scratch_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  stt_setfuncs(L, score_funcs, 0);
}
