/* providers.c - the schema registry and the helpers every schema shares (see provider.h). */
#include "provider.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const stt_provider *const registry[] = {
  &stt_provider_dashscope,
};

#define REGISTRY_SIZE ((int)(sizeof registry / sizeof registry[0]))

const stt_provider *stt_provider_find(const char *name) {
  int i;
  if (!name) return NULL;
  for (i = 0; i < REGISTRY_SIZE; i++)
    if (strcmp(registry[i]->name, name) == 0) return registry[i];
  return NULL;
}

const stt_provider *stt_provider_at(int i) {
  return i >= 0 && i < REGISTRY_SIZE ? registry[i] : NULL;
}

/* Members are added in the order of the error-object description in provider.h; optional ones
 * only when set (status > 0, non-empty code / request_id). On oom the result is NULL. */
stt_json *stt_make_error(stt_arena *a, const char *provider, const char *kind, int status,
                         const char *code, const char *request_id, int retryable,
                         const char *fmt, ...) {
  stt_json *e = stt_jobj(a);
  char msg[1024];
  va_list ap;
  int bad = 0;
  if (!e) return NULL;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  bad |= stt_jset(a, e, "kind", stt_jstr(a, kind ? kind : "protocol"));
  bad |= stt_jset(a, e, "message", stt_jstr(a, msg));
  if (provider) bad |= stt_jset(a, e, "provider", stt_jstr(a, provider));
  if (status > 0) bad |= stt_jset(a, e, "status", stt_jint(a, status));
  if (code && *code) bad |= stt_jset(a, e, "code", stt_jstr(a, code));
  if (request_id && *request_id) bad |= stt_jset(a, e, "request_id", stt_jstr(a, request_id));
  bad |= stt_jset(a, e, "retryable", stt_jbool(a, retryable));
  return bad ? NULL : e;
}

stt_json *stt_req_new(stt_arena *a, const char *method, const char *url) {
  stt_json *r = stt_jobj(a);
  if (!r) return NULL;
  if (stt_jset(a, r, "method", stt_jstr(a, method)) ||
      stt_jset(a, r, "url", stt_jstr(a, url)) ||
      stt_jset(a, r, "headers", stt_jarr(a)))
    return NULL;
  return r;
}

int stt_req_header(stt_arena *a, stt_json *req, const char *name, const char *value) {
  stt_json *headers = stt_jget(req, "headers");
  stt_json *pair = stt_jarr(a);
  if (!headers || !pair) return -1;
  if (stt_jpush(pair, stt_jstr(a, name)) || stt_jpush(pair, stt_jstr(a, value))) return -1;
  return stt_jpush(headers, pair);
}

int stt_req_body_json(stt_arena *a, stt_json *req, const stt_json *body) {
  stt_buf b;
  int rc;
  stt_buf_init(&b);
  if (stt_json_write(&b, body) != 0) {
    stt_buf_free(&b);
    return -1;
  }
  rc = stt_jset(a, req, "body", stt_jstrn(a, b.data ? b.data : "", b.len));
  stt_buf_free(&b);
  return rc;
}
