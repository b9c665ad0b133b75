/* engine.c - HTTP over libcurl multi. See engine.h. No Lua here, and libcurl callbacks only ever
 * append bytes to C buffers owned by the transfer or update the engine's socket/timer records.
 *
 * Scale (docs/performance.md): thousands of requests may be added at once (10,000 submits from one
 * transcribe_all). Each host gets at most `host_limit` transfers running; the others wait in a
 * per-host FIFO as plain copies of the request, without a libcurl easy handle (an easy handle plus
 * its receive buffer is ~30 KiB). Finished easy handles are reset and reused, so a steady stream
 * of requests does not allocate and free them each time. On Linux the sockets are watched with
 * epoll and driven by curl_multi_socket_action: each turn costs O(ready sockets), not a scan of
 * every connection as curl_multi_perform + curl_multi_poll do (those remain the portable path).
 *
 * Foreign fds (stt_engine_watch_fd) share the loop: in the epoll set beside libcurl's sockets
 * (told apart by FOREIGN_TAG in the event data) or, on the portable path, passed to
 * curl_multi_poll as extra fds and polled again (without waiting) in perform(). Their readiness
 * goes to the watcher's callback, never to libcurl. Attachments (stt_engine_attach) add their
 * deadlines to stt_engine_timeout() and their operations to the running count. */
#include "engine.h"
#include "bodysrc.h"
#include <curl/curl.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__linux__) && !defined(STT_NO_EPOLL)
#define STT_USE_EPOLL 1
#include <sys/epoll.h>
#include <unistd.h>
#else
#include <poll.h>
#endif

#define DEFAULT_MAX_BODY ((size_t)64 << 20)
#define DEFAULT_HOST_LIMIT 64     /* transfers (and so HTTP/1.1 connections) per host at a time */
#define MAX_SPARE_HANDLES 64      /* reset easy handles kept for reuse (~20 KiB each) */
#define MAX_EVENTS 256
#define MAX_EXTS 4
#ifdef STT_USE_EPOLL
/* epoll data of a foreign fd: this bit plus the fd. libcurl's sockets are stored as data.fd, whose
 * bits never reach bit 63 whatever the byte order (a descriptor is below 2^31). */
#define FOREIGN_TAG ((uint64_t)1 << 63)
#endif

typedef struct host host;

typedef struct xfer {
  long long id;
  CURL *easy;                   /* NULL while waiting in its host's queue */
  struct curl_slist *hdrs;
  char *body;
  size_t body_len;
  char *strs;                   /* one allocation: url \0 method \0 [ca_file \0] */
  const char *url, *method, *ca_file;
  int has_body, insecure, fresh_connect, too_large;
  size_t header_bytes;           /* of the current response, for the cap in on_header */
  char errbuf[CURL_ERROR_SIZE];  /* libcurl's detail ("no alternative certificate subject name ...") */
  long timeout_ms, connect_timeout_ms;
  size_t max_body;
  long long deadline_us;        /* added + timeout; 0 = none */
  host *host;
  stt_http_resp *resp;
  struct xfer *prev, *next;     /* in e->live (running) or in host->q (waiting) */
  /* a body streamed from disk (opened when the transfer starts), or a multipart form */
  char *body_file, *body_suffix;
  size_t body_suffix_len;
  int body_file_base64;
  stt_bodysrc *src;
  char **form;                  /* name, value, name, value, ...; then field, file name, type */
  size_t nform;
  curl_mime *mime;
  long long up_sent, up_total;  /* progress of the request body */
} xfer;

struct host {
  char *key;                    /* scheme://authority, lower-cased */
  long limit;                   /* transfers of this host allowed to run at once */
  long active;                  /* transfers of this host in e->live */
  xfer *qhead, *qtail;          /* waiting for a free slot, oldest first */
  host *next;
};

typedef struct done_node {
  stt_http_resp *resp;
  struct done_node *next;
} done_node;

typedef struct fdwatch {        /* a foreign fd */
  int fd, events;               /* STT_FD_READ | STT_FD_WRITE wanted */
  stt_fd_cb cb;
  void *ctx;
} fdwatch;

typedef struct ext_slot {
  const stt_engine_ext *ops;
  void *ctx;
} ext_slot;

struct stt_engine {
  CURLM *multi;
  CURLSH *share;
  long long next_id;
  long host_limit;
  xfer *live;                   /* running (doubly linked) */
  size_t nlive, nqueued;
  host *hosts;
  long long queue_deadline_us;  /* earliest deadline among queued transfers (may be early); 0 none */
  CURL *spare[MAX_SPARE_HANDLES];
  size_t nspare;
  long long handles_created;    /* easy handles made over the engine's life (reuse keeps it low) */
  long curl_host_limit;         /* what libcurl's CURLMOPT_MAX_HOST_CONNECTIONS is set to */
  done_node *done_head, *done_tail;
  int performing;               /* re-entrancy guard */
  fdwatch *fw;                  /* foreign fds, in no particular order */
  size_t nfw, capfw;
  ext_slot ext[MAX_EXTS];
  size_t next;
#ifdef STT_USE_EPOLL
  int epfd;
  long long timer_us;           /* when libcurl wants its timeout action; -1 none */
  struct epoll_event ev[MAX_EVENTS];
  int nev;                      /* events gathered by stt_engine_wait, not yet handed to libcurl */
  int ev_fill;                  /* entries of ev that may still be dispatched (unwatch scrubs them) */
#else
  struct curl_waitfd *wfds;     /* capfw each: the foreign fds as curl_multi_poll and poll() take them */
  struct pollfd *pfds;
#endif
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

static long long now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static size_t on_body(char *p, size_t sz, size_t n, void *ud) {
  xfer *x = ud;
  size_t len = sz * n;
  if (x->resp->body.len + len > x->max_body) { x->too_large = 1; return 0; }
  if (stt_buf_put(&x->resp->body, p, len) != 0) return 0;
  return len;
}

/* libcurl parses and keeps the header fields itself (read at the end with curl_easy_nextheader);
 * this only caps their size: 1 MiB of headers in one response is an attack. */
static size_t on_header(char *p, size_t sz, size_t n, void *ud) {
  xfer *x = ud;
  size_t len = sz * n;
  if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) x->header_bytes = 0;   /* a new response (1xx, CONNECT) */
  x->header_bytes += len;
  return x->header_bytes > (size_t)1 << 20 ? 0 : len;
}

