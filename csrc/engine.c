/* engine.c - HTTP over libcurl multi. See engine.h. No Lua here, and libcurl callbacks only ever
 * append bytes to C buffers owned by the transfer. */
#include "engine.h"
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_BODY ((size_t)64 << 20)

typedef struct xfer {
  long long id;
  CURL *easy;
  struct curl_slist *hdrs;
  char *body;
  size_t max_body;
  int too_large;
  stt_http_resp *resp;
  struct xfer *prev, *next;
} xfer;

typedef struct done_node {
  stt_http_resp *resp;
  struct done_node *next;
} done_node;

struct stt_engine {
  CURLM *multi;
  CURLSH *share;
  long long next_id;
  xfer *live;             /* in flight (doubly linked) */
  size_t nlive;
  done_node *done_head, *done_tail;
  int performing;         /* re-entrancy guard */
};

/* The only global state: libcurl's one-time initialisation (not thread safe before 7.84). */
static int g_curl_inited = 0;

int stt_engine_global_init(void) {
  if (!g_curl_inited) {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return -1;
    g_curl_inited = 1;
  }
  return 0;
}

const char *stt_engine_curl_version(void) { return curl_version_info(CURLVERSION_NOW)->version; }
int stt_engine_has_async_dns(void) { return (curl_version_info(CURLVERSION_NOW)->features & CURL_VERSION_ASYNCHDNS) != 0; }
int stt_engine_has_http2(void) { return (curl_version_info(CURLVERSION_NOW)->features & CURL_VERSION_HTTP2) != 0; }

const char *stt_http_fail_name(stt_http_fail f) {
  switch (f) {
    case STT_HTTP_OK: return "ok";
    case STT_HTTP_NETWORK: return "network";
    case STT_HTTP_TIMEOUT: return "timeout";
    case STT_HTTP_TLS: return "tls";
    case STT_HTTP_TOO_LARGE: return "too_large";
    case STT_HTTP_PROTOCOL: return "protocol";
  }
  return "network";
}

static size_t on_body(char *p, size_t sz, size_t n, void *ud) {
  xfer *x = ud;
  size_t len = sz * n;
  if (x->resp->body.len + len > x->max_body) { x->too_large = 1; return 0; }
  if (stt_buf_put(&x->resp->body, p, len) != 0) return 0;
  return len;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud) {
  xfer *x = ud;
  size_t len = sz * n;
  /* A new status line starts a new response (1xx, proxy CONNECT): keep only the final one. */
  if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) stt_buf_reset(&x->resp->headers);
  if (x->resp->headers.len + len > 1 << 20) return 0;     /* 1 MiB of headers is an attack */
  if (stt_buf_put(&x->resp->headers, p, len) != 0) return 0;
  return len;
}

static void xfer_free(xfer *x) {
  if (!x) return;
  if (x->easy) curl_easy_cleanup(x->easy);
  curl_slist_free_all(x->hdrs);
  free(x->body);
  stt_resp_free(x->resp);
  free(x);
}

void stt_resp_free(stt_http_resp *r) {
  if (!r) return;
  stt_buf_free(&r->headers);
  stt_buf_free(&r->body);
  free(r);
}

