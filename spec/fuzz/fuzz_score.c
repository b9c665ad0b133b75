/* fuzz_score.c - libFuzzer target for the scorer's core (csrc/score.c): UTF-8 checking, cutting
 * text into units and the edit script.
 *
 * Input: byte 0 picks the unit mode (char, word, auto) and whether the linear-memory method is
 * forced; the rest is split at its first NUL into reference and hypothesis.
 * Invariants: no crash or leak; stt_utf8_invalid agrees with a byte-by-byte decoder written here;
 * on valid text the units are in order, do not overlap, hold no whitespace and cover every other
 * character (each CJK character alone in char and auto modes); the script consumes exactly both
 * unit sequences, its '=' steps pair equal units and its 'S' steps unequal ones, its cost is the
 * distance returned, and both methods (Landau-Vishkin and Hirschberg) and a plain dynamic
 * programme (on small inputs) find the same distance. */
#include "fuzz.h"
#include "score.h"

/* An independent decoder: 1 if s[0..len) is well-formed UTF-8 (RFC 3629). */
static int utf8_ok(const unsigned char *s, size_t len) {
  size_t i = 0;
  while (i < len) {
    unsigned c = s[i];
    size_t n;
    uint32_t cp;
    if (c < 0x80) { i++; continue; }
    else if ((c & 0xE0) == 0xC0) { n = 2; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { n = 3; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { n = 4; cp = c & 0x07; }
    else return 0;
    if (i + n > len) return 0;
    for (size_t k = 1; k < n; k++) {
      if ((s[i + k] & 0xC0) != 0x80) return 0;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return 0;
    i += n;
  }
  return 1;
}

/* Length of the (valid) UTF-8 character at s, and its code point. */
static size_t char_at(const unsigned char *s, uint32_t *cp) {
  if (s[0] < 0x80) { *cp = s[0]; return 1; }
  if (s[0] < 0xE0) { *cp = ((uint32_t)(s[0] & 0x1F) << 6) | (s[1] & 0x3F); return 2; }
  if (s[0] < 0xF0) { *cp = ((uint32_t)(s[0] & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F); return 3; }
  *cp = ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) | ((uint32_t)(s[2] & 0x3F) << 6) |
        (s[3] & 0x3F);
  return 4;
}

static int ws(uint32_t cp) { return cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || cp == 0x3000; }

/* Every character is whitespace outside the units and not inside them; units are in order; in
 * char mode every unit is one character, in auto mode a CJK character is a unit of its own. */
static void check_units(const char *str, size_t len, int mode, const stt_units *u) {
  const unsigned char *s = (const unsigned char *)str;
  size_t i = 0, k = 0;
  while (i < len) {
    uint32_t cp;
    size_t n = char_at(s + i, &cp);
    if (k < u->n && i == u->off[k]) {                  /* a unit starts here */
      size_t end = u->off[k] + u->len[k];
      if (end > len) fuzz_fail("unit past the text", NULL);
      size_t chars = 0;
      int cjk = 0;
      for (size_t p = i; p < end;) {
        size_t m = char_at(s + p, &cp);
        if (ws(cp)) fuzz_fail("whitespace inside a unit", NULL);
        cjk |= stt_score_is_cjk(cp);
        chars++;
        p += m;
      }
      if (mode == STT_UNIT_CHAR && chars != 1) fuzz_fail("a char unit of several characters", NULL);
      if (mode == STT_UNIT_AUTO && cjk && chars != 1) fuzz_fail("a CJK character inside a longer unit", NULL);
      i = end;
      k++;
      continue;
    }
    if (!ws(cp)) fuzz_fail("a character outside every unit that is not whitespace", NULL);
    i += n;
  }
  if (k != u->n) fuzz_fail("units out of order", NULL);
}

static long plain_dp(const uint32_t *a, size_t n, const uint32_t *b, size_t m) {
  uint32_t *row = malloc((m + 1) * sizeof *row);
  if (!row) abort();
  for (size_t j = 0; j <= m; j++) row[j] = (uint32_t)j;
  for (size_t i = 1; i <= n; i++) {
    uint32_t diag = row[0];
    row[0] = (uint32_t)i;
    for (size_t j = 1; j <= m; j++) {
      uint32_t best = diag + (a[i - 1] != b[j - 1]), up = row[j] + 1, left = row[j - 1] + 1;
      if (up < best) best = up;
      if (left < best) best = left;
      diag = row[j];
      row[j] = best;
    }
  }
  long d = row[m];
  free(row);
  return d;
}

static void check_script(const stt_units *r, const stt_units *h, const char *ops, size_t nops, long d) {
  size_t i = 0, j = 0;
  long cost = 0;
  for (size_t k = 0; k < nops; k++) {
    switch (ops[k]) {
    case '=':
      if (i >= r->n || j >= h->n || r->id[i] != h->id[j]) fuzz_fail("'=' on unequal units", NULL);
      i++; j++; break;
    case 'S':
      if (i >= r->n || j >= h->n || r->id[i] == h->id[j]) fuzz_fail("'S' on equal units", NULL);
      i++; j++; cost++; break;
    case 'D':
      if (i >= r->n) fuzz_fail("'D' past the reference", NULL);
      i++; cost++; break;
    case 'I':
      if (j >= h->n) fuzz_fail("'I' past the hypothesis", NULL);
      j++; cost++; break;
    default: fuzz_fail("unknown step", NULL);
    }
  }
  if (i != r->n || j != h->n) fuzz_fail("the script does not consume both texts", NULL);
  if (cost != d) fuzz_fail("the script's cost is not the distance", NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  int mode = data[0] % 3;
  const char *text = (const char *)data + 1;
  size_t len = size - 1;
  const char *nul = memchr(text, 0, len);
  size_t rl = nul ? (size_t)(nul - text) : len / 2;
  const char *hyp = nul ? nul + 1 : text + rl;
  size_t hl = len - rl - (nul ? 1 : 0);

  int ok_r = utf8_ok((const unsigned char *)text, rl), ok_h = utf8_ok((const unsigned char *)hyp, hl);
  if (ok_r != (stt_utf8_invalid(text, rl) == (size_t)-1) || ok_h != (stt_utf8_invalid(hyp, hl) == (size_t)-1))
    fuzz_fail("stt_utf8_invalid disagrees with the reference decoder", NULL);
  if (!ok_r || !ok_h) return 0;

  stt_intern *t = stt_intern_new();
  stt_units r = { 0 }, h = { 0 };
  if (!t || stt_units_cut(text, rl, mode, t, &r) != 0 || stt_units_cut(hyp, hl, mode, t, &h) != 0) abort();
  check_units(text, rl, mode, &r);
  check_units(hyp, hl, mode, &h);

  char *ops = NULL, *ops2 = NULL;
  size_t nops = 0, nops2 = 0;
  long d = stt_align(r.id, r.n, h.id, h.n, 0, &ops, &nops);
  long d2 = stt_align(r.id, r.n, h.id, h.n, 1, &ops2, &nops2);   /* forces Hirschberg's method */
  if (d < 0 || d2 < 0) abort();
  check_script(&r, &h, ops, nops, d);
  check_script(&r, &h, ops2, nops2, d2);
  if (d != d2) fuzz_fail("the two methods disagree on the distance", NULL);
  if (r.n * h.n <= 1000000 && plain_dp(r.id, r.n, h.id, h.n) != d) fuzz_fail("not the least distance", NULL);
  free(ops);
  free(ops2);
  stt_units_free(&r);
  stt_units_free(&h);
  stt_intern_free(t);
  return 0;
}