/* The final response's fields as libcurl parsed them (curl_easy_nextheader, libcurl 7.83+: status
 * lines left out, folded lines joined, values trimmed), in order, packed into r->headers as
 * "name\0value\0" pairs. Reading libcurl's own parse instead of splitting the raw block by hand
 * keeps one HTTP parser (libcurl's, fuzzed upstream) between the wire and the schemas. */
static int collect_headers(CURL *easy, stt_http_resp *r) {
  struct curl_header *h = NULL;
  stt_buf_reset(&r->headers);
  while ((h = curl_easy_nextheader(easy, CURLH_HEADER, -1, h)) != NULL) {
    if (stt_buf_put(&r->headers, h->name, strlen(h->name) + 1) != 0 ||
        stt_buf_put(&r->headers, h->value, strlen(h->value) + 1) != 0)
      return -1;
  }
  return 0;
}

void stt_resp_free(stt_http_resp *r) {
  if (!r) return;
  stt_buf_free(&r->headers);
  stt_buf_free(&r->body);
  free(r);
}

/* Frees the request copy and response; the easy handle must already be detached. */
static void xfer_free(xfer *x) {
  size_t i;
  if (!x) return;
  curl_slist_free_all(x->hdrs);
  free(x->body);
  free(x->strs);
  stt_resp_free(x->resp);
  stt_bodysrc_free(x->src);
  curl_mime_free(x->mime);       /* the easy handle has let go of it (reset or cleaned up) */
  free(x->body_file);
  free(x->body_suffix);
  for (i = 0; i < x->nform; i++) free(x->form[i]);
  free(x->form);
  free(x);
}

/* ---------------------------------------------------------------- bodies streamed from disk */
static size_t on_read(char *buf, size_t sz, size_t n, void *ud) {
  xfer *x = ud;
  size_t got = stt_bodysrc_read(x->src, buf, sz * n);
  return got == (size_t)-1 ? CURL_READFUNC_ABORT : got;
}

static int on_seek(void *ud, curl_off_t offset, int origin) {
  xfer *x = ud;
  if (offset != 0 || origin != SEEK_SET) return CURL_SEEKFUNC_CANTSEEK;
  return stt_bodysrc_rewind(x->src) == 0 ? CURL_SEEKFUNC_OK : CURL_SEEKFUNC_FAIL;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
  xfer *x = ud;
  (void)dltotal; (void)dlnow;
  x->up_sent = (long long)ulnow;
  if (ultotal > 0) x->up_total = (long long)ultotal;
  return 0;
}

/* The multipart form of x on h: its fields in order, then the file part (streamed by libcurl from
 * disk). 0, or -1 with msg set. */
static int build_form(xfer *x, CURL *h, char *msg, size_t msglen) {
  size_t i, nfields = x->nform - 3;
  curl_mimepart *part;
  x->mime = curl_mime_init(h);
  if (!x->mime) { snprintf(msg, msglen, "out of memory (curl_mime_init)"); return -1; }
  for (i = 0; i < nfields; i += 2) {
    part = curl_mime_addpart(x->mime);
    if (!part || curl_mime_name(part, x->form[i]) != CURLE_OK ||
        curl_mime_data(part, x->form[i + 1], CURL_ZERO_TERMINATED) != CURLE_OK) {
      snprintf(msg, msglen, "out of memory (form field)");
      return -1;
    }
  }
  part = curl_mime_addpart(x->mime);
  if (!part || curl_mime_name(part, x->form[nfields]) != CURLE_OK) {
    snprintf(msg, msglen, "out of memory (form file part)");
    return -1;
  }
  if (curl_mime_filedata(part, x->body_file) != CURLE_OK) {
    snprintf(msg, msglen, "cannot read %s", x->body_file);
    return -1;
  }
  if (curl_mime_filename(part, x->form[nfields + 1]) != CURLE_OK ||
      (x->form[nfields + 2][0] && curl_mime_type(part, x->form[nfields + 2]) != CURLE_OK)) {
    snprintf(msg, msglen, "out of memory (form file part)");
    return -1;
  }
  return 0;
}

