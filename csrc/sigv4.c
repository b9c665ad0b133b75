/* sigv4.c - see sigv4.h. The steps and their rules are AWS's: canonical request, string to sign,
 * signing key, signature (https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-requests.html;
 * query form: .../sigv4-query-string-auth.html; header form: .../sig-v4-header-based-auth.html).
 * S3 encodes the path once and never normalizes it (no "." or "//" folding). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "sigv4.h"
#include "digest.h"

#define MAX_PARAMS 64
#define MAX_HEADERS 40
#define MAX_EXPIRES 604800            /* seven days: S3's limit for presigned URLs */

typedef struct {
  const char *scheme; size_t scheme_len;
  const char *host; size_t host_len;    /* with ":port" unless the scheme's default */
  const char *path; size_t path_len;    /* "" when the URL has none */
  const char *query; size_t query_len;  /* without '?'; NULL when none */
} url_parts;

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

static int parse_url(const char *u, url_parts *p) {
  const char *s = strstr(u, "://"), *h, *e, *q, *port;
  if (!s || s == u) return -1;
  p->scheme = u;
  p->scheme_len = (size_t)(s - u);
  h = s + 3;
  e = h + strcspn(h, "/?");
  if (e == h) return -1;
  /* a host name (or an [IPv6] literal) and an optional port; no userinfo in a signed URL */
  if (strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") < (size_t)(e - h)) return -1;
  if (strspn(u, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-") < (size_t)(s - u)) return -1;
  p->host = h;
  p->host_len = (size_t)(e - h);
  port = memchr(h, ':', (size_t)(e - h));
  if (port) {                                                /* drop the scheme's default port */
    size_t plen = (size_t)(e - port - 1);
    if ((p->scheme_len == 5 && strncmp(u, "https", 5) == 0 && plen == 3 && strncmp(port + 1, "443", 3) == 0) ||
        (p->scheme_len == 4 && strncmp(u, "http", 4) == 0 && plen == 2 && strncmp(port + 1, "80", 2) == 0))
      p->host_len = (size_t)(port - h);
  }
  /* The key is as the user wrote it: a '#' is one of its characters (no fragment in a signed
   * URL); the first '?' starts the query. */
  p->path = e;
  q = strchr(e, '?');
  if (q) {
    p->path_len = (size_t)(q - e);
    p->query = q + 1;
    p->query_len = strlen(q + 1);
  } else {
    p->path_len = strlen(e);
    p->query = NULL;
    p->query_len = 0;
  }
  return 0;
}

int stt_sigv4_uri_encode(stt_buf *out, const char *s, size_t n, int keep_slash) {
  static const char hex[] = "0123456789ABCDEF";
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~' || (keep_slash && c == '/')) {
      if (stt_buf_putc(out, (char)c)) return -1;
    } else {
      char e[3] = { '%', hex[c >> 4], hex[c & 15] };
      if (stt_buf_put(out, e, 3)) return -1;
    }
  }
  return 0;
}

/* One query parameter, encoded: "name=value" (name and value encoded apart). */
typedef struct { char *name; char *value; } param;

static int cmp_param(const void *a, const void *b) {
  const param *x = a, *y = b;
  int c = strcmp(x->name, y->name);
  return c ? c : strcmp(x->value, y->value);
}

static char *encoded(const char *s, size_t n) {
  stt_buf b;
  stt_buf_init(&b);
  if (stt_sigv4_uri_encode(&b, s, n, 0) || stt_buf_putc(&b, '\0')) { stt_buf_free(&b); return NULL; }
  return b.data;        /* owned by the caller */
}

static int add_param(param *ps, size_t *n, const char *name, size_t nl, const char *value, size_t vl) {
  if (*n >= MAX_PARAMS) return -1;
  ps[*n].name = encoded(name, nl);
  ps[*n].value = encoded(value, vl);
  if (!ps[*n].name || !ps[*n].value) { free(ps[*n].name); free(ps[*n].value); return -1; }
  (*n)++;
  return 0;
}

static void free_params(param *ps, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) { free(ps[i].name); free(ps[i].value); }
}

/* The URL's own query, split at '&' and the first '=' of each part (a part without '=' has an
 * empty value). */
