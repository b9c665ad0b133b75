/* bodysrc.h - a request body read from disk as it is sent, never whole in memory: a prefix, then
 * a file (as it is, or base64-encoded: JSON fields that carry audio inline), then a suffix. The
 * engine hands stt_bodysrc_read to libcurl as its read callback. No Lua, no globals. */
#ifndef STT_BODYSRC_H
#define STT_BODYSRC_H
#include <stddef.h>

typedef struct stt_bodysrc stt_bodysrc;

/* Opens `path`; *total = the body's length (prefix + file or its base64 + suffix). NULL with a
 * message in err (the file cannot be opened or is not a regular file; out of memory). The
 * prefix and suffix are copied. */
stt_bodysrc *stt_bodysrc_open(const char *prefix, size_t plen, const char *path, int base64,
                              const char *suffix, size_t slen, long long *total, char *err, size_t errlen);

/* Up to n bytes of the body into buf: the count, 0 at the end, or (size_t)-1 on a read error
 * (the file shrank or could not be read: a body that is not what was announced must fail). */
size_t stt_bodysrc_read(stt_bodysrc *s, char *buf, size_t n);

/* Start again from the first byte (libcurl rewinds to resend); 0 or -1. */
int stt_bodysrc_rewind(stt_bodysrc *s);

/* Bytes handed out so far. */
long long stt_bodysrc_sent(const stt_bodysrc *s);

void stt_bodysrc_free(stt_bodysrc *s);

/* The base64 length of n bytes. */
long long stt_base64_len(long long n);

#endif
