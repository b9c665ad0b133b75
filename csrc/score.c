/* score.c - UTF-8 checking, unit cutting and the edit script of the scorer (see score.h).
 *
 * Hand-written because no packaged library fits: edlib (Debian's libedlib) aligns byte strings
 * over an alphabet of at most 256 symbols, while Chinese text has thousands of distinct units and
 * word units are unbounded; the general diff libraries find insert/delete scripts only.
 *
 * The aligner is Ukkonen's and Landau-Vishkin's "furthest reaching point per diagonal" method:
 * for each cost e = 0, 1, ... and each diagonal k = j - i with |k| <= e it keeps the furthest row
 * i where D[i][i+k] <= e, sliding along matches for free. Time O(n + m + d^2) on texts that are
 * alike (d the distance), memory O(n + m) for the rows plus 2 bits per (e, k) for the back-trace:
 * (d+1)^2 / 4 bytes, the band |i - j| <= d of the matrix and no more. When that band would pass
 * STT_ALIGN_MAX_ENTRIES (d above ~20,000 units: texts that share little), Hirschberg's method takes over:
 * O(n m) time, memory linear in the hypothesis. Common prefixes and suffixes are matched first. */
#include "score.h"
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------ UTF-8 */

size_t stt_utf8_invalid(const char *str, size_t len) {
  const unsigned char *s = (const unsigned char *)str;
  size_t i = 0;
  while (i < len) {
    unsigned c = s[i];
    size_t need;
    uint32_t cp, min;
    if (c < 0x80) { i++; continue; }
    if (c >= 0xC2 && c <= 0xDF) { need = 1; cp = c & 0x1F; min = 0x80; }
    else if (c >= 0xE0 && c <= 0xEF) { need = 2; cp = c & 0x0F; min = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { need = 3; cp = c & 0x07; min = 0x10000; }
    else return i;
    if (len - i <= need) return i;
    for (size_t k = 1; k <= need; k++) {
      if ((s[i + k] & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += need + 1;
  }
  return (size_t)-1;
}

/* Decode the code point at s (valid UTF-8 assumed); sets *n to its byte length. */
static uint32_t decode(const unsigned char *s, size_t *n) {
  if (s[0] < 0x80) { *n = 1; return s[0]; }
  if (s[0] < 0xE0) { *n = 2; return ((uint32_t)(s[0] & 0x1F) << 6) | (s[1] & 0x3F); }
  if (s[0] < 0xF0) { *n = 3; return ((uint32_t)(s[0] & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F); }
  *n = 4;
  return ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) | ((uint32_t)(s[2] & 0x3F) << 6)
         | (s[3] & 0x3F);
}

int stt_score_is_cjk(uint32_t cp) {
  return (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x4E00 && cp <= 0x9FFF)      /* Han */
      || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x20000 && cp <= 0x3134F)
      || (cp >= 0x3005 && cp <= 0x3007)                                         /* 々 〆 〇 */
      || (cp >= 0x3040 && cp <= 0x30FF) || (cp >= 0x31F0 && cp <= 0x31FF)      /* kana */
      || (cp >= 0xFF66 && cp <= 0xFF9F)                                         /* half-width katakana */
      || (cp >= 0xAC00 && cp <= 0xD7AF) || (cp >= 0x1100 && cp <= 0x11FF)      /* Hangul */
      || (cp >= 0x3130 && cp <= 0x318F);
}

/* --------------------------------------------------------------------------- unit interning */

typedef struct { const char *p; uint32_t len, hash, id; } slot;
struct stt_intern { slot *s; size_t cap, used; };

static uint32_t fnv1a(const char *p, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) { h ^= (unsigned char)p[i]; h *= 16777619u; }
  return h;
}

stt_intern *stt_intern_new(void) {
  stt_intern *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  t->cap = 1024;
  t->s = calloc(t->cap, sizeof *t->s);
  if (!t->s) { free(t); return NULL; }
  return t;
}

void stt_intern_free(stt_intern *t) {
  if (!t) return;
  free(t->s);
  free(t);
}

static int intern_grow(stt_intern *t) {
  size_t cap = t->cap * 2;
  slot *s = calloc(cap, sizeof *s);
  if (!s) return -1;
  for (size_t i = 0; i < t->cap; i++) {
    if (!t->s[i].p) continue;
    size_t j = t->s[i].hash & (cap - 1);
    while (s[j].p) j = (j + 1) & (cap - 1);
    s[j] = t->s[i];
  }
  free(t->s);
  t->s = s;
  t->cap = cap;
  return 0;
}

/* The id of the unit p[0..n), a new one for a unit not seen yet; UINT32_MAX on no memory. */
static uint32_t intern(stt_intern *t, const char *p, size_t n) {
  if ((t->used + 1) * 2 > t->cap && intern_grow(t) != 0) return UINT32_MAX;
  uint32_t h = fnv1a(p, n);
  size_t j = h & (t->cap - 1);
  while (t->s[j].p) {
    if (t->s[j].hash == h && t->s[j].len == n && memcmp(t->s[j].p, p, n) == 0) return t->s[j].id;
    j = (j + 1) & (t->cap - 1);
  }
  t->s[j].p = p;
  t->s[j].len = (uint32_t)n;
  t->s[j].hash = h;
  t->s[j].id = (uint32_t)t->used++;
  return t->s[j].id;
}

/* ----------------------------------------------------------------------------------- units */

void stt_units_free(stt_units *u) {
  free(u->id); free(u->off); free(u->len);
  memset(u, 0, sizeof *u);
}

static int units_push(stt_units *u, stt_intern *t, const char *s, size_t off, size_t len, int cjk) {
  if (u->n == u->cap) {
    size_t cap = u->cap ? u->cap * 2 : 256;
    uint32_t *id = realloc(u->id, cap * sizeof *id);
    if (!id) return -1;
    u->id = id;
    uint32_t *o = realloc(u->off, cap * sizeof *o);
    if (!o) return -1;
    u->off = o;
    uint32_t *l = realloc(u->len, cap * sizeof *l);
    if (!l) return -1;
    u->len = l;
    u->cap = cap;
  }
  uint32_t id = intern(t, s + off, len);
  if (id == UINT32_MAX) return -1;
  u->id[u->n] = id;
  u->off[u->n] = (uint32_t)off;
  u->len[u->n] = (uint32_t)len;
  u->n++;
  if (cjk) u->cjk++; else u->words++;
  return 0;
}

int stt_units_cut(const char *str, size_t len, int mode, stt_intern *t, stt_units *u) {
  const unsigned char *s = (const unsigned char *)str;
  size_t i = 0, word = (size_t)-1;       /* start of the word being read, or none */
  while (i < len) {
    size_t n;
    uint32_t cp = decode(s + i, &n);
    int space = cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\f' || cp == '\v' || cp == 0x3000;
    int alone = !space && (mode == STT_UNIT_CHAR || (mode == STT_UNIT_AUTO && stt_score_is_cjk(cp)));
    if ((space || alone) && word != (size_t)-1) {
      if (units_push(u, t, str, word, i - word, 0) != 0) return -1;
      word = (size_t)-1;
    }
    if (alone) {
      if (units_push(u, t, str, i, n, stt_score_is_cjk(cp)) != 0) return -1;
    } else if (!space && word == (size_t)-1) {
      word = i;
    }
    i += n;
  }
  if (word != (size_t)-1 && units_push(u, t, str, word, len - word, 0) != 0) return -1;
  return 0;
}

/* ------------------------------------------------------------------------------- edit script */

typedef struct { char *p; size_t n, cap; int oom; } opbuf;

static void op_put(opbuf *o, char c, size_t count) {
  if (o->oom || count == 0) return;
  if (o->n + count > o->cap) {
    size_t cap = o->cap ? o->cap : 1024;
    while (cap < o->n + count) cap *= 2;
    char *p = realloc(o->p, cap);
    if (!p) { o->oom = 1; return; }
    o->p = p;
    o->cap = cap;
  }
  memset(o->p + o->n, c, count);
  o->n += count;
}

/* Back-trace codes: how the furthest point of (e, k) was reached from level e - 1. The back-trace
 * band is limited to max_entries 2-bit entries (STT_ALIGN_MAX_ENTRIES by default: 64 MiB). */
enum { P_STAY = 0, P_SUB = 1, P_DEL = 2, P_INS = 3 };
/* The back-trace band's limit, in 2-bit entries (64 MiB). */

typedef struct { uint8_t *bits; size_t n, cap; } predbuf;

static unsigned pred_get(const predbuf *p, size_t i) { return (p->bits[i / 4] >> ((i % 4) * 2)) & 3u; }

/* Furthest row reached from row i on diagonal k by matches alone. */
static long slide(const uint32_t *a, long n, const uint32_t *b, long m, long i, long k) {
  while (i < n && i + k < m && a[i] == b[i + k]) i++;
  return i;
}

/* Landau-Vishkin. Diagonals are limited to |k| <= band (band < 0: no limit) and, given an upper
 * bound ub >= 0 of the distance, to those from which the end can still be reached within it
 * (e + |kt - k| <= ub: the rest of any path from diagonal k costs at least |kt - k|), which the
 * optimal path never leaves. With o, a 2-bit back-trace per (e, k) gives the script, appended to
 * o. Returns the distance found (the least cost within the band), -1 on no memory, -2 when the
 * back-trace would pass max_entries (the caller takes Hirschberg's way). */
static long lv_run(const uint32_t *a, long n, const uint32_t *b, long m, long band, long ub, size_t max_entries,
                   opbuf *o) {
  /* rows by diagonal, k in [-n-2, m+2]; the two slots each side of a level's range are set to -1
   * ("not reached"), which keeps the inner loop free of range tests */
  long width = n + m + 5, off = n + 2, kt = m - n, d = -1;
  long *prev = malloc((size_t)width * sizeof *prev), *cur = malloc((size_t)width * sizeof *cur);
  size_t *base = NULL, nbase = 0, capbase = 0;
  long *los = NULL;
  predbuf pb = { NULL, 0, 0 };
  long result = -1;
  if (!prev || !cur) goto done;
  for (long x = 0; x < width; x++) prev[x] = cur[x] = -1;
  prev[off] = slide(a, n, b, m, 0, 0);
  if (kt == 0 && prev[off] == n) d = 0;
  for (long e = 1; d < 0; e++) {
    long lo = e < n ? -e : -n, hi = e < m ? e : m;
    if (band >= 0) { if (lo < -band) lo = -band; if (hi > band) hi = band; }
    if (ub >= 0) { if (lo < kt - (ub - e)) lo = kt - (ub - e); if (hi > kt + (ub - e)) hi = kt + (ub - e); }
    if (lo > hi) { result = -3; goto done; }          /* cannot happen with a true bound */
    size_t count = (size_t)(hi - lo + 1);
    if (o) {
      if (pb.n + count > max_entries) { result = -2; goto done; }
      if (nbase == capbase) {
        size_t c = capbase ? capbase * 2 : 256;
        size_t *nb = realloc(base, c * sizeof *nb);
        if (!nb) goto done;
        base = nb;
        long *nl = realloc(los, c * sizeof *nl);
        if (!nl) goto done;
        los = nl;
        capbase = c;
      }
      los[nbase] = lo;
      base[nbase++] = pb.n;                /* level e's first entry (level 0 has none stored) */
      if ((pb.n + count + 3) / 4 > pb.cap) {
        size_t cap = pb.cap ? pb.cap : 4096;
        while (cap < (pb.n + count + 3) / 4) cap *= 2;
        uint8_t *nb = realloc(pb.bits, cap);
        if (!nb) goto done;
        memset(nb + pb.cap, 0, cap - pb.cap);
        pb.bits = nb;
        pb.cap = cap;
      }
    }
    for (long k = lo; k <= hi; k++) {
      long bound = n < m - k ? n : m - k, best = -1, v;
      unsigned code = P_STAY;
      v = prev[k + off];
      if (v >= 0) {
        if (v + 1 <= bound) { best = v + 1; code = P_SUB; } else best = v;
      }
      v = prev[k + 1 + off];
      if (v >= 0 && v + 1 <= n && v + 1 > best) { best = v + 1; code = P_DEL; }
      v = prev[k - 1 + off];
      if (v >= 0 && v + k <= m && v > best) { best = v; code = P_INS; }
      if (best >= 0) {
        const uint32_t *pa = a + best, *pbb = b + best + k, *end = a + bound;
        while (pa < end && *pa == *pbb) { pa++; pbb++; }
        best = (long)(pa - a);
      }
      cur[k + off] = best;
      if (o) {
        pb.bits[pb.n / 4] |= (uint8_t)(code << ((pb.n % 4) * 2));
        pb.n++;
      }
    }
    cur[lo - 1 + off] = cur[lo - 2 + off] = cur[hi + 1 + off] = cur[hi + 2 + off] = -1;
    if (kt >= lo && kt <= hi && cur[kt + off] == n) d = e;
    long *t = prev; prev = cur; cur = t;
  }
  if (!o) { result = d; goto done; }
  /* Back-trace: the edit of each level on the way from (d, kt) to (0, 0), then replay forward. */
  {
    unsigned char *path = malloc((size_t)d + 1);
    if (!path) goto done;
    long k = kt;
    for (long e = d; e >= 1; e--) {
      unsigned code = pred_get(&pb, base[e - 1] + (size_t)(k - los[e - 1]));
      path[e] = (unsigned char)code;
      if (code == P_DEL) k += 1;
      else if (code == P_INS) k -= 1;
    }
    long i = slide(a, n, b, m, 0, 0);
    k = 0;
    op_put(o, '=', (size_t)i);
    for (long e = 1; e <= d; e++) {
      long ni;
      switch (path[e]) {
      case P_SUB: op_put(o, 'S', 1); i++; break;
      case P_DEL: op_put(o, 'D', 1); i++; k--; break;
      case P_INS: op_put(o, 'I', 1); k++; break;
      default: break;
      }
      ni = slide(a, n, b, m, i, k);
      op_put(o, '=', (size_t)(ni - i));
      i = ni;
    }
    free(path);
    result = d;
  }
done:
  free(prev); free(cur); free(base); free(los); free(pb.bits);
  return result;
}

/* The script by Landau-Vishkin: first the least cost within a narrow band around the main
 * diagonal (cheap, O(d * band); a real transcript's path rarely strays far from it), which
 * bounds the distance, then the exact search pruned by that bound (about half the cells of the
 * unpruned one when the bound is tight). */
static long lv_align(const uint32_t *a, long n, const uint32_t *b, long m, size_t max_entries, opbuf *o) {
  long kt = m - n, band = (kt < 0 ? -kt : kt) + 256;
  long ub = lv_run(a, n, b, m, band, -1, max_entries, NULL);
  if (ub < 0) return -1;
  /* the pruned search's size, known before it starts: too big, and Hirschberg's way is taken
   * at once instead of after filling the limit */
  size_t cells = 1;
  for (long e = 1; e <= ub && cells <= max_entries; e++) {
    long lo = e < n ? -e : -n, hi = e < m ? e : m;
    if (lo < kt - (ub - e)) lo = kt - (ub - e);
    if (hi > kt + (ub - e)) hi = kt + (ub - e);
    if (hi >= lo) cells += (size_t)(hi - lo + 1);
  }
  if (cells > max_entries) return -2;
  return lv_run(a, n, b, m, -1, ub, max_entries, o);
}

/* The last row of the DP of a[0..n) against b[0..m), into row[0..m] (ids read backwards when
 * rev: the suffixes' DP, for Hirschberg's second half). */
static void dp_row(const uint32_t *a, long n, const uint32_t *b, long m, int rev, uint32_t *row) {
  for (long j = 0; j <= m; j++) row[j] = (uint32_t)j;
  for (long i = 1; i <= n; i++) {
    uint32_t diag = row[0], ai = rev ? a[n - i] : a[i - 1];
    row[0] = (uint32_t)i;
    for (long j = 1; j <= m; j++) {
      uint32_t bj = rev ? b[m - j] : b[j - 1];
      uint32_t best = diag + (ai != bj), up = row[j] + 1, left = row[j - 1] + 1;
      if (up < best) best = up;
      if (left < best) best = left;
      diag = row[j];
      row[j] = best;
    }
  }
}

/* A small block by the full matrix (n * m bounded by the caller), same preference order. */
static void full_align(const uint32_t *a, long n, const uint32_t *b, long m, opbuf *o) {
  uint32_t *D = malloc((size_t)(n + 1) * (size_t)(m + 1) * sizeof *D);
  char *rev;
  long i, j, c = 0;
  if (!D) { o->oom = 1; return; }
#define AT(x, y) D[(size_t)(x) * (size_t)(m + 1) + (size_t)(y)]
  /* the DP of the suffixes, so that reading it from (0, 0) prefers the first step in order */
  for (i = n; i >= 0; i--)
    for (j = m; j >= 0; j--) {
      uint32_t best;
      if (i == n) best = (uint32_t)(m - j);
      else if (j == m) best = (uint32_t)(n - i);
      else {
        best = AT(i + 1, j + 1) + (a[i] != b[j]);
        if (AT(i + 1, j) + 1 < best) best = AT(i + 1, j) + 1;
        if (AT(i, j + 1) + 1 < best) best = AT(i, j + 1) + 1;
      }
      AT(i, j) = best;
    }
  rev = malloc((size_t)(n + m) + 1);
  if (!rev) { free(D); o->oom = 1; return; }
  i = 0; j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && AT(i, j) == AT(i + 1, j + 1) + (a[i] != b[j])) {
      rev[c++] = a[i] == b[j] ? '=' : 'S'; i++; j++;
    } else if (i < n && AT(i, j) == AT(i + 1, j) + 1) {
      rev[c++] = 'D'; i++;
    } else {
      rev[c++] = 'I'; j++;
    }
  }
#undef AT
  for (i = 0; i < c; i++) op_put(o, rev[i], 1);
  free(rev);
  free(D);
}