/* ---------------------------------------------------------------- sockets and timers (epoll) */
#ifdef STT_USE_EPOLL
/* CURLMOPT_SOCKETFUNCTION: keep the epoll set equal to what libcurl wants watched. */
static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp) {
  stt_engine *e = userp;
  struct epoll_event ev;
  (void)easy;
  if (what == CURL_POLL_REMOVE) {
    epoll_ctl(e->epfd, EPOLL_CTL_DEL, s, NULL);   /* may already be gone with the socket */
    curl_multi_assign(e->multi, s, NULL);
    return 0;
  }
  memset(&ev, 0, sizeof ev);
  ev.data.fd = s;
  ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
  if (socketp) {
    if (epoll_ctl(e->epfd, EPOLL_CTL_MOD, s, &ev) != 0 && epoll_ctl(e->epfd, EPOLL_CTL_ADD, s, &ev) != 0)
      return -1;
  } else {
    /* A recycled descriptor number can still be registered if libcurl closed it without a
     * REMOVE first: fall back to MOD. */
    if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, s, &ev) != 0 && epoll_ctl(e->epfd, EPOLL_CTL_MOD, s, &ev) != 0)
      return -1;
    curl_multi_assign(e->multi, s, (void *)e);       /* any non-NULL marks it registered */
  }
  return 0;
}

/* CURLMOPT_TIMERFUNCTION: remember when libcurl wants curl_multi_socket_action(TIMEOUT). */
static int on_timer(CURLM *multi, long timeout_ms, void *userp) {
  stt_engine *e = userp;
  (void)multi;
  e->timer_us = timeout_ms < 0 ? -1 : now_us() + (long long)timeout_ms * 1000;
  return 0;
}
#endif

/* ---------------------------------------------------------------- hosts */
static char lower(char c) { return (char)((c >= 'A' && c <= 'Z') ? c + 32 : c); }

/* Length of the "scheme://authority" part of a URL: what tells hosts apart (case-insensitively). */
static size_t host_key_len(const char *url) {
  const char *p = strstr(url, "://");
  p = p ? p + 3 : url;
  return (size_t)(p + strcspn(p, "/?#") - url);
}

static int same_host(const char *key, const char *url, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) if (key[i] != lower(url[i])) return 0;
  return key[n] == '\0';
}

/* The host entry of url (made on first use); limit > 0 sets its number of slots. */
static host *host_get(stt_engine *e, const char *url, long limit) {
  host *h;
  size_t i, n = host_key_len(url);
  for (h = e->hosts; h; h = h->next) {
    if (same_host(h->key, url, n)) break;
  }
  if (!h) {
    char *k = malloc(n + 1);
    h = k ? calloc(1, sizeof *h) : NULL;
    if (!h) { free(k); return NULL; }
    for (i = 0; i < n; i++) k[i] = lower(url[i]);
    k[n] = '\0';
    h->key = k;
    h->limit = e->host_limit;
    h->next = e->hosts;
    e->hosts = h;
  }
  if (limit > 0 && limit != h->limit) {
    h->limit = limit;
    /* libcurl's own per-host bound must never be the tighter one (it would park transfers we
     * started, each holding an easy handle). */
    if (limit > e->curl_host_limit) {
      e->curl_host_limit = limit;
      curl_multi_setopt(e->multi, CURLMOPT_MAX_HOST_CONNECTIONS, limit);
    }
  }
  return h;
}

/* Forget a host with nothing running or waiting (keeps the list as short as the hosts in use). */
static void host_release(stt_engine *e, host *h) {
  host **pp;
  if (h->active > 0 || h->qhead) return;
  for (pp = &e->hosts; *pp; pp = &(*pp)->next) {
    if (*pp == h) { *pp = h->next; break; }
  }
  free(h->key);
  free(h);
}

static void queue_push(host *h, xfer *x) {
  x->next = NULL;
  x->prev = h->qtail;
  if (h->qtail) h->qtail->next = x; else h->qhead = x;
  h->qtail = x;
}

static void queue_unlink(stt_engine *e, host *h, xfer *x) {
  if (x->prev) x->prev->next = x->next; else h->qhead = x->next;
  if (x->next) x->next->prev = x->prev; else h->qtail = x->prev;
  x->prev = x->next = NULL;
  e->nqueued--;
}

