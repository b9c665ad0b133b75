/* redis.c - Redis over hiredis's async API, in the engine's event loop. See redis.h.
 *
 * The event adapter: hiredis asks for read/write interest through ac->ev (addRead, delRead,
 * addWrite, delWrite, cleanup); we keep the engine's watch of the socket equal to it, and the
 * engine hands the socket's readiness back to on_fd(), which calls redisAsyncHandleRead/Write.
 * hiredis (0.14) knows no timeouts: command and connect deadlines are ours, checked by the hub's
 * tick() in every perform(). A command whose time runs out finishes with TIMEOUT and takes the
 * connection down with it (a late reply could no longer be matched to its command); the others
 * in flight finish with NETWORK.
 *
 * Callbacks only copy and queue: on_reply() copies the reply (hiredis frees its own after the
 * callback returns) into the command, which moves to the hub's done queue; no Lua, no I/O.
 * redisAsyncFree() is only ever called from outside hiredis's callbacks (tick, close, the engine's
 * end), so it runs every pending callback (reply NULL) and the cleanup hook at once, before it
 * returns: after it, no hiredis state refers to our commands or connection. */
#include "redis.h"
#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>

typedef struct cmd {
  stt_redis_done d;             /* first member: a stt_redis_done * is its cmd */
  stt_redis_conn *conn;         /* while in flight */
  long long deadline_us;        /* sent + timeout; 0 = none */
  long timeout_ms;
  int preset;                   /* d.fail and d.errmsg are already decided (it timed out) */
  struct cmd *prev, *next;      /* in conn's in-flight list; then in the hub's done queue (next only) */
} cmd;

enum { C_CONNECTING, C_UP, C_DOWN };

struct stt_redis_conn {
  stt_redis_hub *hub;
  long long id;
  redisAsyncContext *ac;        /* NULL once down */
  int fd;                       /* -1 once down */
  int events;                   /* what the engine watches for us (STT_FD_*), -1 not yet watched */
  int state;
  int watch_failed;             /* the engine could not watch the socket: tick() drops it */
  long connect_timeout_ms;
  long long connect_deadline_us;
  cmd *phead, *ptail;           /* in flight, oldest first */
  char where[96];               /* "redis HOST:PORT", the prefix of every message */
  stt_redis_fail drop_fail;     /* while we drop the connection: what its commands finish with */
  char drop_msg[160];
  char why[200];                /* why it is down */
  stt_redis_conn *prev, *next;
};

struct stt_redis_hub {
  stt_engine *e;
  stt_redis_conn *conns;
  cmd *dhead, *dtail;           /* finished, oldest first */
  size_t inflight;
  long long next_conn_id;
  long long next_deadline_us;   /* earliest command/connect deadline (may be early); 0 = none */
};

const char *stt_redis_fail_name(stt_redis_fail f) {
  switch (f) {
    case STT_REDIS_OK: return "ok";
    case STT_REDIS_NETWORK: return "network";
    case STT_REDIS_TIMEOUT: return "timeout";
    case STT_REDIS_PROTOCOL: return "protocol";
  }
  return "network";
}

static long long now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---------------------------------------------------------------- replies */
static void reply_free(stt_redis_reply *r) {
  size_t i;
  if (!r) return;
  for (i = 0; i < r->elements; i++) reply_free(r->element[i]);
  free(r->element);
  free(r->str);
  free(r);
}

/* A deep copy of hiredis's reply (nesting is bounded by hiredis's reader); NULL: out of memory. */
static stt_redis_reply *reply_copy(const redisReply *r) {
  stt_redis_reply *o = calloc(1, sizeof *o);
  size_t i;
  if (!o) return NULL;
  switch (r->type) {
    case REDIS_REPLY_STRING: case REDIS_REPLY_STATUS: case REDIS_REPLY_ERROR:
      o->type = r->type == REDIS_REPLY_STRING ? STT_REDIS_STRING
              : r->type == REDIS_REPLY_STATUS ? STT_REDIS_STATUS : STT_REDIS_ERROR;
      o->str = malloc(r->len + 1);
      if (!o->str) { free(o); return NULL; }
      if (r->len) memcpy(o->str, r->str, r->len);
      o->str[r->len] = '\0';
      o->len = r->len;
      break;
    case REDIS_REPLY_INTEGER:
      o->type = STT_REDIS_INTEGER;
      o->integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      o->type = STT_REDIS_ARRAY;
      if (r->elements) {
        o->element = calloc(r->elements, sizeof *o->element);
        if (!o->element) { free(o); return NULL; }
        for (i = 0; i < r->elements; i++) {
          if (!(o->element[i] = reply_copy(r->element[i]))) { o->elements = i; reply_free(o); return NULL; }
        }
        o->elements = r->elements;
      }
      break;
    default:
      o->type = STT_REDIS_NIL;
      break;
  }
  return o;
}

