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

int stt_sha256_file(const char *path, char out[2 * STT_SHA256_LEN + 1], long long *size, const char **what) {
  unsigned char md[STT_SHA256_LEN];
  unsigned int len = 0;
  unsigned char *buf = NULL;
  EVP_MD_CTX *ctx = NULL;
  FILE *f = NULL;
  long long total = 0;
  int rc = -1, err = 0;
  size_t got;
  *what = "open";
  if (!(f = fopen(path, "rb"))) return -1;
  *what = "read";
  buf = malloc(CHUNK);
  ctx = EVP_MD_CTX_new();
  if (!buf || !ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) { err = ENOMEM; goto done; }
  while ((got = fread(buf, 1, CHUNK, f)) > 0) {
    if (EVP_DigestUpdate(ctx, buf, got) != 1) { err = ENOMEM; goto done; }
    total += (long long)got;
  }
  if (ferror(f)) { err = errno ? errno : EIO; goto done; }
  if (EVP_DigestFinal_ex(ctx, md, &len) != 1 || len != STT_SHA256_LEN) { err = ENOMEM; goto done; }
  stt_hex(md, STT_SHA256_LEN, out);
  *size = total;
  rc = 0;
done:
  EVP_MD_CTX_free(ctx);
  free(buf);
  fclose(f);
  if (rc != 0) errno = err;
  return rc;
}