/* ---------------------------------------------------------------- engine */
stt_engine *stt_engine_new(const stt_engine_opts *o, char *err, size_t errlen) {
  stt_engine *e;
  if (stt_engine_global_init() != 0) { snprintf(err, errlen, "curl_global_init failed"); return NULL; }
  e = calloc(1, sizeof *e);
  if (!e) { snprintf(err, errlen, "out of memory"); return NULL; }
#ifdef STT_USE_EPOLL
  e->timer_us = -1;
  e->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (e->epfd < 0) {
    snprintf(err, errlen, "epoll_create1 failed");
    free(e);
    return NULL;
  }
#endif
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
  e->host_limit = o && o->max_host_connections > 0 ? o->max_host_connections : DEFAULT_HOST_LIMIT;
  /* libcurl's own bound matches ours, so it never parks a transfer that we started. */
  e->curl_host_limit = e->host_limit;
  curl_multi_setopt(e->multi, CURLMOPT_MAX_HOST_CONNECTIONS, e->host_limit);
  if (o && o->max_total_connections > 0)
    curl_multi_setopt(e->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, o->max_total_connections);
#ifdef STT_USE_EPOLL
  curl_multi_setopt(e->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl_multi_setopt(e->multi, CURLMOPT_SOCKETDATA, (void *)e);
  curl_multi_setopt(e->multi, CURLMOPT_TIMERFUNCTION, on_timer);
  curl_multi_setopt(e->multi, CURLMOPT_TIMERDATA, (void *)e);
#endif
  e->next_id = 1;
  return e;
}

void stt_engine_free(stt_engine *e) {
  xfer *x, *nx;
  done_node *d, *nd;
  host *h, *nh;
  size_t i;
  if (!e) return;
  /* Attachments first, newest first: they unwatch their fds while the poller still exists. */
  while (e->next > 0) {
    ext_slot sl = e->ext[--e->next];
    sl.ops->free(sl.ctx);
  }
  for (x = e->live; x; x = nx) {
    nx = x->next;
    if (e->multi && x->easy) curl_multi_remove_handle(e->multi, x->easy);
    if (x->easy) curl_easy_cleanup(x->easy);
    xfer_free(x);
  }
  for (h = e->hosts; h; h = nh) {
    nh = h->next;
    for (x = h->qhead; x; x = nx) { nx = x->next; xfer_free(x); }
    free(h->key);
    free(h);
  }
  for (i = 0; i < e->nspare; i++) curl_easy_cleanup(e->spare[i]);
  for (d = e->done_head; d; d = nd) { nd = d->next; stt_resp_free(d->resp); free(d); }
  if (e->multi) curl_multi_cleanup(e->multi);
  if (e->share) curl_share_cleanup(e->share);
#ifdef STT_USE_EPOLL
  if (e->epfd >= 0) close(e->epfd);
#else
  free(e->wfds);
  free(e->pfds);
#endif
  free(e->fw);
  free(e);
}

static int is_method(const char *m, const char *want) { return m && strcmp(m, want) == 0; }

static void push_done(stt_engine *e, xfer *x) {
  done_node *d = calloc(1, sizeof *d);
  if (!d) { xfer_free(x); return; }     /* cannot queue it: report nothing rather than crash */
  d->resp = x->resp;
  x->resp = NULL;                        /* ownership moves to the done queue */
  xfer_free(x);
  if (e->done_tail) e->done_tail->next = d; else e->done_head = d;
  e->done_tail = d;
}

/* A transfer that ends before it ever ran (its time ran out in the queue, or libcurl refused it). */
static void fail_unsent(stt_engine *e, xfer *x, stt_http_fail f, const char *msg) {
  x->resp->fail = f;
  x->resp->curl_code = f == STT_HTTP_TIMEOUT ? (int)CURLE_OPERATION_TIMEDOUT : (int)CURLE_FAILED_INIT;
  x->resp->sent = 0;
  snprintf(x->resp->errmsg, sizeof x->resp->errmsg, "%s", msg);
  push_done(e, x);
}

/* A waiting transfer whose whole time budget ran out before a slot freed up. */
static void fail_queue_timeout(stt_engine *e, xfer *x) {
  char msg[200];
  snprintf(msg, sizeof msg, "timed out after %ld ms waiting for a free connection slot (%ld per host)",
           x->timeout_ms, x->host->limit);
  fail_unsent(e, x, STT_HTTP_TIMEOUT, msg);
}

/* A transfer that got its easy handle but cannot go (its body file cannot be read): the handle
 * goes back to the spares, the transfer fails unsent. */
static void fail_started(stt_engine *e, xfer *x, const char *msg) {
  if (e->nspare < MAX_SPARE_HANDLES) {
    curl_easy_reset(x->easy);
    e->spare[e->nspare++] = x->easy;
  } else {
    curl_easy_cleanup(x->easy);
  }
  x->easy = NULL;
  fail_unsent(e, x, STT_HTTP_PROTOCOL, msg);
}

/* Give a waiting transfer an easy handle and hand it to libcurl. Returns 0, or -1 when it was
 * failed instead (then it is already in the done queue). */
static int start(stt_engine *e, xfer *x) {
  CURL *h;
  long long now = now_us();
  long remain = 0;
  if (x->deadline_us) {
    remain = (long)((x->deadline_us - now) / 1000);
    if (remain <= 0) { fail_queue_timeout(e, x); return -1; }
  }
  if (e->nspare) h = e->spare[--e->nspare];
  else {
    h = curl_easy_init();
    if (!h) { fail_unsent(e, x, STT_HTTP_NETWORK, "out of memory (curl_easy_init)"); return -1; }
    e->handles_created++;
  }
  x->easy = h;
  curl_easy_setopt(h, CURLOPT_URL, x->url);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, x->hdrs);
  curl_easy_setopt(h, CURLOPT_PRIVATE, (void *)x);
  x->errbuf[0] = '\0';
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf);
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
  if (strncmp(x->url, "https://", 8) == 0) curl_easy_setopt(h, CURLOPT_PIPEWAIT, 1L);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");    /* whatever this libcurl decodes */
  curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->max_body);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "lua-stt/0.1");
  /* The request's time budget counts from add(): time spent queued for a slot is part of it. */
  if (remain > 0) curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, remain);
  if (x->connect_timeout_ms > 0) curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, x->connect_timeout_ms);
  /* TLS verification stays on unless the caller explicitly asked for insecure. */
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, x->insecure ? 0L : 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, x->insecure ? 0L : 2L);
  if (x->ca_file) curl_easy_setopt(h, CURLOPT_CAINFO, x->ca_file);
  if (x->fresh_connect) curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
  if (x->body_file) {
    char msg[300];
    long long total = 0;
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)x);
    if (x->form) {
      if (build_form(x, h, msg, sizeof msg) != 0) { fail_started(e, x, msg); return -1; }
      curl_easy_setopt(h, CURLOPT_MIMEPOST, x->mime);
    } else {
      x->src = stt_bodysrc_open(x->body ? x->body : "", x->body_len, x->body_file, x->body_file_base64,
                                x->body_suffix ? x->body_suffix : "", x->body_suffix_len, &total, msg, sizeof msg);
      if (!x->src) { fail_started(e, x, msg); return -1; }
      x->up_total = total;
      curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
      curl_easy_setopt(h, CURLOPT_READDATA, (void *)x);
      curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
      curl_easy_setopt(h, CURLOPT_SEEKDATA, (void *)x);
      if (is_method(x->method, "POST")) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)total);
      } else {
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)total);
        if (!is_method(x->method, "PUT")) curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, x->method);
      }
    }
  } else if (x->has_body || is_method(x->method, "POST") || is_method(x->method, "PUT")) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->body_len);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, x->body);
    if (!is_method(x->method, "POST")) curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, x->method);
  } else if (is_method(x->method, "HEAD")) {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (!is_method(x->method, "GET")) {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, x->method);
  }
  if (curl_multi_add_handle(e->multi, h) != CURLM_OK) {
    curl_easy_cleanup(h);
    x->easy = NULL;
    fail_unsent(e, x, STT_HTTP_NETWORK, "curl_multi_add_handle failed");
    return -1;
  }
  x->prev = NULL;
  x->next = e->live;
  if (e->live) e->live->prev = x;
  e->live = x;
  e->nlive++;
  x->host->active++;
  return 0;
}