stt_engine *stt_engine_new(const stt_engine_opts *o, char *err, size_t errlen) {
  stt_engine *e;
  if (stt_engine_global_init() != 0) { snprintf(err, errlen, "curl_global_init failed"); return NULL; }
  e = calloc(1, sizeof *e);
  if (!e) { snprintf(err, errlen, "out of memory"); return NULL; }
  e->multi = curl_multi_init();
  e->share = curl_share_init();
  if (!e->multi || !e->share) {
    snprintf(err, errlen, "cannot create libcurl multi/share handle");
    stt_engine_free(e);
    return NULL;
  }
  /* One DNS cache and one TLS session cache for all transfers of this engine (the connection
   * cache already belongs to the multi handle). Single-threaded use: no lock callbacks needed. */
  curl_share_setopt(e->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(e->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  curl_multi_setopt(e->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
  if (o && o->max_host_connections > 0)
    curl_multi_setopt(e->multi, CURLMOPT_MAX_HOST_CONNECTIONS, o->max_host_connections);
  if (o && o->max_total_connections > 0)
    curl_multi_setopt(e->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, o->max_total_connections);
  e->next_id = 1;
  return e;
}

void stt_engine_free(stt_engine *e) {
  xfer *x, *nx;
  done_node *d, *nd;
  if (!e) return;
  for (x = e->live; x; x = nx) {
    nx = x->next;
    if (e->multi && x->easy) curl_multi_remove_handle(e->multi, x->easy);
    xfer_free(x);
  }
  for (d = e->done_head; d; d = nd) { nd = d->next; stt_resp_free(d->resp); free(d); }
  if (e->multi) curl_multi_cleanup(e->multi);
  if (e->share) curl_share_cleanup(e->share);
  free(e);
}

static int is_method(const char *m, const char *want) { return m && strcmp(m, want) == 0; }

long long stt_engine_add(stt_engine *e, const stt_http_req *r, char *err, size_t errlen) {
  xfer *x;
  size_t i;
  CURL *h;
  if (!r->url || !r->method) { snprintf(err, errlen, "request needs method and url"); return -1; }
  x = calloc(1, sizeof *x);
  if (!x) goto oom;
  x->resp = calloc(1, sizeof *x->resp);
  x->easy = curl_easy_init();
  if (!x->resp || !x->easy) goto oom;
  stt_buf_init(&x->resp->headers);
  stt_buf_init(&x->resp->body);
  x->max_body = r->max_body ? r->max_body : DEFAULT_MAX_BODY;
  x->id = e->next_id++;
  x->resp->id = x->id;
  h = x->easy;

  for (i = 0; i < r->nheaders; i++) {
    struct curl_slist *nl = curl_slist_append(x->hdrs, r->headers[i]);
    if (!nl) goto oom;
    x->hdrs = nl;
  }
  /* Never send "Expect: 100-continue" (one round trip more for nothing), nor a default Accept. */
  {
    struct curl_slist *nl = curl_slist_append(x->hdrs, "Expect:");
    if (!nl) goto oom;
    x->hdrs = nl;
  }
  curl_easy_setopt(h, CURLOPT_URL, r->url);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, x->hdrs);
  curl_easy_setopt(h, CURLOPT_PRIVATE, (void *)x);
  curl_easy_setopt(h, CURLOPT_SHARE, e->share);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, (void *)x);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, (void *)x);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);     /* never carry credentials to another host */
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
  /* Waiting for a connection that might multiplex only pays off where HTTP/2 can be negotiated
   * (TLS + ALPN). On plain http:// it would serialize the first requests to a new host. */
  if (strncmp(r->url, "https://", 8) == 0) curl_easy_setopt(h, CURLOPT_PIPEWAIT, 1L);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");    /* whatever this libcurl decodes */
  curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->max_body);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "lua-stt/0.1");
  if (r->timeout_ms > 0) curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, r->timeout_ms);
  if (r->connect_timeout_ms > 0) curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, r->connect_timeout_ms);
  /* TLS verification stays on unless the caller explicitly asked for insecure. */
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, r->insecure ? 0L : 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, r->insecure ? 0L : 2L);
  if (r->ca_file) curl_easy_setopt(h, CURLOPT_CAINFO, r->ca_file);
  if (r->fresh_connect) curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);

  if (r->has_body || is_method(r->method, "POST") || is_method(r->method, "PUT")) {
    x->body = malloc(r->body_len ? r->body_len : 1);
    if (!x->body) goto oom;
    if (r->body_len) memcpy(x->body, r->body, r->body_len);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, x->body);
    if (!is_method(r->method, "POST")) curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
  } else if (is_method(r->method, "HEAD")) {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (!is_method(r->method, "GET")) {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
  }

  if (curl_multi_add_handle(e->multi, h) != CURLM_OK) {
    snprintf(err, errlen, "curl_multi_add_handle failed");
    xfer_free(x);
    return -1;
  }
  x->next = e->live;
  if (e->live) e->live->prev = x;
  e->live = x;
  e->nlive++;
  return x->id;
oom:
  snprintf(err, errlen, "out of memory");
  xfer_free(x);
  return -1;
}

static void unlink_live(stt_engine *e, xfer *x) {
  if (x->prev) x->prev->next = x->next; else e->live = x->next;
  if (x->next) x->next->prev = x->prev;
  x->prev = x->next = NULL;
  e->nlive--;
}

static stt_http_fail classify(CURLcode c, int too_large) {
  if (too_large || c == CURLE_FILESIZE_EXCEEDED) return STT_HTTP_TOO_LARGE;
  switch (c) {
    case CURLE_OK: return STT_HTTP_OK;
    case CURLE_OPERATION_TIMEDOUT: return STT_HTTP_TIMEOUT;
    case CURLE_PEER_FAILED_VERIFICATION: case CURLE_SSL_CONNECT_ERROR: case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER: case CURLE_SSL_CACERT_BADFILE: case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH: case CURLE_SSL_INVALIDCERTSTATUS: case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND: case CURLE_SSL_ENGINE_SETFAILED: case CURLE_USE_SSL_FAILED:
      return STT_HTTP_TLS;
    case CURLE_PARTIAL_FILE: case CURLE_WEIRD_SERVER_REPLY: case CURLE_HTTP2: case CURLE_HTTP2_STREAM:
    case CURLE_BAD_CONTENT_ENCODING: case CURLE_UNSUPPORTED_PROTOCOL: case CURLE_URL_MALFORMAT:
      return STT_HTTP_PROTOCOL;
    default: return STT_HTTP_NETWORK;
  }
}

