/* score.h - the scorer's core: UTF-8 checking, cutting a normalized text into units (characters,
 * words, or CJK characters and other words) and the minimal edit script between two unit
 * sequences (Levenshtein: substitution, deletion, insertion each cost 1). Pure C, no Lua; the
 * binding is stt_core_score.c and the normalizer lua/stt/score/normalize.lua. */
#ifndef STT_SCORE_H
#define STT_SCORE_H
#include <stddef.h>
#include <stdint.h>

/* The byte offset of the first byte that is not well-formed UTF-8 (overlong forms, surrogates
 * and code points above U+10FFFF included), or (size_t)-1 when all of s is. */
size_t stt_utf8_invalid(const char *s, size_t len);

/* 1 for a code point scored one character at a time under unit "auto": Han, kana, Hangul. */
int stt_score_is_cjk(uint32_t cp);

enum { STT_UNIT_CHAR = 0, STT_UNIT_WORD = 1, STT_UNIT_AUTO = 2 };

/* The units of one text: byte offset and length of each in the text, and an id per distinct
 * unit (equal units, equal ids; the ids are shared by every text cut with the same table). */
typedef struct {
  uint32_t *id, *off, *len;
  size_t n, cap;
  size_t cjk, words;        /* how many units were CJK characters, how many words */
} stt_units;

typedef struct stt_intern stt_intern;   /* unit text -> id */
stt_intern *stt_intern_new(void);
void        stt_intern_free(stt_intern *t);

/* Cut s (valid UTF-8) into units by mode, appending to u; whitespace (ASCII and U+3000)
 * separates units and is never one. 0, or -1 when memory runs out. */
int  stt_units_cut(const char *s, size_t len, int mode, stt_intern *t, stt_units *u);
void stt_units_free(stt_units *u);

/* The edit script turning a (the reference, n units) into b (the hypothesis, m units): one byte
 * per step, '=' (match), 'S', 'D' (a unit of a missing from b), 'I' (a unit of b not in a).
 * Among scripts of the least cost it prefers substitutions, then deletions, then insertions at
 * each step from the start. *ops is malloc'ed (owned by the caller), *nops its length. Returns
 * the distance, or -1 when memory runs out. max_entries bounds the fast method's back-trace, in
 * 2-bit entries (0: STT_ALIGN_MAX_ENTRIES); past it the linear-memory method is used. */
#define STT_ALIGN_MAX_ENTRIES ((size_t)1 << 28)
long stt_align(const uint32_t *a, size_t n, const uint32_t *b, size_t m, size_t max_entries, char **ops,
               size_t *nops);

/* The Lua binding (stt_core_score.c): adds score_align and utf8_invalid to stt.core's table. */
struct lua_State;
void stt_core_score_open(struct lua_State *L);

#endif