static int url_params(const url_parts *u, param *ps, size_t *n) {
  const char *p = u->query, *end = u->query ? u->query + u->query_len : NULL;
  while (p && p < end) {
    const char *amp = memchr(p, '&', (size_t)(end - p)), *stop = amp ? amp : end;
    const char *eq = memchr(p, '=', (size_t)(stop - p));
    if (stop > p) {
      if ((size_t)(stop - p) >= 6 && strncasecmp(p, "X-Amz-", 6) == 0) return -2;   /* signed already */
      if (eq) { if (add_param(ps, n, p, (size_t)(eq - p), eq + 1, (size_t)(stop - eq - 1))) return -1; }
      else if (add_param(ps, n, p, (size_t)(stop - p), "", 0)) return -1;
    }
    p = amp ? amp + 1 : end;
  }
  return 0;
}

static int put_query(stt_buf *b, param *ps, size_t n) {
  size_t i;
  qsort(ps, n, sizeof *ps, cmp_param);
  for (i = 0; i < n; i++) {
    if (i && stt_buf_putc(b, '&')) return -1;
    if (stt_buf_puts(b, ps[i].name) || stt_buf_putc(b, '=') || stt_buf_puts(b, ps[i].value)) return -1;
  }
  return 0;
}

/* A header for the canonical form: lower-case name, value trimmed with inner runs of spaces
 * folded to one. */
typedef struct { char *name; char *value; } hdr;

static int cmp_hdr(const void *a, const void *b) { return strcmp(((const hdr *)a)->name, ((const hdr *)b)->name); }

static int add_hdr(hdr *hs, size_t *n, const char *name, const char *value) {
  size_t i, k = 0, nl = strlen(name), vl = strlen(value);
  char *nm, *v;
  int space = 0;
  if (*n >= MAX_HEADERS) return -1;
  nm = malloc(nl + 1);
  v = malloc(vl + 1);
  if (!nm || !v) { free(nm); free(v); return -1; }
  for (i = 0; i < nl; i++) nm[i] = (char)lower((unsigned char)name[i]);
  nm[nl] = '\0';
  for (i = 0; i < vl; i++) {
    char c = value[i];
    if (c == ' ' || c == '\t') { space = k > 0; continue; }
    if (space) { v[k++] = ' '; space = 0; }
    v[k++] = c;
  }
  v[k] = '\0';
  hs[*n].name = nm;
  hs[*n].value = v;
  (*n)++;
  return 0;
}

static void free_hdrs(hdr *hs, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) { free(hs[i].name); free(hs[i].value); }
}

static void amz_date_of(long long t, char out[17], char day[9]) {
  struct tm tm;
  time_t tt = (time_t)t;
  gmtime_r(&tt, &tm);
  strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
  memcpy(day, out, 8);
  day[8] = '\0';
}

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, day), region), service), "aws4_request") */
static int signing_key(const stt_sigv4 *r, const char *day, unsigned char key[STT_SHA256_LEN]) {
  stt_buf k;
  int rc;
  const char *service = r->service ? r->service : "s3";
  stt_buf_init(&k);
  if (stt_buf_puts(&k, "AWS4") || stt_buf_puts(&k, r->secret_key)) { stt_buf_free(&k); return -1; }
  rc = stt_hmac_sha256(k.data, k.len, day, strlen(day), key) ||
       stt_hmac_sha256(key, STT_SHA256_LEN, r->region, strlen(r->region), key) ||
       stt_hmac_sha256(key, STT_SHA256_LEN, service, strlen(service), key) ||
       stt_hmac_sha256(key, STT_SHA256_LEN, "aws4_request", 12, key);
  stt_buf_free(&k);
  return rc ? -1 : 0;
}

/* Everything both forms share. On success *canon, *sts hold the canonical request and the string
 * to sign, sig the hex signature, and (presign) *query the canonical query, (headers) signed the
 * signed-header list; encoded_path the path as sent. */
typedef struct {
  stt_buf canon, sts, query, signed_headers, encoded_path;
  char amz_date[17], day[9], scope[256], signature[2 * STT_SHA256_LEN + 1];
} work;