/* Start waiting transfers of h while it has free slots. */
static void pump(stt_engine *e, host *h) {
  while (h->active < h->limit && h->qhead) {
    xfer *x = h->qhead;
    queue_unlink(e, h, x);
    start(e, x);
  }
  host_release(e, h);
}

long long stt_engine_add(stt_engine *e, const stt_http_req *r, char *err, size_t errlen) {
  xfer *x;
  host *h;
  long long id;
  size_t i, lu, lm, lc;
  if (!r->url || !r->method) { snprintf(err, errlen, "request needs method and url"); return -1; }
  x = calloc(1, sizeof *x);
  if (!x) goto oom;
  x->resp = calloc(1, sizeof *x->resp);
  if (!x->resp) goto oom;
  stt_buf_init(&x->resp->headers);
  stt_buf_init(&x->resp->body);
  lu = strlen(r->url); lm = strlen(r->method); lc = r->ca_file ? strlen(r->ca_file) : 0;
  x->strs = malloc(lu + lm + lc + 3);
  if (!x->strs) goto oom;
  memcpy(x->strs, r->url, lu + 1);
  memcpy(x->strs + lu + 1, r->method, lm + 1);
  x->url = x->strs;
  x->method = x->strs + lu + 1;
  if (r->ca_file) {
    memcpy(x->strs + lu + lm + 2, r->ca_file, lc + 1);
    x->ca_file = x->strs + lu + lm + 2;
  }
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
  x->has_body = r->has_body;
  if (r->body_file) {
    x->body_file = strdup(r->body_file);
    if (!x->body_file) goto oom;
    x->body_file_base64 = r->body_file_base64;
    if (r->body_suffix_len) {
      x->body_suffix = malloc(r->body_suffix_len);
      if (!x->body_suffix) goto oom;
      memcpy(x->body_suffix, r->body_suffix, r->body_suffix_len);
      x->body_suffix_len = r->body_suffix_len;
    }
    if (r->form_file_field) {            /* multipart: fields, then field / file name / type */
      size_t k;
      x->form = calloc(2 * r->nform + 3, sizeof *x->form);
      if (!x->form) goto oom;
      x->nform = 2 * r->nform + 3;
      for (k = 0; k < r->nform; k++) {
        if (!(x->form[2 * k] = strdup(r->form_names[k])) || !(x->form[2 * k + 1] = strdup(r->form_values[k])))
          goto oom;
      }
      if (!(x->form[2 * r->nform] = strdup(r->form_file_field)) ||
          !(x->form[2 * r->nform + 1] = strdup(r->form_file_name ? r->form_file_name : "file")) ||
          !(x->form[2 * r->nform + 2] = strdup(r->form_file_type ? r->form_file_type : "")))
        goto oom;
    }
  }
  if (r->has_body || r->body_file || is_method(r->method, "POST") || is_method(r->method, "PUT")) {
    x->body = malloc(r->body_len ? r->body_len : 1);
    if (!x->body) goto oom;
    if (r->body_len) memcpy(x->body, r->body, r->body_len);
    x->body_len = r->body_len;
  }
  x->insecure = r->insecure;
  x->fresh_connect = r->fresh_connect;
  x->timeout_ms = r->timeout_ms;
  x->connect_timeout_ms = r->connect_timeout_ms;
  x->max_body = r->max_body ? r->max_body : DEFAULT_MAX_BODY;
  x->deadline_us = r->timeout_ms > 0 ? now_us() + (long long)r->timeout_ms * 1000 : 0;
  x->host = host_get(e, r->url, r->host_limit);
  if (!x->host) goto oom;
  x->id = e->next_id++;
  x->resp->id = x->id;
  id = x->id;
  h = x->host;
  /* Behind whatever already waits for this host (first come, first served), then start what fits. */
  queue_push(h, x);
  e->nqueued++;
  if (!(h->qhead == x && h->active < h->limit) && x->deadline_us &&
      (!e->queue_deadline_us || x->deadline_us < e->queue_deadline_us))
    e->queue_deadline_us = x->deadline_us;          /* it will wait: its deadline is watched */
  pump(e, h);          /* x may be failed at once (then it is answered through the done queue) */
  return id;
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
  x->host->active--;
}