/* ---------------------------------------------------------------- commands */
static void pending_unlink(stt_redis_conn *c, cmd *k) {
  if (k->prev) k->prev->next = k->next; else c->phead = k->next;
  if (k->next) k->next->prev = k->prev; else c->ptail = k->prev;
  k->prev = k->next = NULL;
}

/* k leaves its connection for the done queue. */
static void finish(stt_redis_conn *c, cmd *k) {
  stt_redis_hub *h = c->hub;
  pending_unlink(c, k);
  k->conn = NULL;
  h->inflight--;
  if (h->dtail) h->dtail->next = k; else h->dhead = k;
  h->dtail = k;
}

/* What a command gets when its connection goes without answering it. */
static void fail_unanswered(stt_redis_conn *c, cmd *k, const redisContext *rc) {
  if (k->preset) return;
  if (c->drop_msg[0]) {
    k->d.fail = c->drop_fail;
    snprintf(k->d.errmsg, sizeof k->d.errmsg, "%s: %s", c->where, c->drop_msg);
  } else if (rc && rc->err) {
    k->d.fail = rc->err == REDIS_ERR_PROTOCOL ? STT_REDIS_PROTOCOL : STT_REDIS_NETWORK;
    snprintf(k->d.errmsg, sizeof k->d.errmsg, "%s: %s", c->where, rc->errstr);
  } else {
    k->d.fail = STT_REDIS_NETWORK;
    snprintf(k->d.errmsg, sizeof k->d.errmsg, "%s: connection closed", c->where);
  }
}

/* hiredis's reply callback (reply NULL: the connection is going away without answering). */
static void on_reply(redisAsyncContext *ac, void *reply, void *privdata) {
  cmd *k = privdata;
  stt_redis_conn *c = k->conn;
  if (reply) {
    k->d.reply = reply_copy(reply);
    if (!k->d.reply) {
      k->d.fail = STT_REDIS_PROTOCOL;
      snprintf(k->d.errmsg, sizeof k->d.errmsg, "%s: out of memory copying a reply", c->where);
    }
  } else {
    fail_unanswered(c, k, &ac->c);
  }
  finish(c, k);
}

/* ---------------------------------------------------------------- the event adapter */
static void on_fd(void *ctx, int fd, int events);

static void set_watch(stt_redis_conn *c, int events) {
  if (c->fd < 0 || events == c->events) return;
  if (stt_engine_watch_fd(c->hub->e, c->fd, events & STT_FD_READ, events & STT_FD_WRITE, on_fd, c) != 0) {
    c->watch_failed = 1;
    c->hub->next_deadline_us = 1;          /* the next tick drops it */
    return;
  }
  c->events = events;
}

static int cur_events(const stt_redis_conn *c) { return c->events < 0 ? 0 : c->events; }
static void ev_add_read(void *p) { stt_redis_conn *c = p; set_watch(c, cur_events(c) | STT_FD_READ); }
static void ev_del_read(void *p) { stt_redis_conn *c = p; set_watch(c, cur_events(c) & ~STT_FD_READ); }
static void ev_add_write(void *p) { stt_redis_conn *c = p; set_watch(c, cur_events(c) | STT_FD_WRITE); }
static void ev_del_write(void *p) { stt_redis_conn *c = p; set_watch(c, cur_events(c) & ~STT_FD_WRITE); }

/* hiredis is about to free the context (after every pending callback ran): forget the socket. */
static void ev_cleanup(void *p) {
  stt_redis_conn *c = p;
  const redisContext *rc = c->ac ? &c->ac->c : NULL;
  if (c->fd >= 0 && c->events >= 0) stt_engine_unwatch_fd(c->hub->e, c->fd);
  c->fd = -1;
  if (c->drop_msg[0]) snprintf(c->why, sizeof c->why, "%s", c->drop_msg);
  else if (rc && rc->err) snprintf(c->why, sizeof c->why, "%s", rc->errstr);
  else snprintf(c->why, sizeof c->why, "connection closed");
  c->state = C_DOWN;
  c->ac = NULL;
}