static void work_free(work *w) {
  stt_buf_free(&w->canon); stt_buf_free(&w->sts); stt_buf_free(&w->query);
  stt_buf_free(&w->signed_headers); stt_buf_free(&w->encoded_path);
}

static int build(const stt_sigv4 *r, int presign, work *w, const char **why) {
  url_parts u;
  param ps[MAX_PARAMS];
  hdr hs[MAX_HEADERS];
  size_t np = 0, nh = 0, i;
  unsigned char digest[STT_SHA256_LEN], key[STT_SHA256_LEN], mac[STT_SHA256_LEN];
  char hexd[2 * STT_SHA256_LEN + 1], expires[24], host[512];
  const char *payload = r->payload_hash ? r->payload_hash : "UNSIGNED-PAYLOAD";
  const char *service = r->service ? r->service : "s3";
  int rc = -1, qrc;
  stt_buf_init(&w->canon); stt_buf_init(&w->sts); stt_buf_init(&w->query);
  stt_buf_init(&w->signed_headers); stt_buf_init(&w->encoded_path);
  *why = "out of memory";
  if (!r->method || !r->url || !r->region || !*r->region) { *why = "method, url and region are required"; return -1; }
  if (!r->access_key || !*r->access_key || !r->secret_key || !*r->secret_key) {
    *why = "no access key or secret key";
    return -1;
  }
  if (parse_url(r->url, &u) != 0) { *why = "not a URL of the form scheme://host/key"; return -1; }
  if (u.host_len >= sizeof host) { *why = "host name too long"; return -1; }
  for (i = 0; i < u.host_len; i++) host[i] = (char)lower((unsigned char)u.host[i]);
  host[u.host_len] = '\0';
  if (presign && (r->expires < 1 || r->expires > MAX_EXPIRES)) {
    *why = "expires must be 1..604800 seconds";
    return -1;
  }
  amz_date_of(r->time, w->amz_date, w->day);
  if (strlen(r->region) + strlen(service) > 100) { *why = "region or service too long"; return -1; }
  /* they become path segments of the credential scope: letters, digits, '-' and '_' only */
  if (strspn(r->region, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != strlen(r->region) ||
      strspn(service, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != strlen(service)) {
    *why = "region and service are letters, digits, '-' and '_'";
    return -1;
  }
  snprintf(w->scope, sizeof w->scope, "%s/%s/%s/aws4_request", w->day, r->region, service);

  /* path: encoded once, '/' kept; "/" when empty */
  if (u.path_len == 0 ? stt_buf_putc(&w->encoded_path, '/')
                      : stt_sigv4_uri_encode(&w->encoded_path, u.path, u.path_len, 1)) goto done;
  if (stt_buf_putc(&w->encoded_path, '\0')) goto done;
  w->encoded_path.len--;

  /* query: the URL's own parameters, plus the X-Amz-* ones when presigning */
  qrc = url_params(&u, ps, &np);
  if (qrc != 0) {
    *why = qrc == -2 ? "the URL already carries X-Amz-* parameters (a signed URL)" : "too many query parameters";
    goto done;
  }
  if (presign) {
    stt_buf cred;
    int bad;
    stt_buf_init(&cred);
    bad = stt_buf_printf(&cred, "%s/%s", r->access_key, w->scope);
    snprintf(expires, sizeof expires, "%lld", r->expires);
    bad = bad || add_param(ps, &np, "X-Amz-Algorithm", 15, "AWS4-HMAC-SHA256", 16) ||
          add_param(ps, &np, "X-Amz-Credential", 16, cred.data, cred.len) ||
          add_param(ps, &np, "X-Amz-Date", 10, w->amz_date, 16) ||
          add_param(ps, &np, "X-Amz-Expires", 13, expires, strlen(expires)) ||
          (r->session_token && add_param(ps, &np, "X-Amz-Security-Token", 20, r->session_token,
                                         strlen(r->session_token))) ||
          add_param(ps, &np, "X-Amz-SignedHeaders", 19, "host", 4);
    stt_buf_free(&cred);
    if (bad) { *why = "too many query parameters"; goto done; }
  }
  if (put_query(&w->query, ps, np) || stt_buf_putc(&w->query, '\0')) goto done;
  w->query.len--;

  /* headers: host always; header signing adds the date, the payload hash, the token */
  if (add_hdr(hs, &nh, "host", host)) goto done;
  if (!presign) {
    if (add_hdr(hs, &nh, "x-amz-date", w->amz_date) || add_hdr(hs, &nh, "x-amz-content-sha256", payload) ||
        (r->session_token && add_hdr(hs, &nh, "x-amz-security-token", r->session_token)))
      goto done;
    for (i = 0; i < r->nheaders; i++)
      if (add_hdr(hs, &nh, r->headers[i].name, r->headers[i].value)) { *why = "too many headers"; goto done; }
  }
  qsort(hs, nh, sizeof *hs, cmp_hdr);
  for (i = 0; i < nh; i++)
    if ((i && stt_buf_putc(&w->signed_headers, ';')) || stt_buf_puts(&w->signed_headers, hs[i].name)) goto done;

  /* the canonical request */
  if (stt_buf_printf(&w->canon, "%s\n%s\n%s\n", r->method, w->encoded_path.data, w->query.len ? w->query.data : ""))
    goto done;
  for (i = 0; i < nh; i++)
    if (stt_buf_printf(&w->canon, "%s:%s\n", hs[i].name, hs[i].value)) goto done;
  if (stt_buf_printf(&w->canon, "\n%s\n%s", w->signed_headers.data, presign ? "UNSIGNED-PAYLOAD" : payload))
    goto done;

  /* the string to sign and the signature */
  if (stt_sha256(w->canon.data, w->canon.len, digest)) goto done;
  stt_hex(digest, STT_SHA256_LEN, hexd);
  if (stt_buf_printf(&w->sts, "AWS4-HMAC-SHA256\n%s\n%s\n%s", w->amz_date, w->scope, hexd)) goto done;
  if (signing_key(r, w->day, key) || stt_hmac_sha256(key, STT_SHA256_LEN, w->sts.data, w->sts.len, mac)) goto done;
  stt_hex(mac, STT_SHA256_LEN, w->signature);
  rc = 0;
done:
  free_params(ps, np);
  free_hdrs(hs, nh);
  memset(key, 0, sizeof key);
  if (rc) work_free(w);
  return rc;
}

int stt_sigv4_canonical(const stt_sigv4 *r, int presign, stt_buf *canonical, stt_buf *string_to_sign,
                        const char **why) {
  work w;
  if (build(r, presign, &w, why)) return -1;
  stt_buf_put(canonical, w.canon.data, w.canon.len);
  stt_buf_put(string_to_sign, w.sts.data, w.sts.len);
  work_free(&w);
  return canonical->oom || string_to_sign->oom ? -1 : 0;
}

int stt_sigv4_presign(const stt_sigv4 *r, stt_buf *url, const char **why) {
  work w;
  url_parts u;
  if (build(r, 1, &w, why)) return -1;
  parse_url(r->url, &u);                     /* parsed fine in build */
  stt_buf_put(url, u.scheme, u.scheme_len);
  stt_buf_puts(url, "://");
  stt_buf_put(url, u.host, u.host_len);
  stt_buf_printf(url, "%s?%s&X-Amz-Signature=%s", w.encoded_path.data, w.query.data, w.signature);
  work_free(&w);
  if (url->oom) { *why = "out of memory"; return -1; }
  return 0;
}

int stt_sigv4_sign_headers(const stt_sigv4 *r, stt_buf *authorization, char amz_date[17], stt_buf *path,
                           const char **why) {
  work w;
  if (build(r, 0, &w, why)) return -1;
  stt_buf_printf(authorization, "AWS4-HMAC-SHA256 Credential=%s/%s,SignedHeaders=%s,Signature=%s",
                 r->access_key, w.scope, w.signed_headers.data, w.signature);
  memcpy(amz_date, w.amz_date, 17);
  stt_buf_puts(path, w.encoded_path.data);
  if (w.query.len) stt_buf_printf(path, "?%s", w.query.data);
  work_free(&w);
  if (authorization->oom || path->oom) { *why = "out of memory"; return -1; }
  return 0;
}
