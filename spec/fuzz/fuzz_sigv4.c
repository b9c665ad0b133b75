/* fuzz_sigv4.c - libFuzzer target for the AWS SigV4 signer (csrc/sigv4.c): URL parsing, URI and
 * query encoding, header canonicalization, presigning and header signing.
 *
 * Input: lines: method, URL, region, then "name: value" headers to sign; byte 0 of the input
 * picks presign (even) or header signing (odd) and the expiry.
 * Invariants: no crash or leak; on success the canonical request's path is encoded (only
 * unreserved characters, '/' and %XX with upper-case hex), a presigned URL starts with the URL's
 * scheme and ends with "&X-Amz-Signature=" and 64 lower-case hex digits, a header signature is
 * "AWS4-HMAC-SHA256 Credential=...,SignedHeaders=...,Signature=<64 hex>"; the secret key never
 * appears in any output; signing the same input twice gives the same bytes. */
#include "fuzz.h"
#include "sigv4.h"

#define SECRET "fuzzSECRETkey/do+not=leak"

static void check_hex64(const char *s, const char *what) {
  size_t i;
  if (strlen(s) != 64) fuzz_fail(what, NULL);
  for (i = 0; i < 64; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) fuzz_fail(what, NULL);
}

static void check_encoded_path(const char *canon) {
  const char *p = strchr(canon, '\n'), *e;
  if (!p) fuzz_fail("canonical request without a path line", NULL);
  e = strchr(p + 1, '\n');
  if (!e) fuzz_fail("canonical request without a query line", NULL);
  for (p = p + 1; p < e; p++) {
    char c = *p;
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~' || c == '/')
      continue;
    if (c == '%' && p + 2 < e && ((p[1] >= '0' && p[1] <= '9') || (p[1] >= 'A' && p[1] <= 'F')) &&
        ((p[2] >= '0' && p[2] <= '9') || (p[2] >= 'A' && p[2] <= 'F'))) {
      p += 2;
      continue;
    }
    fuzz_fail("a canonical path byte that is not encoded", NULL);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text, *lines[40];
  size_t n = 0, i;
  stt_kv kv[32];
  stt_sigv4 r;
  stt_buf a, b, c, d;
  const char *why = NULL;
  char date[17];
  int presign, rc, rc2, given;
  if (size < 1 || size > 8192) return 0;
  given = memmem(data, size, SECRET, strlen(SECRET)) != NULL;    /* the input may hold it itself */
  presign = data[0] % 2 == 0;
  text = malloc(size);
  memcpy(text, data + 1, size - 1);
  text[size - 1] = '\0';
  lines[n++] = text;
  for (i = 0; i + 1 < size - 1 + 1 && n < 40; i++) {
    if (text[i] == '\n') { text[i] = '\0'; lines[n++] = text + i + 1; }
  }
  if (n < 3) { free(text); return 0; }
  memset(&r, 0, sizeof r);
  r.method = lines[0];
  r.url = lines[1];
  r.region = lines[2];
  r.access_key = "AKIDFUZZ";
  r.secret_key = SECRET;
  r.session_token = (data[0] & 4) ? "tok" : NULL;
  r.time = 1369353600LL + (long long)(data[0] >> 3) * 86400;
  r.expires = (data[0] & 2) ? 604800 : 1 + (long long)(data[0] >> 2);
  r.payload_hash = (data[0] & 8) ? NULL : "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  for (i = 3; i < n && r.nheaders < 32; i++) {
    char *colon = strchr(lines[i], ':');
    if (!colon || colon == lines[i]) continue;
    *colon = '\0';
    kv[r.nheaders].name = lines[i];
    kv[r.nheaders].value = colon + 1;
    r.nheaders++;
  }
  r.headers = kv;
  stt_buf_init(&a); stt_buf_init(&b); stt_buf_init(&c); stt_buf_init(&d);
  rc = stt_sigv4_canonical(&r, presign, &a, &b, &why);
  if (rc == 0) {
    if (!given && (memmem(a.data, a.len, SECRET, strlen(SECRET)) || memmem(b.data, b.len, SECRET, strlen(SECRET))))
      fuzz_fail("the secret key leaked into the canonical request", NULL);
    check_encoded_path(a.data);
  } else if (!why) {
    fuzz_fail("a failure without a reason", NULL);
  }
  if (presign) {
    rc2 = stt_sigv4_presign(&r, &c, &why);
    if (rc2 == 0) {
      const char *sig = strstr(c.data, "&X-Amz-Signature="), *more;
      while (sig && (more = strstr(sig + 1, "&X-Amz-Signature=")) != NULL) sig = more;
      if (!sig) fuzz_fail("a presigned URL without its signature", NULL);
      check_hex64(sig + 17, "the signature is not 64 lower-case hex digits");
      if (!given && memmem(c.data, c.len, SECRET, strlen(SECRET))) fuzz_fail("the secret key leaked into the URL", NULL);
      stt_sigv4_presign(&r, &d, &why);
      if (d.len != c.len || memcmp(c.data, d.data, c.len)) fuzz_fail("presigning is not deterministic", NULL);
    }
  } else {
    stt_buf path;
    stt_buf_init(&path);
    rc2 = stt_sigv4_sign_headers(&r, &c, date, &path, &why);
    if (rc2 == 0) {
      const char *sig = strstr(c.data, ",Signature="), *more;
      while (sig && (more = strstr(sig + 1, ",Signature=")) != NULL) sig = more;   /* the last one */
      if (strncmp(c.data, "AWS4-HMAC-SHA256 Credential=AKIDFUZZ/", 37) || !strstr(c.data, ",SignedHeaders=") || !sig)
        fuzz_fail("a malformed Authorization value", NULL);
      check_hex64(sig + 11, "the signature is not 64 lower-case hex digits");
      if (!given && memmem(c.data, c.len, SECRET, strlen(SECRET)))
        fuzz_fail("the secret key leaked into a header", NULL);
    }
    stt_buf_free(&path);
  }
  if ((rc == 0) != (rc2 == 0)) fuzz_fail("canonical and signing disagree on whether the input is signable", NULL);
  stt_buf_free(&a); stt_buf_free(&b); stt_buf_free(&c); stt_buf_free(&d);
  free(text);
  return 0;
}