/* Detach a running transfer's easy handle and keep it for the next transfer. */
static void recycle(stt_engine *e, xfer *x) {
  curl_multi_remove_handle(e->multi, x->easy);
  if (e->nspare < MAX_SPARE_HANDLES) {
    curl_easy_reset(x->easy);       /* options back to defaults; caches and connections stay */
    e->spare[e->nspare++] = x->easy;
  } else {
    curl_easy_cleanup(x->easy);
  }
  x->easy = NULL;
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
  host *h = x->host;
  curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo(x->easy, CURLINFO_HTTP_VERSION, &ver);
  curl_easy_getinfo(x->easy, CURLINFO_NUM_CONNECTS, &conns);
  curl_easy_getinfo(x->easy, CURLINFO_PRETRANSFER_TIME_T, &pre);
  curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME_T, &total);
  r->status = status;
  if (status > 0 && collect_headers(x->easy, r) != 0 && code == CURLE_OK) code = CURLE_OUT_OF_MEMORY;
  r->http_version = ver == CURL_HTTP_VERSION_1_0 ? 10 : ver == CURL_HTTP_VERSION_1_1 ? 11
                  : ver == CURL_HTTP_VERSION_2_0 ? 20 : ver == CURL_HTTP_VERSION_3 ? 30 : 0;
  r->new_connections = conns;
  r->total_s = (double)total / 1e6;
  r->sent = pre > 0 || status > 0;
  r->curl_code = (int)code;
  r->fail = classify(code, x->too_large);
  if (r->fail == STT_HTTP_TOO_LARGE)
    snprintf(r->errmsg, sizeof r->errmsg, "response body exceeds the %zu-byte cap", x->max_body);
  else if (code != CURLE_OK && x->errbuf[0])
    snprintf(r->errmsg, sizeof r->errmsg, "%s: %.160s", curl_easy_strerror(code), x->errbuf);
  else if (code != CURLE_OK)
    snprintf(r->errmsg, sizeof r->errmsg, "%s", curl_easy_strerror(code));
  recycle(e, x);
  unlink_live(e, x);
  push_done(e, x);
  pump(e, h);
}

/* Fail queued transfers whose whole time budget ran out before a slot freed up. */
static void expire_queued(stt_engine *e, long long now) {
  host *h, *nh;
  long long next = 0;
  if (!e->queue_deadline_us || now < e->queue_deadline_us) return;
  for (h = e->hosts; h; h = nh) {
    xfer *x, *nx;
    nh = h->next;
    for (x = h->qhead; x; x = nx) {
      nx = x->next;
      if (x->deadline_us && x->deadline_us <= now) {
        queue_unlink(e, h, x);
        fail_queue_timeout(e, x);
      } else if (x->deadline_us && (!next || x->deadline_us < next)) {
        next = x->deadline_us;
      }
    }
    host_release(e, h);
  }
  e->queue_deadline_us = next;
}

static void collect(stt_engine *e) {
  CURLMsg *m;
  int left = 0;
  while ((m = curl_multi_info_read(e->multi, &left)) != NULL) {
    if (m->msg == CURLMSG_DONE) {
      xfer *x = NULL;
      CURLcode code = m->data.result;
      curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
      if (x) finish(e, x, code);
    }
  }
}

/* ---------------------------------------------------------------- foreign fds and attachments */
static fdwatch *fw_find(stt_engine *e, int fd) {
  size_t i;
  for (i = 0; i < e->nfw; i++) if (e->fw[i].fd == fd) return &e->fw[i];
  return NULL;
}

int stt_engine_watch_fd(stt_engine *e, int fd, int want_read, int want_write, stt_fd_cb cb, void *ctx) {
  int events = (want_read ? STT_FD_READ : 0) | (want_write ? STT_FD_WRITE : 0), isnew = 0;
  fdwatch *w = fw_find(e, fd);
  if (fd < 0 || !cb) return -1;
  if (w && w->events == events) { w->cb = cb; w->ctx = ctx; return 0; }
  if (!w) {
    if (e->nfw == e->capfw) {            /* grow every per-fd array together (wait() never allocates) */
      size_t cap = e->capfw ? 2 * e->capfw : 4;
      fdwatch *nf = realloc(e->fw, cap * sizeof *nf);
      if (!nf) return -1;
      e->fw = nf;
#ifndef STT_USE_EPOLL
      {
        struct curl_waitfd *nw = realloc(e->wfds, cap * sizeof *nw);
        struct pollfd *np;
        if (!nw) return -1;
        e->wfds = nw;
        np = realloc(e->pfds, cap * sizeof *np);
        if (!np) return -1;
        e->pfds = np;
      }
#endif
      e->capfw = cap;
    }
    w = &e->fw[e->nfw];
    isnew = 1;
  }
#ifdef STT_USE_EPOLL
  {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = (want_read ? EPOLLIN : 0) | (want_write ? EPOLLOUT : 0);
    ev.data.u64 = FOREIGN_TAG | (uint32_t)fd;
    if (isnew) {
      if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, fd, &ev) != 0 &&
          (errno != EEXIST || epoll_ctl(e->epfd, EPOLL_CTL_MOD, fd, &ev) != 0))
        return -1;
    } else if (epoll_ctl(e->epfd, EPOLL_CTL_MOD, fd, &ev) != 0) {
      return -1;
    }
  }
