/* sigv4.h - AWS Signature Version 4 for S3 and S3-compatible stores (Alibaba OSS, Volcengine TOS,
 * MinIO): presigned URLs (query signing) and signed request headers. Pure: the time comes in,
 * nothing is read from the clock or the environment; OpenSSL does HMAC/SHA-256 (digest.h).
 * Written against the AWS documentation (see docs/providers.md#s3-sigv4): libcurl's
 * CURLOPT_AWS_SIGV4 cannot presign, and the libcurl of Debian 12 (7.88) signs the path and query
 * as they are, so keys with spaces or non-ASCII characters would not verify. */
#ifndef STT_SIGV4_H
#define STT_SIGV4_H
#include <stddef.h>
#include "buf.h"

typedef struct { const char *name, *value; } stt_kv;

typedef struct stt_sigv4 {
  const char *method;          /* "GET", "PUT", ... */
  const char *url;             /* scheme://host[:port]/key[?name=value&...]: key and query as written,
                                  not percent-encoded (the signer encodes them per the spec) */
  const stt_kv *headers;       /* further headers to sign (header signing), e.g. Content-Type */
  size_t nheaders;
  const char *payload_hash;    /* lower-case hex SHA-256 of the body, or "UNSIGNED-PAYLOAD" (NULL) */
  const char *region;          /* e.g. "us-east-1", "cn-beijing" */
  const char *service;         /* "s3" (NULL) */
  const char *access_key, *secret_key;
  const char *session_token;   /* temporary credentials: sent as X-Amz-Security-Token, or NULL */
  long long time;              /* epoch seconds of the signature */
  long long expires;           /* presigned URLs: seconds of validity, 1..604800 */
} stt_sigv4;

/* The presigned URL (the encoded URL with the X-Amz-* query, X-Amz-Signature last) into *url.
 * 0, or -1 with *why set (a static message: bad URL, expires out of range, missing key, oom). */
int stt_sigv4_presign(const stt_sigv4 *r, stt_buf *url, const char **why);

/* Header signing: *authorization = the Authorization header value; amz_date = the X-Amz-Date value
 * (16 bytes + NUL). The request must carry, besides the caller's headers: Host (the URL's),
 * X-Amz-Date, X-Amz-Content-Sha256 (r->payload_hash) and, with a session token,
 * X-Amz-Security-Token. *path gets the encoded path and query to send. 0, or -1 with *why. */
int stt_sigv4_sign_headers(const stt_sigv4 *r, stt_buf *authorization, char amz_date[17], stt_buf *path,
                           const char **why);

/* For tests and debugging: the canonical request and the string to sign of a presign (presign = 1)
 * or a header signing (0). 0, or -1 with *why. */
int stt_sigv4_canonical(const stt_sigv4 *r, int presign, stt_buf *canonical, stt_buf *string_to_sign,
                        const char **why);

/* S3's UriEncode of n bytes: unreserved characters (A-Z a-z 0-9 - . _ ~) as they are, '/' as it is
 * when keep_slash, every other byte %XX (upper-case hex). Appends to out; 0 or -1 (oom). */
int stt_sigv4_uri_encode(stt_buf *out, const char *s, size_t n, int keep_slash);

#endif