static void finish(stt_engine *e, xfer *x, CURLcode code) {
  stt_http_resp *r = x->resp;
  long status = 0, ver = 0, conns = 0;
  curl_off_t pre = 0, total = 0;
  done_node *d;
  curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo(x->easy, CURLINFO_HTTP_VERSION, &ver);
  curl_easy_getinfo(x->easy, CURLINFO_NUM_CONNECTS, &conns);
  curl_easy_getinfo(x->easy, CURLINFO_PRETRANSFER_TIME_T, &pre);
  curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME_T, &total);
  r->status = status;
  r->http_version = ver == CURL_HTTP_VERSION_1_0 ? 10 : ver == CURL_HTTP_VERSION_1_1 ? 11
                  : ver == CURL_HTTP_VERSION_2_0 ? 20 : ver == CURL_HTTP_VERSION_3 ? 30 : 0;
  r->new_connections = conns;
  r->total_s = (double)total / 1e6;
  r->sent = pre > 0 || status > 0;
  r->curl_code = (int)code;
  r->fail = classify(code, x->too_large);
  if (r->fail == STT_HTTP_TOO_LARGE)
    snprintf(r->errmsg, sizeof r->errmsg, "response body exceeds the %zu-byte cap", x->max_body);
  else if (code != CURLE_OK)
    snprintf(r->errmsg, sizeof r->errmsg, "%s", curl_easy_strerror(code));
  curl_multi_remove_handle(e->multi, x->easy);
  unlink_live(e, x);
  d = calloc(1, sizeof *d);
  if (!d) {                       /* cannot queue it: report nothing rather than crash */
    xfer_free(x);
    return;
  }
  d->resp = r;
  x->resp = NULL;                 /* ownership moves to the done queue */
  xfer_free(x);
  if (e->done_tail) e->done_tail->next = d; else e->done_head = d;
  e->done_tail = d;
}

int stt_engine_perform(stt_engine *e, int *running, char *err, size_t errlen) {
  CURLMcode mc;
  CURLMsg *m;
  int left = 0;
  if (e->performing) { snprintf(err, errlen, "engine perform is not re-entrant"); return -1; }
  e->performing = 1;
  mc = curl_multi_perform(e->multi, running);
  while ((m = curl_multi_info_read(e->multi, &left)) != NULL) {
    if (m->msg == CURLMSG_DONE) {
      xfer *x = NULL;
      curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
      if (x) finish(e, x, m->data.result);
    }
  }
  e->performing = 0;
  if (mc != CURLM_OK) { snprintf(err, errlen, "%s", curl_multi_strerror(mc)); return -1; }
  return 0;
}

stt_http_resp *stt_engine_next_done(stt_engine *e) {
  done_node *d = e->done_head;
  stt_http_resp *r;
  if (!d) return NULL;
  e->done_head = d->next;
  if (!e->done_head) e->done_tail = NULL;
  r = d->resp;
  free(d);
  return r;
}

int stt_engine_wait(stt_engine *e, int timeout_ms) {
  int n = 0;
  if (timeout_ms < 0) timeout_ms = 0;
  return curl_multi_poll(e->multi, NULL, 0, timeout_ms, &n) == CURLM_OK ? n : -1;
}

long stt_engine_timeout(stt_engine *e) {
  long ms = -1;
  curl_multi_timeout(e->multi, &ms);
  return ms;
}

int stt_engine_cancel(stt_engine *e, long long id) {
  xfer *x;
  done_node *d, *prev = NULL;
  for (x = e->live; x; x = x->next) {
    if (x->id == id) {
      curl_multi_remove_handle(e->multi, x->easy);
      unlink_live(e, x);
      xfer_free(x);
      return 1;
    }
  }
  for (d = e->done_head; d; prev = d, d = d->next) {
    if (d->resp->id == id) {
      if (prev) prev->next = d->next; else e->done_head = d->next;
      if (e->done_tail == d) e->done_tail = prev;
      stt_resp_free(d->resp);
      free(d);
      return 1;
    }
  }
  return 0;
}

size_t stt_engine_inflight(const stt_engine *e) { return e->nlive; }
