/* digest.h - SHA-256 and HMAC-SHA256 (OpenSSL's EVP/HMAC), and the SHA-256 of a file read in
 * chunks (never whole into memory). No Lua, no globals. */
#ifndef STT_DIGEST_H
#define STT_DIGEST_H
#include <stddef.h>

#define STT_SHA256_LEN 32

/* out = SHA-256(data); 0 or -1. */
int stt_sha256(const void *data, size_t n, unsigned char out[STT_SHA256_LEN]);
/* out = HMAC-SHA256(key, data); 0 or -1. */
int stt_hmac_sha256(const void *key, size_t klen, const void *data, size_t n, unsigned char out[STT_SHA256_LEN]);
/* Lower-case hex of n bytes into out (2n + 1 bytes, NUL-terminated). */
void stt_hex(const unsigned char *in, size_t n, char *out);

/* SHA-256 of a file, read in 256 KiB chunks: out (hex, 65 bytes) and *size. 0, or -1 with errno
 * set (an open or read error) and *what naming the failed call. */
int stt_sha256_file(const char *path, char out[2 * STT_SHA256_LEN + 1], long long *size, const char **what);

/* The same, a slice at a time, so that a caller with an event loop (nginx, stt.run) can let
 * others run between slices: open, then step until *done, then free (any time; idempotent for
 * a NULL). open: NULL with errno set on failure. step hashes up to max_bytes more (rounded up
 * to a whole chunk); when the file is read to its end, *done = 1 and out / *size hold the result.
 * 0, or -1 with errno set and *what naming the failed call (the hasher is then done for). */
typedef struct stt_file_hash stt_file_hash;
stt_file_hash *stt_file_hash_open(const char *path);
int stt_file_hash_step(stt_file_hash *h, long long max_bytes, int *done, char out[2 * STT_SHA256_LEN + 1],
                       long long *size, const char **what);
void stt_file_hash_free(stt_file_hash *h);

#endif