static void hirschberg(const uint32_t *a, long n, const uint32_t *b, long m, uint32_t *f, uint32_t *g, opbuf *o) {
  if (o->oom) return;
  if (n == 0) { op_put(o, 'I', (size_t)m); return; }
  if (m == 0) { op_put(o, 'D', (size_t)n); return; }
  if ((n + 1) * (m + 1) <= 65536 || n == 1) { full_align(a, n, b, m, o); return; }
  long mid = n / 2, split = 0;
  dp_row(a, mid, b, m, 0, f);
  dp_row(a + mid, n - mid, b, m, 1, g);
  uint32_t best = UINT32_MAX;
  for (long j = 0; j <= m; j++) {
    uint32_t v = f[j] + g[m - j];
    if (v < best) { best = v; split = j; }
  }
  hirschberg(a, mid, b, split, f, g, o);
  hirschberg(a + mid, n - mid, b + split, m - split, f, g, o);
}

long stt_align(const uint32_t *a, size_t na, const uint32_t *b, size_t nb, size_t max_entries, char **ops, size_t *nops) {
  opbuf o = { NULL, 0, 0, 0 };
  long n = (long)na, m = (long)nb, pre = 0, suf = 0, d;
  while (pre < n && pre < m && a[pre] == b[pre]) pre++;
  while (suf < n - pre && suf < m - pre && a[n - 1 - suf] == b[m - 1 - suf]) suf++;
  op_put(&o, '=', (size_t)pre);
  if (n - pre - suf == 0 || m - pre - suf == 0) {   /* one side used up: the rest is one kind */
    op_put(&o, 'D', (size_t)(n - pre - suf));
    op_put(&o, 'I', (size_t)(m - pre - suf));
    op_put(&o, '=', (size_t)suf);
    if (o.oom) { free(o.p); *ops = NULL; *nops = 0; return -1; }
    *ops = o.p;
    *nops = o.n;
    return (n - pre - suf) + (m - pre - suf);
  }
  d = lv_align(a + pre, n - pre - suf, b + pre, m - pre - suf, max_entries ? max_entries : STT_ALIGN_MAX_ENTRIES, &o);
  if (d == -2) {                          /* texts far apart: linear memory, quadratic time */
    long mm = m - pre - suf;
    uint32_t *f = malloc((size_t)(mm + 1) * sizeof *f), *g = malloc((size_t)(mm + 1) * sizeof *g);
    o.n = (size_t)pre;
    if (f && g) hirschberg(a + pre, n - pre - suf, b + pre, mm, f, g, &o);
    else o.oom = 1;
    free(f); free(g);
    d = 0;
    for (size_t i = 0; i < o.n && !o.oom; i++) d += o.p[i] != '=';
  }
  op_put(&o, '=', (size_t)suf);
  if (d < 0 || o.oom) { free(o.p); *ops = NULL; *nops = 0; return -1; }
  *ops = o.p;
  *nops = o.n;
  return d;
}
