/* fuzz_headers.c - libFuzzer target for the response header-block parser (csrc/headers.c) and
 * what the binding makes of it: { lower-case name = value, repeats joined by ", " } (as
 * push_headers in stt_core.c does), read back by the schemas' Retry-After parser.
 *
 * Input: a raw header block as libcurl hands it over (status line, "Name: value" lines; any
 * bytes, so also without CRs, without a final newline, with NULs, folded lines ...).
 * Invariants: the fields come in input order, each inside the input and on its own line; a field
 * is reported for exactly the lines (split here independently at LF, one CR before it dropped)
 * whose first ':' is not their first byte and that do not start with "HTTP/"; its name is the
 * text before that ':' and its value the rest without leading/trailing spaces and tabs; the
 * object of them serializes to JSON that parses; a Retry-After that stt_retry_after accepts is
 * at most 10 digits between optional spaces/tabs, with the value it read. */
#include "fuzz.h"
#include "headers.h"

static int is_ows(char c) { return c == ' ' || c == '\t'; }

/* What the independent line split expects of one line [p, p + n) (LF excluded). */
static int expect_field(const char *p, size_t n, size_t *colon_at) {
  const char *c;
  if (n > 0 && p[n - 1] == '\r') n--;
  c = memchr(p, ':', n);
  if (!c || c == p) return 0;
  if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) return 0;
  *colon_at = (size_t)(c - p);
  return 1;
}

static void check_field(const stt_header *h, const char *line, size_t n, size_t colon_at) {
  const char *ve = line + n;
  if (n > 0 && ve[-1] == '\r') ve--;
  if (h->name != line || h->name_len != colon_at || h->name_len == 0)
    fuzz_fail("a field's name is not the text before the first ':' of its line", NULL);
  if (memchr(h->name, ':', h->name_len) || memchr(h->name, '\n', h->name_len))
    fuzz_fail("a field's name holds ':' or LF", NULL);
  if (h->value < h->name + h->name_len + 1 || h->value + h->value_len > ve)
    fuzz_fail("a field's value lies outside its line", NULL);
  if (h->value_len && (is_ows(h->value[0]) || is_ows(h->value[h->value_len - 1])))
    fuzz_fail("a field's value keeps leading or trailing spaces", NULL);
  if (memchr(h->value, '\n', h->value_len)) fuzz_fail("a field's value holds LF", NULL);
  {
    const char *q;                 /* everything between ':' and the value is space/tab, and after it */
    for (q = h->name + h->name_len + 1; q < h->value; q++)
      if (!is_ows(*q)) fuzz_fail("a field's value lost bytes at its start", NULL);
    for (q = h->value + h->value_len; q < ve; q++)
      if (!is_ows(*q)) fuzz_fail("a field's value lost bytes at its end", NULL);
  }
}

/* Adds one field to headers the way the binding does: lower-case name; a repeat is joined. */
static void add_to_dom(stt_arena *a, stt_json *headers, const stt_header *h) {
  char *name = stt_arena_strndup(a, h->name, h->name_len);
  const char *old;
  size_t i;
  if (!name) return;
  if (memchr(h->name, '\0', h->name_len)) return;     /* a Lua key keeps NULs; a C key cannot */
  for (i = 0; i < h->name_len; i++) name[i] = stt_header_lower(name[i]);
  old = stt_jgetstr(headers, name);
  if (old) {
    const stt_json *o = stt_jget(headers, name);
    stt_buf b;
    stt_buf_init(&b);
    stt_buf_put(&b, o->s, o->slen);
    stt_buf_put(&b, ", ", 2);
    stt_buf_put(&b, h->value, h->value_len);
    stt_jset(a, headers, name, stt_jstrn(a, b.data ? b.data : "", b.len));
    stt_buf_free(&b);
  } else {
    stt_jset(a, headers, name, stt_jstrn(a, h->value, h->value_len));
  }
}

static void check_retry_after(const stt_json *resp) {
  const stt_json *v = stt_jget(stt_jget(resp, "headers"), "retry-after");
  long long n = -1, m = 0;
  size_t k = 0, digits = 0;
  if (!stt_retry_after(resp, &n)) return;
  if (!stt_jis(v, STT_JSTR)) fuzz_fail("a Retry-After read from nothing", resp);
  while (k < v->slen && is_ows(v->s[k])) k++;
  for (; k < v->slen && v->s[k] >= '0' && v->s[k] <= '9'; k++, digits++) m = m * 10 + (v->s[k] - '0');
  while (k < v->slen && is_ows(v->s[k])) k++;
  if (k != v->slen || digits == 0 || digits > 10 || n != m)
    fuzz_fail("stt_retry_after accepted a value that is not 1..10 digits, or misread it", resp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *s = (const char *)data, *end = s + size, *pos = s, *line = s;
  stt_arena *a = stt_arena_new();
  stt_json *resp, *headers;
  stt_header h;
  size_t fields = 0;
  if (!a) return 0;
  resp = stt_jobj(a);
  headers = stt_jobj(a);
  if (!resp || !headers || stt_jset(a, resp, "status", stt_jint(a, 429)) || stt_jset(a, resp, "headers", headers)) {
    stt_arena_free(a);
    return 0;
  }
  while (line < end) {                       /* the independent split, line by line */
    const char *eol = memchr(line, '\n', (size_t)(end - line));
    size_t n = (size_t)((eol ? eol : end) - line), colon_at = 0;
    if (expect_field(line, n, &colon_at)) {
      const char *before = pos;
      if (!stt_header_next(&pos, end, &h)) fuzz_fail("a field line was not reported", NULL);
      if (pos <= before) fuzz_fail("stt_header_next did not move on", NULL);
      check_field(&h, line, n, colon_at);
      if (pos != (eol ? eol + 1 : end)) fuzz_fail("stt_header_next did not stop after the field's line", NULL);
      add_to_dom(a, headers, &h);
      fields++;
    }
    line = eol ? eol + 1 : end;
  }
  if (stt_header_next(&pos, end, &h)) fuzz_fail("a field was reported from a line that is none", NULL);
  if (pos != end) fuzz_fail("stt_header_next stopped before the end", NULL);
  if (headers->count > fields) fuzz_fail("more names than fields", headers);
  fuzz_check_serializes(resp, "the headers object");
  check_retry_after(resp);
  fuzz_debug("headers", resp, NULL);
  stt_arena_free(a);
  return 0;
}
