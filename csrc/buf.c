/* buf.c - growable byte buffer (see buf.h). */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void stt_buf_init(stt_buf *b) {
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
  b->oom = 0;
}

void stt_buf_free(stt_buf *b) {
  free(b->data);
  stt_buf_init(b);
}

void stt_buf_reset(stt_buf *b) {
  b->len = 0;
  if (b->data) b->data[0] = '\0';
}

/* Make room for n more bytes plus the NUL terminator. */
static int buf_reserve(stt_buf *b, size_t n) {
  size_t need, cap;
  char *p;
  if (b->oom) return -1;
  if (n > (size_t)-1 - b->len - 1) { b->oom = 1; return -1; }
  need = b->len + n + 1;
  if (need <= b->cap) return 0;
  cap = b->cap ? b->cap : 64;
  while (cap < need) {
    if (cap > (size_t)-1 / 2) { cap = need; break; }
    cap *= 2;
  }
  p = realloc(b->data, cap);
  if (!p) { b->oom = 1; return -1; }
  b->data = p;
  b->cap = cap;
  return 0;
}

int stt_buf_put(stt_buf *b, const void *p, size_t n) {
  if (buf_reserve(b, n) != 0) return -1;
  if (n) memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return 0;
}

int stt_buf_puts(stt_buf *b, const char *s) {
  return stt_buf_put(b, s, strlen(s));
}

int stt_buf_putc(stt_buf *b, char c) {
  return stt_buf_put(b, &c, 1);
}

int stt_buf_printf(stt_buf *b, const char *fmt, ...) {
  va_list ap;
  int n;
  char small[256];
  va_start(ap, fmt);
  n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) return -1;
  if ((size_t)n < sizeof small) return stt_buf_put(b, small, (size_t)n);
  /* Too long for the stack buffer: format straight into the reserved tail. */
  if (buf_reserve(b, (size_t)n) != 0) return -1;
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
  return 0;
}
