/* headers.c - see headers.h. */
#include <string.h>
#include "headers.h"

int stt_header_next(const char **pos, const char *end, stt_header *h) {
  const char *p = *pos;
  while (p && p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    size_t len = (size_t)((eol ? eol : end) - p);     /* the line, without its LF */
    const char *colon, *v, *ve;
    if (len > 0 && p[len - 1] == '\r') len--;
    colon = memchr(p, ':', len);
    /* A status line (a 1xx or a proxy's before the final one) is no field. The length check
     * first: a line shorter than "HTTP/" may end the block (found by spec/fuzz/fuzz_headers.c). */
    if (colon && colon > p && !(len >= 5 && memcmp(p, "HTTP/", 5) == 0)) {
      v = colon + 1;
      ve = p + len;
      while (v < ve && (*v == ' ' || *v == '\t')) v++;
      while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) ve--;
      h->name = p;
      h->name_len = (size_t)(colon - p);
      h->value = v;
      h->value_len = (size_t)(ve - v);
      *pos = eol ? eol + 1 : end;
      return 1;
    }
    p = eol ? eol + 1 : end;
  }
  *pos = end;
  return 0;
}
