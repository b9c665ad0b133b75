/* engine.h - the HTTP engine: libcurl multi only, never blocking except stt_engine_wait().
 * Pure C (no Lua): the binding drives it with add / perform / next_done / wait.
 * Ownership: the engine owns every transfer from add() until next_done() hands a response to the
 * caller, who then owns it and frees it with stt_resp_free(). stt_engine_free() frees everything. */
#ifndef STT_ENGINE_H
#define STT_ENGINE_H
#include <stddef.h>
#include "buf.h"

typedef struct stt_engine stt_engine;

typedef struct stt_engine_opts {
  long max_host_connections;   /* transfers running per host at once (the rest wait their turn in
                                  the engine, without a libcurl handle); 0 = 64 */
  long max_total_connections;  /* 0 = unlimited */
} stt_engine_opts;

typedef struct stt_http_req {
  const char *method;               /* "GET", "POST", ... */
  const char *url;
  const char *const *headers;       /* "Name: value" lines */
  size_t nheaders;
  const char *body;                 /* copied by add() */
  size_t body_len;
  int has_body;
  long timeout_ms;                  /* whole transfer; 0 = none */
  long connect_timeout_ms;          /* 0 = libcurl default */
  size_t max_body;                  /* response-size cap in bytes; 0 = 64 MiB */
  int insecure;                     /* 1 = skip TLS verification (only when the caller asks) */
  int fresh_connect;                /* 1 = a new connection: libcurl re-sends a request by itself when
                                       a reused connection dies before the answer, which must never
                                       happen to a submit (it could create, and bill, a second task) */
  const char *ca_file;              /* extra CA bundle, or NULL */
  long host_limit;                  /* transfers at once to this request's host; 0 = the engine's
                                       max_host_connections (the latest non-zero value wins) */
  /* A body streamed from disk as it is sent (never whole in memory): `body` (when given) is its
   * prefix, then the file at body_file (base64-encoded when body_file_base64), then body_suffix.
   * With form_* set, the request is multipart/form-data instead: the fields form_names[i] =
   * form_values[i] in order, then body_file as the part named form_file_field (file name
   * form_file_name, Content-Type form_file_type), last. Paths and strings are copied by add(). */
  const char *body_file;
  int body_file_base64;
  const char *body_suffix;
  size_t body_suffix_len;
  const char *const *form_names;
  const char *const *form_values;
  size_t nform;
  const char *form_file_field, *form_file_name, *form_file_type;
} stt_http_req;

/* Failure classes of a transfer (no HTTP status involved). */
typedef enum {
  STT_HTTP_OK = 0,
  STT_HTTP_NETWORK,     /* connect/resolve/reset/... */
  STT_HTTP_TIMEOUT,     /* connect or total timeout */
  STT_HTTP_TLS,         /* certificate or handshake failure */
  STT_HTTP_TOO_LARGE,   /* response over the size cap */
  STT_HTTP_PROTOCOL     /* malformed HTTP, truncated body, ... */
} stt_http_fail;

typedef struct stt_http_resp {
  long long id;
  long status;           /* HTTP status of the final response, 0 when none */
  stt_buf headers;       /* the final response's fields: "name\0value\0" pairs, in order */
  stt_buf body;
  stt_http_fail fail;
  int curl_code;
  char errmsg[256];
  int sent;              /* the request reached the server side (connection up, sending began) */
  long http_version;     /* 10, 11, 20, 30; 0 unknown */
  long new_connections;  /* 0 when the transfer reused a connection */
  double total_s;
} stt_http_resp;

const char *stt_http_fail_name(stt_http_fail f);  /* "network", "timeout", "tls", "too_large", "protocol" */

stt_engine *stt_engine_new(const stt_engine_opts *o, char *err, size_t errlen);
void        stt_engine_free(stt_engine *e);                    /* NULL is fine */
/* Queue a request; returns its id (> 0) or -1 with err set. */
long long   stt_engine_add(stt_engine *e, const stt_http_req *r, char *err, size_t errlen);
/* Drive transfers and watched fds; *running = transfers still in flight, plus the attachments'
 * operations in flight. Returns 0 or -1 (err set). */