#endif
  if (isnew) e->nfw++;
  w->fd = fd;
  w->events = events;
  w->cb = cb;
  w->ctx = ctx;
  return 0;
}

void stt_engine_unwatch_fd(stt_engine *e, int fd) {
  fdwatch *w = fw_find(e, fd);
  if (!w) return;
#ifdef STT_USE_EPOLL
  {
    int i;
    epoll_ctl(e->epfd, EPOLL_CTL_DEL, fd, NULL);
    for (i = 0; i < e->ev_fill; i++)      /* readiness gathered earlier must not reach a later fd */
      if (e->ev[i].data.u64 == (FOREIGN_TAG | (uint32_t)fd)) e->ev[i].events = 0;
  }
#endif
  *w = e->fw[--e->nfw];
}

long long stt_engine_new_id(stt_engine *e) { return e->next_id++; }

int stt_engine_attach(stt_engine *e, const stt_engine_ext *ops, void *ctx) {
  if (e->next >= MAX_EXTS || !ops) return -1;
  e->ext[e->next].ops = ops;
  e->ext[e->next].ctx = ctx;
  e->next++;
  return 0;
}

void *stt_engine_attached(const stt_engine *e, const stt_engine_ext *ops) {
  size_t i;
  for (i = 0; i < e->next; i++) if (e->ext[i].ops == ops) return e->ext[i].ctx;
  return NULL;
}

/* The nearest attachment timer in ms, -1 none. */
static long ext_timeout(stt_engine *e) {
  long ms = -1;
  size_t i;
  for (i = 0; i < e->next; i++) {
    long t = e->ext[i].ops->timeout_ms(e->ext[i].ctx);
    if (t >= 0 && (ms < 0 || t < ms)) ms = t;
  }
  return ms;
}

static size_t ext_inflight(const stt_engine *e) {
  size_t i, n = 0;
  for (i = 0; i < e->next; i++) n += e->ext[i].ops->inflight(e->ext[i].ctx);
  return n;
}

static void ext_tick(stt_engine *e) {
  size_t i;
  for (i = 0; i < e->next; i++) e->ext[i].ops->tick(e->ext[i].ctx);
}

/* Hand a foreign fd's readiness to its watcher (when it still watches that fd). */
static void fw_dispatch(stt_engine *e, int fd, int events) {
  fdwatch *w = fw_find(e, fd);
  if (w && events) w->cb(w->ctx, fd, events);
}

#ifndef STT_USE_EPOLL
/* The portable path: which foreign fds are ready now (poll without waiting), each to its watcher.
 * Callbacks may watch and unwatch fds meanwhile: pfds is re-read by index, each fd looked up again. */
static void fw_poll(stt_engine *e) {
  size_t i, n = e->nfw;
  if (n == 0) return;
  for (i = 0; i < n; i++) {
    e->pfds[i].fd = e->fw[i].fd;
    e->pfds[i].events = (short)((e->fw[i].events & STT_FD_READ ? POLLIN : 0) | (e->fw[i].events & STT_FD_WRITE ? POLLOUT : 0));
    e->pfds[i].revents = 0;
  }
  if (poll(e->pfds, (nfds_t)n, 0) <= 0) return;
  for (i = 0; i < n; i++) {
    short r = e->pfds[i].revents;
    fw_dispatch(e, e->pfds[i].fd, (r & POLLIN ? STT_FD_READ : 0) | (r & POLLOUT ? STT_FD_WRITE : 0)
                                  | (r & (POLLERR | POLLHUP | POLLNVAL) ? STT_FD_ERROR : 0));
  }
}
#endif

#ifdef STT_USE_EPOLL
/* libcurl's timeout action, when its timer has expired. */
static CURLMcode timer_action(stt_engine *e) {
  int still = 0;
  if (e->timer_us < 0 || now_us() < e->timer_us) return CURLM_OK;
  e->timer_us = -1;
  return curl_multi_socket_action(e->multi, CURL_SOCKET_TIMEOUT, 0, &still);
}
#endif