static void on_connect(const redisAsyncContext *ac, int status) {
  stt_redis_conn *c = ac->data;
  if (status == REDIS_OK) {
    c->state = C_UP;
    c->connect_deadline_us = 0;
  }
}

/* Bytes waiting in the socket's receive buffer (0 when unknown). */
static int bytes_waiting(int fd) {
#ifdef FIONREAD
  int n = 0;
  return ioctl(fd, FIONREAD, &n) == 0 ? n : 0;
#else
  (void)fd;
  return 0;
#endif
}

/* hiredis writes with write(2): a peer that has gone would raise SIGPIPE, which kills a Lua
 * process. Block it for the call and take back one that it raised (the thread's mask is restored;
 * a SIGPIPE the program itself blocks and has pending is left alone). */
static void handle_write(redisAsyncContext *ac) {
  sigset_t pipe_set, old, pending;
  int was_pending = 0;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  if (pthread_sigmask(SIG_BLOCK, &pipe_set, &old) != 0) { redisAsyncHandleWrite(ac); return; }
  if (sigpending(&pending) == 0) was_pending = sigismember(&pending, SIGPIPE);
  redisAsyncHandleWrite(ac);
  if (!was_pending && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE)) {
    struct timespec zero = { 0, 0 };
    sigtimedwait(&pipe_set, NULL, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void on_fd(void *ctx, int fd, int events) {
  stt_redis_conn *c = ctx;
  int i;
  (void)fd;
  if (!c->ac) return;
  if (events & (STT_FD_READ | STT_FD_ERROR)) {
    redisAsyncHandleRead(c->ac);
    /* hiredis reads 16 KiB a call: a large reply is read on while bytes wait, up to 4 MiB a turn */
    for (i = 0; i < 256 && c->ac && c->state == C_UP && bytes_waiting(c->fd) > 0; i++)
      redisAsyncHandleRead(c->ac);
  }
  if (c->ac && (events & STT_FD_WRITE)) handle_write(c->ac);
}

/* ---------------------------------------------------------------- connections */
/* Take c down ourselves: every command in flight finishes (fail/msg unless already decided). */
static void drop(stt_redis_conn *c, stt_redis_fail fail, const char *msg) {
  c->drop_fail = fail;
  snprintf(c->drop_msg, sizeof c->drop_msg, "%s", msg);
  if (c->ac) redisAsyncFree(c->ac);       /* runs every pending callback, then ev_cleanup */
  if (c->ac) ev_cleanup(c);               /* (never: hiredis always calls cleanup) */
  while (c->phead) {                      /* a command hiredis lost track of (out of memory) */
    fail_unanswered(c, c->phead, NULL);
    finish(c, c->phead);
  }
}

stt_redis_conn *stt_redis_connect(stt_redis_hub *h, const char *host, int port, long connect_timeout_ms,
                                  char *err, size_t errlen) {
  stt_redis_conn *c = calloc(1, sizeof *c);
  redisAsyncContext *ac;
  if (!c) { snprintf(err, errlen, "out of memory"); return NULL; }
  snprintf(c->where, sizeof c->where, strchr(host, ':') ? "redis [%s]:%d" : "redis %s:%d", host, port);
  ac = redisAsyncConnect(host, port);
  if (!ac) { snprintf(err, errlen, "%s: out of memory", c->where); free(c); return NULL; }
  if (ac->err) {
    snprintf(err, errlen, "%s: %s", c->where, ac->c.errstr);
    redisAsyncFree(ac);
    free(c);
    return NULL;
  }
  c->hub = h;
  c->id = h->next_conn_id++;
  c->ac = ac;
  c->fd = ac->c.fd;
  c->events = -1;
  c->state = C_CONNECTING;
  c->connect_timeout_ms = connect_timeout_ms;
  ac->data = c;
  ac->ev.data = c;
  ac->ev.addRead = ev_add_read;
  ac->ev.delRead = ev_del_read;
  ac->ev.addWrite = ev_add_write;
  ac->ev.delWrite = ev_del_write;
  ac->ev.cleanup = ev_cleanup;
  c->next = h->conns;
  if (h->conns) h->conns->prev = c;
  h->conns = c;
  redisAsyncSetConnectCallback(ac, on_connect);     /* also watches for writable: the connect's end */
  if (connect_timeout_ms > 0) {
    c->connect_deadline_us = now_us() + (long long)connect_timeout_ms * 1000;
    if (!h->next_deadline_us || c->connect_deadline_us < h->next_deadline_us)
      h->next_deadline_us = c->connect_deadline_us;
  }
  return c;
}

long long stt_redis_conn_id(const stt_redis_conn *c) { return c->id; }

stt_redis_conn *stt_redis_find(stt_redis_hub *h, long long conn_id) {
  stt_redis_conn *c;
  if (!h) return NULL;
  for (c = h->conns; c; c = c->next) if (c->id == conn_id) return c;
  return NULL;
}

int stt_redis_usable(const stt_redis_conn *c, char *why, size_t whylen) {
  if (c->ac) return 1;
  snprintf(why, whylen, "%s: connection closed (%s)", c->where, c->why);
  return 0;
}

static int arg_is(const char *a, size_t n, const char *word) {
  size_t i;
  if (strlen(word) != n) return 0;
  for (i = 0; i < n; i++) {
    char ch = a[i];
    if (ch >= 'A' && ch <= 'Z') ch = (char)(ch + 32);
    if (ch != word[i]) return 0;
  }
  return 1;
}

/* Commands whose replies are not one per command (pub/sub, MONITOR, replication, RESP3): hiredis
 * would hand them to the wrong command, or abort on a reply nobody asked for. */
static int refused(int argc, const char **argv, const size_t *len) {
  static const char *const words[] = { "subscribe", "psubscribe", "ssubscribe", "unsubscribe",
                                       "punsubscribe", "sunsubscribe", "monitor", "sync", "psync" };
  size_t i;
  for (i = 0; i < sizeof words / sizeof words[0]; i++) if (arg_is(argv[0], len[0], words[i])) return 1;
  if (arg_is(argv[0], len[0], "hello") && !(argc >= 2 && arg_is(argv[1], len[1], "2"))) return 1;
  return 0;
}

long long stt_redis_send(stt_redis_conn *c, int argc, const char **argv, const size_t *argvlen,
                         long timeout_ms, char *err, size_t errlen) {
  stt_redis_hub *h = c->hub;
  cmd *k;
  if (!c->ac) { stt_redis_usable(c, err, errlen); return -1; }
  if (argc < 1) { snprintf(err, errlen, "%s: a command needs at least its name", c->where); return -1; }
  if (refused(argc, argv, argvlen)) {
    snprintf(err, errlen, "%s: %.*s is not supported here (its replies do not answer one command each)",
             c->where, (int)(argvlen[0] > 32 ? 32 : argvlen[0]), argv[0]);
    return -1;
  }
  k = calloc(1, sizeof *k);
  if (!k) { snprintf(err, errlen, "%s: out of memory", c->where); return -1; }
  k->conn = c;
  k->timeout_ms = timeout_ms > 0 ? timeout_ms : 0;
  k->deadline_us = timeout_ms > 0 ? now_us() + (long long)timeout_ms * 1000 : 0;
  k->prev = c->ptail;
  if (c->ptail) c->ptail->next = k; else c->phead = k;
  c->ptail = k;
  if (redisAsyncCommandArgv(c->ac, on_reply, k, argc, argv, argvlen) != REDIS_OK) {
    pending_unlink(c, k);
    free(k);
    snprintf(err, errlen, "%s: cannot queue the command (out of memory)", c->where);
    return -1;
  }
  k->d.id = stt_engine_new_id(h->e);
  h->inflight++;
  if (k->deadline_us && (!h->next_deadline_us || k->deadline_us < h->next_deadline_us))
    h->next_deadline_us = k->deadline_us;
  return k->d.id;
}

void stt_redis_close(stt_redis_conn *c) {
  stt_redis_hub *h = c->hub;
  drop(c, STT_REDIS_NETWORK, "connection closed");
  if (c->prev) c->prev->next = c->next; else h->conns = c->next;
  if (c->next) c->next->prev = c->prev;
  free(c);
}

/* ---------------------------------------------------------------- the hub (an engine attachment) */
static long long conn_next_deadline(const stt_redis_conn *c) {
  long long next = c->state == C_CONNECTING ? c->connect_deadline_us : 0;
  const cmd *k;
  for (k = c->phead; k; k = k->next)
    if (k->deadline_us && (!next || k->deadline_us < next)) next = k->deadline_us;
  return next;
}

static void hub_tick(void *ctx) {
  stt_redis_hub *h = ctx;
  stt_redis_conn *c;
  long long now, next = 0;
  if (!h->next_deadline_us) return;
  now = now_us();
  if (now < h->next_deadline_us) return;
  for (c = h->conns; c; c = c->next) {
    cmd *k;
    long long cn;
    char msg[160];
    if (!c->ac) continue;
    if (c->watch_failed) { drop(c, STT_REDIS_NETWORK, "the engine cannot watch the socket"); continue; }
    if (c->state == C_CONNECTING && c->connect_deadline_us && c->connect_deadline_us <= now) {
      snprintf(msg, sizeof msg, "connect timed out after %ld ms", c->connect_timeout_ms);
      drop(c, STT_REDIS_NETWORK, msg);
      continue;
    }
    for (k = c->phead; k; k = k->next) if (k->deadline_us && k->deadline_us <= now) break;
    if (k) {
      k->preset = 1;
      k->d.fail = STT_REDIS_TIMEOUT;
      snprintf(k->d.errmsg, sizeof k->d.errmsg, "%s: command timed out after %ld ms (connection dropped)",
               c->where, k->timeout_ms);
      drop(c, STT_REDIS_NETWORK, "connection dropped: a command on it timed out, so later replies "
                                 "could not be matched to their commands");
      continue;
    }
    cn = conn_next_deadline(c);
    if (cn && (!next || cn < next)) next = cn;
  }
  h->next_deadline_us = next;
}

/* Whether a deadline may still fire with no command in flight: a connect under way, or a socket
 * the engine could not watch (dropped by the next tick). */
static int hub_pending(const stt_redis_hub *h) {
  const stt_redis_conn *c;
  if (h->inflight) return 1;
  for (c = h->conns; c; c = c->next)
    if (c->ac && (c->watch_failed || (c->state == C_CONNECTING && c->connect_deadline_us))) return 1;
  return 0;
}

/* The next deadline is kept lazily (tick() recomputes it only when it has passed), so with
 * nothing in flight it may be stale: then there is nothing to time, and saying 0 would make an
 * idle loop that waits on timers alone spin. */
static long hub_timeout(void *ctx) {
  stt_redis_hub *h = ctx;
  long long now;
  if (h->dhead) return 0;
  if (!h->next_deadline_us || !hub_pending(h)) return -1;
  now = now_us();
  return h->next_deadline_us <= now ? 0 : (long)((h->next_deadline_us - now + 999) / 1000);
}

static size_t hub_inflight(void *ctx) { return ((stt_redis_hub *)ctx)->inflight; }

static void hub_free(void *ctx) {
  stt_redis_hub *h = ctx;
  while (h->conns) stt_redis_close(h->conns);
  while (h->dhead) stt_redis_done_free(stt_redis_pop_done(h));
  free(h);
}

static const stt_engine_ext hub_ops = { hub_tick, hub_timeout, hub_inflight, hub_free };

stt_redis_hub *stt_redis_hub_of(stt_engine *e, int create) {
  stt_redis_hub *h = stt_engine_attached(e, &hub_ops);
  if (h || !create) return h;
  h = calloc(1, sizeof *h);
  if (!h) return NULL;
  h->e = e;
  h->next_conn_id = 1;
  if (stt_engine_attach(e, &hub_ops, h) != 0) { free(h); return NULL; }
  return h;
}

stt_redis_done *stt_redis_peek_done(stt_redis_hub *h) { return h && h->dhead ? &h->dhead->d : NULL; }

stt_redis_done *stt_redis_pop_done(stt_redis_hub *h) {
  cmd *k = h ? h->dhead : NULL;
  if (!k) return NULL;
  h->dhead = k->next;
  if (!h->dhead) h->dtail = NULL;
  k->next = NULL;
  return &k->d;
}

void stt_redis_done_free(stt_redis_done *d) {
  if (!d) return;
  reply_free(d->reply);
  free((cmd *)d);
}

size_t stt_redis_inflight(const stt_redis_hub *h) { return h ? h->inflight : 0; }