int         stt_engine_perform(stt_engine *e, int *running, char *err, size_t errlen);
/* Pop one finished transfer (caller owns it), or NULL. */
stt_http_resp *stt_engine_next_done(stt_engine *e);
void        stt_resp_free(stt_http_resp *r);
/* Block up to timeout_ms for socket activity, watched fds included (epoll_wait; curl_multi_poll
 * off Linux), and no longer than the next timer of libcurl or an attachment. */
int         stt_engine_wait(stt_engine *e, int timeout_ms);
/* Milliseconds until libcurl or an attachment wants perform() again; -1 = no timer set. */
long        stt_engine_timeout(stt_engine *e);
/* Bytes of the request body sent so far and its total (0 when it has none) of a running or
 * waiting transfer: 1, or 0 when the id is not in flight. */
int         stt_engine_progress(const stt_engine *e, long long id, long long *sent, long long *total);
/* Abort one transfer; 1 if it was in flight (or finished but not yet collected), 0 otherwise. */
int         stt_engine_cancel(stt_engine *e, long long id);
size_t      stt_engine_inflight(const stt_engine *e);   /* running + waiting for a slot + attachments' */
typedef struct stt_engine_stats {
  size_t running, queued, spare_handles, hosts;
  long long handles_created;
  long host_limit;
} stt_engine_stats;
void        stt_engine_get_stats(const stt_engine *e, stt_engine_stats *s);

/* ---- Foreign file descriptors and attachments: other clients (the Redis client, redis.c) ride the
 * same event loop. A watched fd is polled beside libcurl's sockets (epoll, or curl_multi_poll's
 * extra fds on the portable path); perform() hands its readiness to `cb` (never to libcurl), and
 * wait() wakes for it. Errors and hang-ups are always reported, even with no interest set. */
enum { STT_FD_READ = 1, STT_FD_WRITE = 2, STT_FD_ERROR = 4 };
typedef void (*stt_fd_cb)(void *ctx, int fd, int events);     /* events: STT_FD_* bits */
/* Watch fd (or change what is watched); 0, or -1 (out of memory, epoll_ctl failed). cb may watch
 * and unwatch any fd, its own included, but must not call perform() or free the engine. */
int         stt_engine_watch_fd(stt_engine *e, int fd, int want_read, int want_write, stt_fd_cb cb, void *ctx);
/* Stop watching fd (before it is closed); readiness already gathered for it is dropped. */
void        stt_engine_unwatch_fd(stt_engine *e, int fd);
/* A fresh id from the counter that numbers transfers (so ids of attachments never clash). */
long long   stt_engine_new_id(stt_engine *e);
/* An attachment: state that lives and dies with the engine (at most 4 per engine). */
typedef struct stt_engine_ext {
  void   (*tick)(void *ctx);          /* in perform(), after the fds were dispatched: expire deadlines */
  long   (*timeout_ms)(void *ctx);    /* ms until tick() has work (0: results wait to be collected); -1 none */
  size_t (*inflight)(void *ctx);      /* operations in flight: counted in perform()'s running and inflight() */
  void   (*free)(void *ctx);          /* the engine is being freed; runs first, while fds can still be unwatched */
} stt_engine_ext;
int         stt_engine_attach(stt_engine *e, const stt_engine_ext *ops, void *ctx);   /* 0, or -1: no slot */
void       *stt_engine_attached(const stt_engine *e, const stt_engine_ext *ops);      /* its ctx, or NULL */

/* libcurl's one-time process init (the only global state); safe to call repeatedly. */
int         stt_engine_global_init(void);
const char *stt_engine_curl_version(void);
int         stt_engine_has_async_dns(void);
int         stt_engine_has_http2(void);
#endif
