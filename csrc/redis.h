/* redis.h - Redis connections owned by an engine (engine.h), over hiredis's async API, driven by
 * the engine's event loop: never blocking, no Lua. Each connection's socket is a foreign fd of the
 * engine; hiredis callbacks only copy replies into C structures and queue the finished command.
 *
 * Ownership: an engine has at most one hub (made on first use, freed with the engine), which owns
 * its connections and every command from send() until stt_redis_pop_done() hands the finished
 * command to the caller (who frees it with stt_redis_done_free()). A connection lives until
 * stt_redis_close() or the engine's end; once broken (server gone, a command timed out, connect
 * failed) it stays as a closed record that remembers why, until closed. Command ids come from the
 * engine's transfer counter, so they never clash with HTTP ids. */
#ifndef STT_REDIS_H
#define STT_REDIS_H
#include <stddef.h>
#include "engine.h"

typedef struct stt_redis_hub stt_redis_hub;
typedef struct stt_redis_conn stt_redis_conn;

typedef enum {
  STT_REDIS_OK = 0,
  STT_REDIS_NETWORK,     /* connect failed, connection lost or closed, dropped after another command timed out */
  STT_REDIS_TIMEOUT,     /* this command's own time ran out (the connection is dropped too) */
  STT_REDIS_PROTOCOL     /* a malformed reply (the connection is dropped) */
} stt_redis_fail;

typedef enum {
  STT_REDIS_STRING, STT_REDIS_STATUS, STT_REDIS_INTEGER, STT_REDIS_NIL, STT_REDIS_ARRAY, STT_REDIS_ERROR
} stt_redis_type;

/* A reply, copied out of hiredis's (every node and string owned by its parent). */
typedef struct stt_redis_reply {
  stt_redis_type type;
  long long integer;                  /* INTEGER */
  char *str;                          /* STRING, STATUS, ERROR: len bytes (and a NUL after them) */
  size_t len;
  size_t elements;                    /* ARRAY */
  struct stt_redis_reply **element;
} stt_redis_reply;

/* A finished command. */
typedef struct stt_redis_done {
  long long id;
  stt_redis_fail fail;
  char errmsg[384];                   /* when fail != OK: "redis HOST:PORT: ..." (no arguments, no password) */
  stt_redis_reply *reply;             /* when fail == OK (an error reply is a reply: type ERROR) */
} stt_redis_done;

const char *stt_redis_fail_name(stt_redis_fail f);       /* "ok", "network", "timeout", "protocol" */

/* The engine's hub; made on first use when create is set. NULL when none (or out of memory). */
stt_redis_hub  *stt_redis_hub_of(stt_engine *e, int create);
/* Start connecting (asynchronously; a numeric address never blocks, a host name is resolved with
 * getaddrinfo). Commands sent meanwhile are queued and go out once connected. connect_timeout_ms
 * 0 = none. Returns the connection, or NULL with err set when it failed at once (refused, bad
 * address). */
stt_redis_conn *stt_redis_connect(stt_redis_hub *h, const char *host, int port, long connect_timeout_ms,
                                  char *err, size_t errlen);
long long       stt_redis_conn_id(const stt_redis_conn *c);                  /* > 0, unique per hub */
stt_redis_conn *stt_redis_find(stt_redis_hub *h, long long conn_id);         /* NULL once closed */
/* 1 when commands can be sent; else 0 with why set (why the connection is closed). */
int             stt_redis_usable(const stt_redis_conn *c, char *why, size_t whylen);
/* Queue one command (binary-safe arguments); timeout_ms 0 = none. Returns its id, or -1 with err
 * set (connection closed, a command this client cannot serve: (P)SUBSCRIBE, (P)UNSUBSCRIBE,
 * MONITOR; out of memory). */
long long       stt_redis_send(stt_redis_conn *c, int argc, const char **argv, const size_t *argvlen,
                               long timeout_ms, char *err, size_t errlen);
/* Close and free c; its commands in flight finish with NETWORK "connection closed". */
void            stt_redis_close(stt_redis_conn *c);
/* The oldest finished command, still queued (NULL when none); pop removes it: the caller owns it. */
stt_redis_done *stt_redis_peek_done(stt_redis_hub *h);
stt_redis_done *stt_redis_pop_done(stt_redis_hub *h);
void            stt_redis_done_free(stt_redis_done *d);
size_t          stt_redis_inflight(const stt_redis_hub *h);                  /* sent, not finished */

/* The Lua binding of this module (stt_core_redis.c), called by stt_core.c, and the one thing it
 * needs from stt_core.c. */
struct lua_State;
void        stt_core_redis_open(struct lua_State *L);   /* engine:redis_connect and the connection metatable */
int         stt_core_redis_push_done(struct lua_State *L, stt_engine *e, int next_index);
stt_engine *stt_core_engine_at(struct lua_State *L, int idx);   /* the engine of an engine userdata; NULL: closed or not one */
#endif