int stt_engine_perform(stt_engine *e, int *running, char *err, size_t errlen) {
  CURLMcode mc = CURLM_OK;
  int still = 0;
  if (e->performing) { snprintf(err, errlen, "engine perform is not re-entrant"); return -1; }
  e->performing = 1;
  expire_queued(e, now_us());
#ifdef STT_USE_EPOLL
  {
    int i, n = e->nev;
    /* Level-triggered: when wait() did not run this turn, ask the kernel now (no blocking). */
    if (n == 0) n = epoll_wait(e->epfd, e->ev, MAX_EVENTS, 0);
    e->nev = 0;
    e->ev_fill = n > 0 ? n : 0;
    for (i = 0; i < n && mc == CURLM_OK; i++) {
      uint32_t ev = e->ev[i].events;
      if (e->ev[i].data.u64 & FOREIGN_TAG) {
        fw_dispatch(e, (int)(e->ev[i].data.u64 & 0x7fffffff),
                    (ev & EPOLLIN ? STT_FD_READ : 0) | (ev & EPOLLOUT ? STT_FD_WRITE : 0)
                    | (ev & (EPOLLERR | EPOLLHUP) ? STT_FD_ERROR : 0));
        continue;
      }
      mc = curl_multi_socket_action(e->multi, e->ev[i].data.fd,
                                    (ev & EPOLLIN ? CURL_CSELECT_IN : 0) | (ev & EPOLLOUT ? CURL_CSELECT_OUT : 0)
                                    | (ev & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0), &still);
    }
    e->ev_fill = 0;
    if (mc == CURLM_OK) mc = timer_action(e);
  }
  collect(e);
  /* Transfers started by collect() (from a host queue) get their first action at once. */
  if (mc == CURLM_OK && e->timer_us >= 0) {
    mc = timer_action(e);
    collect(e);
  }
#else
  mc = curl_multi_perform(e->multi, &still);
  collect(e);
  fw_poll(e);
#endif
  ext_tick(e);
  *running = (int)(e->nlive + e->nqueued + ext_inflight(e));
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
  if (timeout_ms < 0) timeout_ms = 0;
#ifdef STT_USE_EPOLL
  {
    long t = stt_engine_timeout(e);
    int n;
    if (e->done_head || e->nev > 0) return 1;       /* something to collect already */
    if (t >= 0 && t < timeout_ms) timeout_ms = (int)t;
    n = epoll_wait(e->epfd, e->ev, MAX_EVENTS, timeout_ms);
    if (n < 0) return 0;                               /* EINTR: the caller simply loops */
    e->nev = n;
    return n;
  }
#else
  {
    int n = 0;
    size_t i;
    long t = ext_timeout(e);
    if (t >= 0 && t < timeout_ms) timeout_ms = (int)t;
    for (i = 0; i < e->nfw; i++) {
      e->wfds[i].fd = e->fw[i].fd;
      e->wfds[i].events = (short)((e->fw[i].events & STT_FD_READ ? CURL_WAIT_POLLIN : 0)
                                  | (e->fw[i].events & STT_FD_WRITE ? CURL_WAIT_POLLOUT : 0));
      e->wfds[i].revents = 0;
    }
    return curl_multi_poll(e->multi, e->nfw ? e->wfds : NULL, (unsigned)e->nfw, timeout_ms, &n) == CURLM_OK ? n : -1;
  }
#endif
}

long stt_engine_timeout(stt_engine *e) {
  long ms = -1;
  long long now = 0;
  if (e->done_head) return 0;
#ifdef STT_USE_EPOLL
  if (e->timer_us >= 0) {
    now = now_us();
    ms = e->timer_us <= now ? 0 : (long)((e->timer_us - now + 999) / 1000);
  }
#else
  curl_multi_timeout(e->multi, &ms);
#endif
  if (e->queue_deadline_us) {
    long q;
    if (!now) now = now_us();
    q = e->queue_deadline_us <= now ? 0 : (long)((e->queue_deadline_us - now + 999) / 1000);
    if (ms < 0 || q < ms) ms = q;
  }
  if (e->next) {
    long x = ext_timeout(e);
    if (x >= 0 && (ms < 0 || x < ms)) ms = x;
  }
  return ms;
}

int stt_engine_progress(const stt_engine *e, long long id, long long *sent, long long *total) {
  const xfer *x;
  const host *h;
  for (x = e->live; x; x = x->next) {
    if (x->id == id) { *sent = x->up_sent; *total = x->up_total; return 1; }
  }
  for (h = e->hosts; h; h = h->next)
    for (x = h->qhead; x; x = x->next)
      if (x->id == id) { *sent = 0; *total = 0; return 1; }
  return 0;
}

int stt_engine_cancel(stt_engine *e, long long id) {
  xfer *x;
  host *h;
  done_node *d, *prev = NULL;
  for (x = e->live; x; x = x->next) {
    if (x->id == id) {
      h = x->host;
      curl_multi_remove_handle(e->multi, x->easy);
      curl_easy_cleanup(x->easy);    /* not recycled: its state is mid-transfer */
      x->easy = NULL;
      unlink_live(e, x);
      xfer_free(x);
      pump(e, h);
      return 1;
    }
  }
  for (h = e->hosts; h; h = h->next) {
    for (x = h->qhead; x; x = x->next) {
      if (x->id == id) {
        queue_unlink(e, h, x);
        xfer_free(x);
        host_release(e, h);
        return 1;
      }
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

size_t stt_engine_inflight(const stt_engine *e) { return e->nlive + e->nqueued + ext_inflight(e); }

void stt_engine_get_stats(const stt_engine *e, stt_engine_stats *s) {
  const host *h;
  memset(s, 0, sizeof *s);
  s->running = e->nlive;
  s->queued = e->nqueued;
  s->spare_handles = e->nspare;
  s->handles_created = e->handles_created;
  s->host_limit = e->host_limit;
  for (h = e->hosts; h; h = h->next) s->hosts++;
}
