/* json.c - arena, strict JSON parser, compact writer and DOM helpers (see json.h). */
#include "json.h"

#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* Arena: a list of chunks; allocations bump a pointer in the newest chunk. Requests larger than
 * a quarter of the chunk size get a chunk of their own, linked behind the current one so the
 * current chunk keeps serving small requests. */

#define ARENA_CHUNK 8192
#define ARENA_ALIGN 8

typedef struct arena_chunk {
  struct arena_chunk *next;
  size_t used, cap;
  /* data follows, aligned by the union below */
} arena_chunk;

typedef union { arena_chunk c; long long ll; double d; void *p; } arena_hdr;

struct stt_arena {
  arena_chunk *head;
};

static char *chunk_data(arena_chunk *c) { return (char *)c + sizeof(arena_hdr); }

static arena_chunk *chunk_new(size_t cap) {
  arena_chunk *c;
  if (cap > (size_t)-1 - sizeof(arena_hdr)) return NULL;
  c = malloc(sizeof(arena_hdr) + cap);
  if (!c) return NULL;
  c->next = NULL;
  c->used = 0;
  c->cap = cap;
  return c;
}

stt_arena *stt_arena_new(void) {
  stt_arena *a = malloc(sizeof *a);
  if (!a) return NULL;
  a->head = NULL;
  return a;
}

void stt_arena_free(stt_arena *a) {
  arena_chunk *c, *next;
  if (!a) return;
  for (c = a->head; c; c = next) {
    next = c->next;
    free(c);
  }
  free(a);
}

void *stt_arena_alloc(stt_arena *a, size_t n) {
  arena_chunk *c;
  void *p;
  if (!a) return NULL;
  if (n == 0) n = 1;
  if (n > (size_t)-1 - ARENA_ALIGN) return NULL;
  n = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
  c = a->head;
  if (!c || c->cap - c->used < n) {
    if (n > ARENA_CHUNK / 4) {          /* big: private chunk, keep the current one in front */
      arena_chunk *big = chunk_new(n);
      if (!big) return NULL;
      big->used = n;
      if (c) { big->next = c->next; c->next = big; }
      else a->head = big;
      memset(chunk_data(big), 0, n);
      return chunk_data(big);
    }
    c = chunk_new(ARENA_CHUNK);
    if (!c) return NULL;
    c->next = a->head;
    a->head = c;
  }
  p = chunk_data(c) + c->used;
  c->used += n;
  memset(p, 0, n);
  return p;
}

