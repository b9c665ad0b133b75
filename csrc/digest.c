/* digest.c - see digest.h. OpenSSL does the hashing: a well-kept library for exactly this. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "digest.h"

int stt_sha256(const void *data, size_t n, unsigned char out[STT_SHA256_LEN]) {
  unsigned int len = 0;
  return EVP_Digest(data, n, out, &len, EVP_sha256(), NULL) == 1 && len == STT_SHA256_LEN ? 0 : -1;
}

int stt_hmac_sha256(const void *key, size_t klen, const void *data, size_t n, unsigned char out[STT_SHA256_LEN]) {
  unsigned int len = 0;
  if (klen > 0x7fffffff) return -1;
  return HMAC(EVP_sha256(), key, (int)klen, data, n, out, &len) && len == STT_SHA256_LEN ? 0 : -1;
}

void stt_hex(const unsigned char *in, size_t n, char *out) {
  static const char digits[] = "0123456789abcdef";
  size_t i;
  for (i = 0; i < n; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 15];
  }
  out[2 * n] = '\0';
}

#define CHUNK (256 * 1024)

struct stt_file_hash {
  FILE *f;
  EVP_MD_CTX *ctx;
  unsigned char *buf;
  long long total;
  int failed;
};

void stt_file_hash_free(stt_file_hash *h) {
  if (!h) return;
  if (h->f) fclose(h->f);
  EVP_MD_CTX_free(h->ctx);
  free(h->buf);
  free(h);
}

stt_file_hash *stt_file_hash_open(const char *path) {
  stt_file_hash *h = calloc(1, sizeof *h);
  int err;
  if (!h) { errno = ENOMEM; return NULL; }
  if (!(h->f = fopen(path, "rb"))) {
    err = errno;
    stt_file_hash_free(h);
    errno = err;
    return NULL;
  }
  h->buf = malloc(CHUNK);
  h->ctx = EVP_MD_CTX_new();
  if (!h->buf || !h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
    stt_file_hash_free(h);
    errno = ENOMEM;
    return NULL;
  }
  return h;
}

int stt_file_hash_step(stt_file_hash *h, long long max_bytes, int *done, char out[2 * STT_SHA256_LEN + 1],
                       long long *size, const char **what) {
  unsigned char md[STT_SHA256_LEN];
  unsigned int len = 0;
  long long stepped = 0;
  size_t got;
  *done = 0;
  *what = "read";
  if (h->failed || !h->f) { errno = EINVAL; return -1; }
  while (stepped < max_bytes) {
    got = fread(h->buf, 1, CHUNK, h->f);
    if (got == 0) break;
    if (EVP_DigestUpdate(h->ctx, h->buf, got) != 1) { h->failed = 1; errno = ENOMEM; return -1; }
    h->total += (long long)got;
    stepped += (long long)got;
  }
  if (stepped >= max_bytes && !feof(h->f)) return 0;          /* more to come */
  if (ferror(h->f)) { h->failed = 1; if (!errno) errno = EIO; return -1; }
  if (EVP_DigestFinal_ex(h->ctx, md, &len) != 1 || len != STT_SHA256_LEN) { h->failed = 1; errno = ENOMEM; return -1; }
  stt_hex(md, STT_SHA256_LEN, out);
  *size = h->total;
  *done = 1;
  fclose(h->f);
  h->f = NULL;
  return 0;
}

int stt_sha256_file(const char *path, char out[2 * STT_SHA256_LEN + 1], long long *size, const char **what) {
  stt_file_hash *h;
  int done = 0, rc, err;
  *what = "open";
  if (!(h = stt_file_hash_open(path))) return -1;
  rc = stt_file_hash_step(h, 0x7fffffffffffffffLL, &done, out, size, what);
  err = errno;
  stt_file_hash_free(h);
  errno = err;
  return rc == 0 && done ? 0 : -1;
}
