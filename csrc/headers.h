/* headers.h - the raw header block of an HTTP response ("Name: value" lines, as libcurl hands
 * them over), split into fields without Lua: pure, no I/O, no allocation (spec/fuzz links it). */
#ifndef STT_HEADERS_H
#define STT_HEADERS_H
#include <stddef.h>

typedef struct {
  const char *name;      /* as received (not lower-cased), never empty, without ':' */
  size_t name_len;
  const char *value;     /* without the leading and trailing spaces and tabs */
  size_t value_len;
} stt_header;

/* The next field of the block [*pos, end): skips status lines ("HTTP/..."), lines without a
 * colon and lines with an empty name; a line ends at LF (a CR before it is dropped). Returns 1
 * with *h filled and *pos past that line, or 0 (and *pos == end) when no field is left. */
int stt_header_next(const char **pos, const char *end, stt_header *h);

/* ASCII lower case of c (header names are case-insensitive; the binding keys them lower-case). */
static inline char stt_header_lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c; }

#endif