char *stt_arena_strndup(stt_arena *a, const char *s, size_t n) {
  char *p;
  if (n == (size_t)-1) return NULL;
  p = stt_arena_alloc(a, n + 1);
  if (!p) return NULL;
  if (n) memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

char *stt_arena_printf(stt_arena *a, const char *fmt, ...) {
  va_list ap;
  int n;
  char *p;
  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) return NULL;
  p = stt_arena_alloc(a, (size_t)n + 1);
  if (!p) return NULL;
  va_start(ap, fmt);
  vsnprintf(p, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return p;
}

/* ------------------------------------------------------------------------------------------ */
/* Constructors */

static stt_json *jnew(stt_arena *a, stt_jtype t) {
  stt_json *j = stt_arena_alloc(a, sizeof *j);
  if (j) j->type = t;
  return j;
}

stt_json *stt_jnull(stt_arena *a) { return jnew(a, STT_JNULL); }
stt_json *stt_jarr(stt_arena *a) { return jnew(a, STT_JARR); }
stt_json *stt_jobj(stt_arena *a) { return jnew(a, STT_JOBJ); }

stt_json *stt_jbool(stt_arena *a, int b) {
  stt_json *j = jnew(a, STT_JBOOL);
  if (j) j->b = b ? 1 : 0;
  return j;
}

stt_json *stt_jint(stt_arena *a, long long i) {
  stt_json *j = jnew(a, STT_JNUM);
  if (j) { j->is_int = 1; j->i = i; j->n = (double)i; }
  return j;
}

/* i mirrors n when n is finite and in range, so integer accessors work on any number. */
static int double_to_ll(double n, long long *out) {
  if (n != n || n >= 9223372036854775808.0 || n < -9223372036854775808.0) return 0;
  *out = (long long)n;
  return 1;
}

stt_json *stt_jnum(stt_arena *a, double n) {
  stt_json *j = jnew(a, STT_JNUM);
  if (j) { j->n = n; double_to_ll(n, &j->i); }
  return j;
}

stt_json *stt_jstrn(stt_arena *a, const char *s, size_t n) {
  stt_json *j;
  char *copy;
  if (!s) return NULL;
  j = jnew(a, STT_JSTR);
  copy = j ? stt_arena_strndup(a, s, n) : NULL;
  if (!copy) return NULL;
  j->s = copy;
  j->slen = n;
  return j;
}

stt_json *stt_jstr(stt_arena *a, const char *s) {
  return s ? stt_jstrn(a, s, strlen(s)) : NULL;
}

static void jappend(stt_json *parent, stt_json *v) {
  v->next = NULL;
  if (parent->last) parent->last->next = v;
  else parent->child = v;
  parent->last = v;
  parent->count++;
}

int stt_jpush(stt_json *arr, stt_json *v) {
  if (!arr || !v || arr->type != STT_JARR) return -1;
  v->key = NULL;
  v->klen = 0;
  jappend(arr, v);
  return 0;
}

static int key_eq(const stt_json *m, const char *key, size_t klen) {
  return m->key && m->klen == klen && memcmp(m->key, key, klen) == 0;
}

int stt_jset(stt_arena *a, stt_json *obj, const char *key, stt_json *v) {
  stt_json *m, *prev = NULL, *hit = NULL, *hit_prev = NULL;
  size_t klen;
  char *k;
  if (!obj || !key || !v || obj->type != STT_JOBJ) return -1;
  klen = strlen(key);
  k = stt_arena_strndup(a, key, klen);
  if (!k) return -1;
  v->key = k;
  v->klen = klen;
  for (m = obj->child; m; prev = m, m = m->next)
    if (key_eq(m, key, klen)) { hit = m; hit_prev = prev; }   /* the last one, like stt_jget */
  if (!hit) { jappend(obj, v); return 0; }
  v->next = hit->next;
  if (hit_prev) hit_prev->next = v;
  else obj->child = v;
  if (obj->last == hit) obj->last = v;
  return 0;
}

stt_json *stt_jclone(stt_arena *a, const stt_json *j) {
  stt_json *c;
  const stt_json *m;
  if (!j) return NULL;
  c = jnew(a, j->type);
  if (!c) return NULL;
  c->b = j->b;
  c->is_int = j->is_int;
  c->i = j->i;
  c->n = j->n;
  if (j->type == STT_JSTR) {
    char *s = stt_arena_strndup(a, j->s, j->slen);
    if (!s) return NULL;
    c->s = s;
    c->slen = j->slen;
  }
  for (m = j->child; m; m = m->next) {
    stt_json *cm = stt_jclone(a, m);
    if (!cm) return NULL;
    if (m->key) {
      char *k = stt_arena_strndup(a, m->key, m->klen);
      if (!k) return NULL;
      cm->key = k;
      cm->klen = m->klen;
    }
    jappend(c, cm);
  }
  return c;
}

/* ------------------------------------------------------------------------------------------ */
/* Accessors */

static stt_json *jget_n(const stt_json *obj, const char *key, size_t klen) {
  stt_json *m, *hit = NULL;
  if (!obj || !key || obj->type != STT_JOBJ) return NULL;
  for (m = obj->child; m; m = m->next)
    if (key_eq(m, key, klen)) hit = m;
  return hit;
}

stt_json *stt_jget(const stt_json *obj, const char *key) {
  return key ? jget_n(obj, key, strlen(key)) : NULL;
}

stt_json *stt_jat(const stt_json *arr, size_t idx) {
  stt_json *m;
  if (!arr || (arr->type != STT_JARR && arr->type != STT_JOBJ) || idx >= arr->count) return NULL;
  for (m = arr->child; idx > 0; idx--) m = m->next;
  return m;
}

/* A path part made only of digits indexes an array; anything else names an object member. */
static stt_json *path_step(const stt_json *cur, const char *part, size_t n) {
  size_t k, idx = 0;
  if (!cur) return NULL;
  if (cur->type == STT_JOBJ) return jget_n(cur, part, n);
  if (cur->type != STT_JARR || n == 0 || n > 18) return NULL;
  for (k = 0; k < n; k++) {
    if (part[k] < '0' || part[k] > '9') return NULL;
    idx = idx * 10 + (size_t)(part[k] - '0');
  }
  return stt_jat(cur, idx);
}

stt_json *stt_jpath(const stt_json *obj, const char *dotted) {
  const stt_json *cur = obj;
  const char *p;
  if (!obj || !dotted) return NULL;
  p = dotted;
  for (;;) {
    const char *dot = strchr(p, '.');
    size_t n = dot ? (size_t)(dot - p) : strlen(p);
    cur = path_step(cur, p, n);
    if (!cur || !dot) return (stt_json *)cur;
    p = dot + 1;
  }
}

int stt_jis(const stt_json *j, stt_jtype t) { return j && j->type == t; }

const char *stt_jgetstr(const stt_json *obj, const char *key) {
  stt_json *v = stt_jget(obj, key);
  return stt_jis(v, STT_JSTR) ? v->s : NULL;
}

/* "3575", "-12": optional sign and digits only, no spaces, must fit. */
static int str_to_ll(const char *s, size_t n, long long *out) {
  char tmp[32];
  char *end;
  long long v;
  size_t k = 0;
  if (n == 0 || n >= sizeof tmp) return 0;
  if (s[0] == '-' || s[0] == '+') k = 1;
  if (k == n) return 0;
  for (; k < n; k++)
    if (s[k] < '0' || s[k] > '9') return 0;
  memcpy(tmp, s, n);
  tmp[n] = '\0';
  errno = 0;
  v = strtoll(tmp, &end, 10);
  if (errno || *end) return 0;
  *out = v;
  return 1;
}

long long stt_jgetint(const stt_json *obj, const char *key, long long fallback) {
  stt_json *v = stt_jget(obj, key);
  long long out;
  if (stt_jis(v, STT_JNUM)) {
    if (v->is_int) return v->i;
    return double_to_ll(v->n, &out) ? out : fallback;
  }
  if (stt_jis(v, STT_JSTR) && str_to_ll(v->s, v->slen, &out)) return out;
  return fallback;
}

/* ------------------------------------------------------------------------------------------ */
/* DOM helpers */

int stt_json_merge(stt_arena *a, stt_json *dst, const stt_json *src) {
  const stt_json *m;
  for (m = src ? src->child : NULL; m; m = m->next) {
    stt_json *d = stt_jget(dst, m->key);
    if (stt_jis(d, STT_JOBJ) && (stt_jis(m, STT_JOBJ) || (stt_jis(m, STT_JARR) && m->count == 0))) {
      if (stt_json_merge(a, d, m)) return -1;
    } else if (stt_jset(a, dst, m->key, stt_jclone(a, m))) {
      return -1;
    }
  }
  return 0;
}

int stt_json_int(const stt_json *v, long long *out) {
  if (!stt_jis(v, STT_JNUM)) return 0;
  if (v->is_int) { *out = v->i; return 1; }
  if (!(v->n >= -9e15 && v->n <= 9e15) || v->n != (double)(long long)v->n) return 0;   /* NaN too */
  *out = (long long)v->n;
  return 1;
}

stt_json *stt_json_as_string(stt_arena *a, const stt_json *j) {
  stt_buf b;
  stt_json *out;
  stt_buf_init(&b);
  if (stt_json_write(&b, j) != 0) {
    stt_buf_free(&b);
    return NULL;
  }
  out = stt_jstrn(a, b.data ? b.data : "", b.len);
  stt_buf_free(&b);
  return out;
}

/* ------------------------------------------------------------------------------------------ */
/* Parser */

typedef struct {
  stt_arena *a;
  const char *s;
  size_t len, pos;
  int depth;
  char *err;
  size_t errlen;
  int failed;
} jparser;

static stt_json *parse_value(jparser *p);

/* Byte offsets in messages are 0-based (the number of bytes before the problem). */
static stt_json *fail(jparser *p, const char *what) {
  if (!p->failed && p->err && p->errlen) {
    if (p->pos >= p->len)
      snprintf(p->err, p->errlen, "bad JSON at byte %lu: %s (unexpected end of input)",
               (unsigned long)p->pos, what);
    else
      snprintf(p->err, p->errlen, "bad JSON at byte %lu: %s", (unsigned long)p->pos, what);
  }
  p->failed = 1;
  return NULL;
}

static stt_json *oom(jparser *p) { return fail(p, "out of memory"); }

static void skip_ws(jparser *p) {
  while (p->pos < p->len) {
    char c = p->s[p->pos];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
    p->pos++;
  }
}

static int peek(const jparser *p) {
  return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1;
}

static int match_word(jparser *p, const char *w) {
  size_t n = strlen(w);
  if (p->len - p->pos < n || memcmp(p->s + p->pos, w, n) != 0) return 0;
  p->pos += n;
  return 1;
}

static int is_digit(int c) { return c >= '0' && c <= '9'; }

/* strtod with '.' whatever the C locale says (a host program may have called setlocale). */
static double strtod_dot(char *num) {
  const char *dp = localeconv()->decimal_point;
  if (dp && dp[0] && dp[0] != '.' && dp[1] == '\0') {
    char *q = strchr(num, '.');
    if (q) *q = dp[0];
  }
  return strtod(num, NULL);
}

static stt_json *parse_number(jparser *p) {
  size_t start = p->pos, n;
  int is_int = 1;
  char small[64], *num;
  stt_json *j;
  if (peek(p) == '-') p->pos++;
  if (peek(p) == '0') p->pos++;
  else if (is_digit(peek(p))) { while (is_digit(peek(p))) p->pos++; }
  else return fail(p, "expected a digit");
  if (peek(p) == '.') {
    is_int = 0;
    p->pos++;
    if (!is_digit(peek(p))) return fail(p, "expected a digit after '.'");
    while (is_digit(peek(p))) p->pos++;
  }
  if (peek(p) == 'e' || peek(p) == 'E') {
    is_int = 0;
    p->pos++;
    if (peek(p) == '+' || peek(p) == '-') p->pos++;
    if (!is_digit(peek(p))) return fail(p, "expected a digit in exponent");
    while (is_digit(peek(p))) p->pos++;
  }
  n = p->pos - start;
  num = n < sizeof small ? small : stt_arena_alloc(p->a, n + 1);   /* the body may lack a NUL */
  if (!num) return oom(p);
  memcpy(num, p->s + start, n);
  num[n] = '\0';
  j = jnew(p->a, STT_JNUM);
  if (!j) return oom(p);
  if (is_int) {
    errno = 0;
    j->i = strtoll(num, NULL, 10);
    j->is_int = errno == 0;           /* out of range: keep only the double */
  }
  j->n = strtod_dot(num);
  if (!j->is_int) double_to_ll(j->n, &j->i);
  return j;
}

static int hex4(const char *s, unsigned *out) {
  unsigned v = 0;
  int k;
  for (k = 0; k < 4; k++) {
    char c = s[k];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
    else return 0;
  }
  *out = v;
  return 1;
}

static size_t put_utf8(char *o, unsigned cp) {
  if (cp < 0x80) { o[0] = (char)cp; return 1; }
  if (cp < 0x800) {
    o[0] = (char)(0xC0 | (cp >> 6));
    o[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (char)(0xE0 | (cp >> 12));
    o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (char)(0xF0 | (cp >> 18));
  o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  o[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

/* Decode the \u escape at p->pos (pointing at 'u'), pairing surrogates; lone ones become U+FFFD. */
static int parse_u_escape(jparser *p, unsigned *cp) {
  unsigned hi, lo;
  if (p->len - p->pos < 5 || !hex4(p->s + p->pos + 1, &hi)) {
    fail(p, "bad \\u escape (need 4 hex digits)");
    return 0;
  }
  p->pos += 5;
  *cp = hi;
  if (hi >= 0xDC00 && hi <= 0xDFFF) *cp = 0xFFFD;
  else if (hi >= 0xD800 && hi <= 0xDBFF) {
    if (p->len - p->pos >= 6 && p->s[p->pos] == '\\' && p->s[p->pos + 1] == 'u' &&
        hex4(p->s + p->pos + 2, &lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
      p->pos += 6;
      *cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
    } else {
      *cp = 0xFFFD;
    }
  }
  return 1;
}

static int unescape_char(char c, char *out) {
  switch (c) {
    case '"': *out = '"'; return 1;
    case '\\': *out = '\\'; return 1;
    case '/': *out = '/'; return 1;
    case 'b': *out = '\b'; return 1;
    case 'f': *out = '\f'; return 1;
    case 'n': *out = '\n'; return 1;
    case 'r': *out = '\r'; return 1;
    case 't': *out = '\t'; return 1;
    default: return 0;
  }
}

/* Parses a string starting at the opening quote. The decoded text is never longer than its
 * source (an escape of n bytes decodes to at most n bytes), so one arena block of the raw
 * length is enough. */
static int parse_string_raw(jparser *p, const char **out, size_t *outlen) {
  size_t start, end, n = 0;
  char *buf;
  int plain = 1;                              /* no escape and no control character */
  p->pos++;                                   /* opening quote */
  start = p->pos;
  for (end = start; end < p->len && p->s[end] != '"'; end++) {
    unsigned char c = (unsigned char)p->s[end];
    if (c == '\\') { end++; plain = 0; }
    else if (c < 0x20) plain = 0;
  }
  buf = stt_arena_alloc(p->a, (end > p->len ? p->len : end) - start + 1);
  if (!buf) { oom(p); return 0; }
  if (plain && end < p->len) {                /* the common case: one copy, nothing to decode */
    n = end - start;
    memcpy(buf, p->s + start, n);
    buf[n] = '\0';
    p->pos = end + 1;
    *out = buf;
    *outlen = n;
    return 1;
  }
  while (p->pos < p->len) {
    unsigned char c = (unsigned char)p->s[p->pos];
    if (c == '"') {
      p->pos++;
      buf[n] = '\0';
      *out = buf;
      *outlen = n;
      return 1;
    }
    if (c < 0x20) { fail(p, "control character in string (must be escaped)"); return 0; }
    if (c != '\\') { buf[n++] = (char)c; p->pos++; continue; }
    p->pos++;
    if (p->pos >= p->len) break;
    if (p->s[p->pos] == 'u') {
      unsigned cp;
      if (!parse_u_escape(p, &cp)) return 0;
      n += put_utf8(buf + n, cp);
    } else if (unescape_char(p->s[p->pos], buf + n)) {
      n++;
      p->pos++;
    } else {
      fail(p, "bad escape in string");
      return 0;
    }
  }
  fail(p, "unterminated string");
  return 0;
}

static stt_json *parse_string(jparser *p) {
  stt_json *j = jnew(p->a, STT_JSTR);
  if (!j) return oom(p);
  if (!parse_string_raw(p, &j->s, &j->slen)) return NULL;
  return j;
}

static int enter(jparser *p) {
  if (++p->depth > STT_JSON_MAX_DEPTH) {
    fail(p, "nesting too deep");
    return 0;
  }
  p->pos++;                                    /* '[' or '{' */
  skip_ws(p);
  return 1;
}

static stt_json *parse_array(jparser *p) {
  stt_json *arr = jnew(p->a, STT_JARR);
  if (!arr) return oom(p);
  if (!enter(p)) return NULL;
  if (peek(p) == ']') { p->pos++; p->depth--; return arr; }
  for (;;) {
    stt_json *v = parse_value(p);
    if (!v) return NULL;
    jappend(arr, v);
    skip_ws(p);
    if (peek(p) == ',') { p->pos++; continue; }
    if (peek(p) == ']') { p->pos++; p->depth--; return arr; }
    return fail(p, "expected ',' or ']'");
  }
}

static stt_json *parse_member(jparser *p) {
  const char *key;
  size_t klen;
  stt_json *v;
  skip_ws(p);
  if (peek(p) != '"') return fail(p, "expected a string key");
  if (!parse_string_raw(p, &key, &klen)) return NULL;
  skip_ws(p);
  if (peek(p) != ':') return fail(p, "expected ':'");
  p->pos++;
  v = parse_value(p);
  if (!v) return NULL;
  v->key = key;
  v->klen = klen;
  return v;
}

static stt_json *parse_object(jparser *p) {
  stt_json *obj = jnew(p->a, STT_JOBJ);
  if (!obj) return oom(p);
  if (!enter(p)) return NULL;
  if (peek(p) == '}') { p->pos++; p->depth--; return obj; }
  for (;;) {
    stt_json *v = parse_member(p);
    if (!v) return NULL;
    jappend(obj, v);                           /* duplicates kept; stt_jget finds the last */
    skip_ws(p);
    if (peek(p) == ',') { p->pos++; continue; }
    if (peek(p) == '}') { p->pos++; p->depth--; return obj; }
    return fail(p, "expected ',' or '}'");
  }
}

static stt_json *parse_value(jparser *p) {
  int c;
  skip_ws(p);
  c = peek(p);
  switch (c) {
    case '{': return parse_object(p);
    case '[': return parse_array(p);
    case '"': return parse_string(p);
    case 't':
      if (match_word(p, "true")) { stt_json *j = stt_jbool(p->a, 1); return j ? j : oom(p); }
      break;
    case 'f':
      if (match_word(p, "false")) { stt_json *j = stt_jbool(p->a, 0); return j ? j : oom(p); }
      break;
    case 'n':
      if (match_word(p, "null")) { stt_json *j = stt_jnull(p->a); return j ? j : oom(p); }
      break;
    default:
      if (c == '-' || is_digit(c)) return parse_number(p);
      break;
  }
  return fail(p, c < 0 ? "expected a value" : "unexpected character (expected a value)");
}

stt_json *stt_json_parse(stt_arena *a, const char *s, size_t len, char *err, size_t errlen) {
  jparser p;
  stt_json *root;
  if (err && errlen) err[0] = '\0';
  memset(&p, 0, sizeof p);
  p.a = a;
  p.s = s ? s : "";
  p.len = s ? len : 0;
  p.err = err;
  p.errlen = errlen;
  if (!a) { fail(&p, "no arena"); return NULL; }
  root = parse_value(&p);
  if (!root) return NULL;
  skip_ws(&p);
  if (p.pos != p.len) return fail(&p, "trailing characters after the JSON value");
  return root;
}

/* ------------------------------------------------------------------------------------------ */
/* Writer */

static int write_string(stt_buf *out, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  size_t k, run = 0;
  if (stt_buf_putc(out, '"')) return -1;
  for (k = 0; k < n; k++) {
    unsigned char c = (unsigned char)s[k];
    const char *esc = NULL;
    char u[7];
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    switch (c) {
      case '"': esc = "\\\""; break;
      case '\\': esc = "\\\\"; break;
      case '\b': esc = "\\b"; break;
      case '\f': esc = "\\f"; break;
      case '\n': esc = "\\n"; break;
      case '\r': esc = "\\r"; break;
      case '\t': esc = "\\t"; break;
      default:
        memcpy(u, "\\u00", 4);
        u[4] = hex[c >> 4];
        u[5] = hex[c & 15];
        u[6] = '\0';
        esc = u;
    }
    if (stt_buf_put(out, s + run, k - run) || stt_buf_puts(out, esc)) return -1;
    run = k + 1;
  }
  if (stt_buf_put(out, s + run, n - run)) return -1;
  return stt_buf_putc(out, '"');
}

/* "%.15g", then more digits until it reads back as the same double; '.' whatever the locale. */
static int write_double(stt_buf *out, double n) {
  char tmp[40], *q;
  const char *dp = localeconv()->decimal_point;
  int prec;
  if (n != n || n == HUGE_VAL || n == -HUGE_VAL) return stt_buf_puts(out, "null");
  if (n == 0 && signbit(n)) return stt_buf_puts(out, "-0.0");   /* "-0" reads back as the integer 0 */
  for (prec = 15; prec <= 17; prec++) {
    snprintf(tmp, sizeof tmp, "%.*g", prec, n);
    if (strtod(tmp, NULL) == n) break;
  }
  if (dp && dp[0] && dp[0] != '.' && dp[1] == '\0' && (q = strchr(tmp, dp[0])) != NULL) *q = '.';
  return stt_buf_puts(out, tmp);
}

int stt_json_write(stt_buf *out, const stt_json *j) {
  const stt_json *m;
  if (!j) return stt_buf_puts(out, "null");
  switch (j->type) {
    case STT_JNULL: return stt_buf_puts(out, "null");
    case STT_JBOOL: return stt_buf_puts(out, j->b ? "true" : "false");
    case STT_JNUM:
      if (j->is_int) return stt_buf_printf(out, "%lld", j->i);
      return write_double(out, j->n);
    case STT_JSTR: return write_string(out, j->s ? j->s : "", j->s ? j->slen : 0);
    case STT_JARR:
    case STT_JOBJ:
      if (stt_buf_putc(out, j->type == STT_JARR ? '[' : '{')) return -1;
      for (m = j->child; m; m = m->next) {
        if (m != j->child && stt_buf_putc(out, ',')) return -1;
        if (j->type == STT_JOBJ) {
          if (write_string(out, m->key ? m->key : "", m->key ? m->klen : 0)) return -1;
          if (stt_buf_putc(out, ':')) return -1;
        }
        if (stt_json_write(out, m)) return -1;
      }
      return stt_buf_putc(out, j->type == STT_JARR ? ']' : '}');
  }
  return -1;
}
