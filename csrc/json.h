/* json.h - a small JSON DOM for the wire schemas. Pure C, no Lua.
 *
 * Every node lives in an arena (stt_arena) and is freed with it; nodes are never freed one by one.
 * Objects keep their members in insertion order, so a built request serializes byte-for-byte in
 * the order the schema code adds fields. Parsing accepts duplicate keys (the Volcengine AUC doc's
 * own example has one); stt_jget() returns the LAST member with that key, as most parsers do.
 * Numbers keep both forms: is_int says whether the text was an integer that fits in long long.
 */
#ifndef STT_JSON_H
#define STT_JSON_H
#include <stddef.h>
#include "buf.h"

typedef struct stt_arena stt_arena;
stt_arena *stt_arena_new(void);
void       stt_arena_free(stt_arena *a);            /* NULL is fine */
void      *stt_arena_alloc(stt_arena *a, size_t n); /* zeroed, 8-aligned; NULL on oom */
char      *stt_arena_strndup(stt_arena *a, const char *s, size_t n); /* NUL-terminated copy */
char      *stt_arena_printf(stt_arena *a, const char *fmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 2, 3)))
#endif
  ;

typedef enum { STT_JNULL, STT_JBOOL, STT_JNUM, STT_JSTR, STT_JARR, STT_JOBJ } stt_jtype;

typedef struct stt_json stt_json;
struct stt_json {
  stt_jtype type;
  int b;                 /* JBOOL */
  int is_int;            /* JNUM: integral and fits in long long */
  long long i;           /* JNUM when is_int */
  double n;              /* JNUM always */
  const char *s;         /* JSTR: NUL-terminated, may contain NULs (use slen) */
  size_t slen;
  const char *key;       /* set when this node is an object member */
  size_t klen;
  stt_json *child;       /* JARR/JOBJ: first child */
  stt_json *last;        /* JARR/JOBJ: last child (O(1) append) */
  stt_json *next;        /* next sibling */
  size_t count;          /* JARR/JOBJ: number of children */
};

/* Parse. Returns NULL on error and writes a message like "bad JSON at byte 17: expected ':'"
 * into err (if given). Depth is limited (STT_JSON_MAX_DEPTH); invalid UTF-8 is passed through,
 * \u escapes (including surrogate pairs) are decoded to UTF-8; a lone surrogate becomes U+FFFD. */
#define STT_JSON_MAX_DEPTH 200
stt_json *stt_json_parse(stt_arena *a, const char *s, size_t len, char *err, size_t errlen);

/* Serialize compactly (no spaces), members in order, strings escaped per RFC 8259 with
 * '/' left as is and non-ASCII UTF-8 written raw. Integers print as integers; other numbers
 * with "%.17g" trimmed to the shortest form that round-trips. NaN/inf are written as null.
 * Returns 0, or -1 on oom. */
int stt_json_write(stt_buf *out, const stt_json *j);

/* Constructors (NULL on oom; a NULL child passed to set/push is ignored and returns -1). */
stt_json *stt_jnull(stt_arena *a);
stt_json *stt_jbool(stt_arena *a, int b);
stt_json *stt_jint(stt_arena *a, long long i);
stt_json *stt_jnum(stt_arena *a, double n);
stt_json *stt_jstr(stt_arena *a, const char *s);            /* copies */
stt_json *stt_jstrn(stt_arena *a, const char *s, size_t n);  /* copies */
stt_json *stt_jarr(stt_arena *a);
stt_json *stt_jobj(stt_arena *a);
int stt_jpush(stt_json *arr, stt_json *v);                          /* append */
int stt_jset(stt_arena *a, stt_json *obj, const char *key, stt_json *v); /* replace in place if key exists, else append */

/* Deep copy of a node (and its subtree) into arena a; key is not copied. */
stt_json *stt_jclone(stt_arena *a, const stt_json *j);

/* Access (all NULL-safe: a NULL or wrongly typed node gives the fallback / NULL). */
stt_json   *stt_jget(const stt_json *obj, const char *key);         /* last member named key */
stt_json   *stt_jpath(const stt_json *obj, const char *dotted);     /* "output.result.transcription_url"; numeric parts index arrays (0-based) */
stt_json   *stt_jat(const stt_json *arr, size_t idx);
const char *stt_jgetstr(const stt_json *obj, const char *key);     /* NULL unless a string */
long long   stt_jgetint(const stt_json *obj, const char *key, long long fallback); /* numbers (truncated) and integer strings ("3575") */
int         stt_jis(const stt_json *j, stt_jtype t);

/* Integral number (Lua integer or integral float) -> *out; 0 when not one. */
int stt_json_int(const stt_json *v, long long *out);
/* Recursive merge of src's members into dst (job.extra): objects merge member by member, an
 * empty table over an object changes nothing, anything else replaces in place or appends. */
int stt_json_merge(stt_arena *a, stt_json *dst, const stt_json *src);
/* Serializes j compactly into an arena string (JSON carried as a string field). */
stt_json *stt_json_as_string(stt_arena *a, const stt_json *j);
#endif
