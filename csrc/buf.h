/* buf.h - growable byte buffer. Pure C, no Lua.
 * Owned by whoever declared it; stt_buf_free() releases it and leaves an empty buffer. */
#ifndef STT_BUF_H
#define STT_BUF_H
#include <stddef.h>

typedef struct stt_buf {
  char *data;   /* always NUL-terminated when len > 0 or after any put */
  size_t len;
  size_t cap;
  int oom;      /* set once an allocation failed; further puts are no-ops */
} stt_buf;

void stt_buf_init(stt_buf *b);
void stt_buf_free(stt_buf *b);
void stt_buf_reset(stt_buf *b);                 /* len = 0, keeps memory */
int  stt_buf_put(stt_buf *b, const void *p, size_t n);   /* 0 ok, -1 oom */
int  stt_buf_puts(stt_buf *b, const char *s);
int  stt_buf_putc(stt_buf *b, char c);
int  stt_buf_printf(stt_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 2, 3)))
#endif
  ;
#endif
