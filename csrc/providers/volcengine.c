/* volcengine.c - wire schema for the Volcengine LAS operator `las_asr` v2 (provider "volcengine"):
 * big-model file recognition behind the LAS operator gateway. Facts: docs/providers.md#volcengine-las
 * (doc: https://www.volcengine.com/docs/6492/2172368). Request objects and Result normalization
 * are shared with volcengine-auc (volcengine_common.c). Pure: no I/O, no clock, no env, no
 * globals.
 *
 * build(op):  submit | poll | hotwords   (cancel, fetch: unsupported -- LAS has neither)
 * parse(kind): submit | poll | result | notice (a callback POST: vc_notice)
 * args.callback = { url, data } on submit -> data.request.callback, data.request.callback_data:
 * the only LAS revision that shows them puts them there (UNCONFIRMED,
 * docs/providers.md#volcengine-callbacks).
 *
 * job.extra merges recursively into `data` (the operator's natural request object: user, audio,
 * resource, request), so extra = {request = {enable_poi_fc = true}} adds a request field. */
#include "volcengine_common.h"

#include <string.h>

#define P "volcengine"
#define BASE_CN "https://operator.las.cn-beijing.volces.com/api/v1"
#define BASE_AP "https://operator.las.ap-southeast-1.bytepluses.com/api/v1"

static const vc_schema schema = {P, "data.", "data", "volcengine (LAS las_asr)",
                                 "results arrive inline in poll", NULL};

static void set_err(stt_arena *a, stt_json **err, const char *kind, const char *msg) {
  stt_set_error(a, err, P, kind, 0, "%s", msg);
}

static void set_oom(stt_arena *a, stt_json **err) { set_err(a, err, "protocol", "volcengine: out of memory"); }

/* ========================================================================================== */
/* build */

static const char *base_url(stt_arena *a, const stt_json *args, stt_json **err) {
  const stt_json *b = stt_jget(args, "base_url");
  const char *region = stt_jgetstr(args, "region");
  if (stt_jis(b, STT_JSTR) && b->slen > 0) return stt_explicit_base(a, args);
  if (!region || strcmp(region, "cn-beijing") == 0 || strcmp(region, "cn") == 0) return BASE_CN;
  if (strcmp(region, "ap-southeast-1") == 0 || strcmp(region, "intl") == 0) return BASE_AP;
  stt_set_error(a, err, P, "invalid", 0,
                "volcengine: unknown region \"%.40s\" (expected \"cn-beijing\" or \"ap-southeast-1\")", region);
  return NULL;
}

/* Three spellings are in circulation (docs/providers.md#volcengine-las-auth): the raw key (the
 * BytePlus and 2026-01-15 Volcengine doc curls; the default here), "Bearer <key>" (an earlier
 * Volcengine doc) and "ApiKey <key>" (Volcengine's own Daft client). auth_prefix picks one; the
 * key is never echoed. */
static const char *authorization(stt_arena *a, const stt_json *args, stt_json **err) {
  const stt_json *k = stt_api_key(a, args, P, err);
  const char *prefix = stt_jgetstr(args, "auth_prefix");
  size_t n;
  if (!k) return NULL;
  n = prefix ? strlen(prefix) : 0;
  while (n > 0 && prefix[n - 1] == ' ') n--;       /* "Bearer " and "Bearer" are the same */
  if (n == 0) return k->s;
  if ((n == 6 && strncmp(prefix, "Bearer", 6) == 0) || (n == 6 && strncmp(prefix, "ApiKey", 6) == 0))
    return stt_arena_printf(a, "%.6s %s", prefix, k->s);
  set_err(a, err, "invalid", "volcengine: auth_prefix must be \"\" (raw key), \"Bearer\" or \"ApiKey\"");
  return NULL;
}

static stt_json *request(stt_arena *a, const stt_json *args, const char *path, const stt_json *body,
                         stt_json **err) {
  const char *base, *auth;
  stt_json *req;
  if (!(base = base_url(a, args, err)) || !(auth = authorization(a, args, err))) return NULL;
  req = stt_req_new(a, "POST", stt_arena_printf(a, "%s%s", base, path));
  if (!req || stt_req_header(a, req, "Authorization", auth) ||
      stt_req_header(a, req, "Content-Type", "application/json") || stt_req_body_json(a, req, body)) {
    set_oom(a, err);
    return NULL;
  }
  return req;
}

/* {"operator_id":"las_asr","operator_version":"v2"[,"task_id":id],"data":{}}: *data is the
 * (empty) data object. */
static stt_json *operator_body(stt_arena *a, const stt_json *task_id, stt_json **data) {
  stt_json *body = stt_jobj(a);
  *data = stt_jobj(a);
  if (!body || !*data || stt_jset(a, body, "operator_id", stt_jstr(a, "las_asr")) ||
      stt_jset(a, body, "operator_version", stt_jstr(a, "v2")) ||
      (task_id && stt_jset(a, body, "task_id", stt_jclone(a, task_id))) || stt_jset(a, body, "data", *data))
    return NULL;
  return body;
}

/* {"operator_id":"las_asr","operator_version":"v2","data":{audio, resource, request}}.
 * resource (bigasr | seedasr) is always sent: it names the model the task is billed and
 * recognized with, even when it is the documented default. */
static stt_json *build_submit(stt_arena *a, const stt_json *args, stt_json **err) {
  const stt_json *job = stt_jget(args, "job");
  const char *model = vc_model(a, &schema, args, err);
  stt_json *data, *body;
  if (!model) return NULL;
  if (!(body = operator_body(a, NULL, &data))) { set_oom(a, err); return NULL; }
  if (vc_request_objects(a, &schema, model, job, model, data, err) ||
      vc_apply_extra(a, &schema, model, job, data, err) ||
      vc_callback(a, &schema, args, stt_jget(data, "request"), err))
    return NULL;
  return request(a, args, "/submit", body, err);
}

/* The task id goes BOTH at the top level and in `data`
 * (docs/providers.md#volcengine-las-poll): Volcengine's own client, the BytePlus doc and the
 * doc's parameter table put task_id next to operator_id; the 2026-01-15 volcengine.com curl nests
 * it as data.task_id. Which one the gateway reads is UNCONFIRMED; a field it does not read is
 * harmless, so the body satisfies both:
 * {"operator_id":"las_asr","operator_version":"v2","task_id":ID,"data":{"task_id":ID}}. */
static stt_json *build_poll(stt_arena *a, const stt_json *args, stt_json **err) {
  const stt_json *id = stt_jget(stt_jget(args, "task"), "id");
  stt_json *data, *body;
  if (!stt_jis(id, STT_JSTR) || id->slen == 0) {
    set_err(a, err, "invalid", "volcengine: task.id is missing (a task returned by submit)");
    return NULL;
  }
  if (!(body = operator_body(a, id, &data)) || stt_jset(a, data, "task_id", stt_jclone(a, id))) {
    set_oom(a, err);
    return NULL;
  }
  return request(a, args, "/poll", body, err);
}

static stt_json *build(stt_arena *a, const char *op, const stt_json *args, stt_json **err) {
  return vc_build(a, &schema, op, args, err, build_submit, build_poll);
}

/* ========================================================================================== */
/* parse: errors */

typedef struct { const char *kind; int retryable; } err_class;

/* The documented codes (docs/providers.md#volcengine-las-errors) and the business codes
 * Volcengine's own client retries (2002 TIMEOUT_ERROR, 2003 SERVER_BUSY); otherwise the HTTP
 * status decides. */
static err_class classify(long long status, const char *code) {
  err_class e = {"protocol", 0};
  if (!code) code = "";
  if (strcmp(code, "Parameter.Invalid") == 0) { e.kind = "invalid"; return e; }
  if (strcmp(code, "Authorization.Missing") == 0 || strcmp(code, "ApiKey.Invalid") == 0) {
    e.kind = "auth";
    return e;
  }
  if (strcmp(code, "Server.Busy") == 0 || strcmp(code, "2003") == 0) {
    e.kind = "throttled";
    e.retryable = 1;
    return e;
  }
  if (strcmp(code, "Server.InternalError") == 0 || strcmp(code, "2002") == 0) {
    e.kind = "server";
    e.retryable = 1;
    return e;
  }
  e.kind = stt_status_kind(status, &e.retryable);
  if (status >= 200 && status <= 299 && *code) e.kind = "invalid";        /* a refusal in a 2xx */
  return e;
}

/* business_code is a string ("0"); a number is accepted too. NULL when absent. */
static const char *business_code(stt_arena *a, const stt_json *meta) {
  const stt_json *c = stt_jget(meta, "business_code");
  long long n;
  if (stt_jis(c, STT_JSTR)) return c->s;
  if (stt_json_int(c, &n)) return stt_arena_printf(a, "%lld", n);
  return NULL;
}

static int ok_code(const char *code) { return !code || !*code || strcmp(code, "0") == 0; }

/* The error body is UNCONFIRMED (docs/providers.md#volcengine-las-errors): we accept
 * metadata{business_code, error_msg, request_id} (the likeliest), a plain {code, message} and
 * the Volcengine gateway's ResponseMetadata{RequestId, Error{Code, Message}}. */
static void error_fields(stt_arena *a, const stt_json *root, const stt_json *resp, const char **code,
                         const char **msg, const char **rid) {
  const stt_json *meta = stt_jget(root, "metadata"), *rm = stt_jget(root, "ResponseMetadata");
  const stt_json *c = stt_jget(root, "code");
  long long n;
  *code = business_code(a, meta);
  *msg = stt_jgetstr(meta, "error_msg");
  *rid = stt_jgetstr(meta, "request_id");
  if (ok_code(*code)) {
    *code = stt_jis(c, STT_JSTR) ? c->s : stt_json_int(c, &n) && n != 0 ? stt_arena_printf(a, "%lld", n) : NULL;
    if (!*code) *code = stt_jgetstr(stt_jget(rm, "Error"), "Code");
  }
  if (!*msg || !**msg) *msg = stt_jgetstr(root, "message");
  if (!*msg || !**msg) *msg = stt_jgetstr(stt_jget(rm, "Error"), "Message");
  if (!*rid) *rid = stt_jgetstr(rm, "RequestId");
  if (!*rid) *rid = stt_jgetstr(root, "request_id");
  if (!*rid) *rid = stt_resp_header(resp, "x-tt-logid");
  if (!*rid) *rid = stt_resp_header(resp, "x-request-id");
}

static stt_json *make_error(stt_arena *a, const stt_json *resp, long long status, const char *code,
                            const char *msg, const char *rid) {
  err_class k = classify(status, code);
  stt_json *e;
  if (status >= 300 || status < 200)
    e = stt_make_error(a, P, k.kind, (int)status, code, rid, k.retryable, "volcengine HTTP %lld %s: %s",
                       status, code ? code : "", msg && *msg ? msg : "(no message)");
  else
    e = stt_make_error(a, P, k.kind, (int)status, code, rid, k.retryable, "volcengine business_code %s: %s",
                       code ? code : "", msg && *msg ? msg : "(no message)");
  return stt_with_retry_after(a, e, resp);
}

static stt_json *http_error(stt_arena *a, const stt_json *resp, long long status) {
  const stt_json *body = stt_jget(resp, "body");
  const char *s = stt_jis(body, STT_JSTR) ? body->s : "";
  size_t n = stt_jis(body, STT_JSTR) ? body->slen : 0;
  stt_json *j = stt_json_parse(a, s, n, NULL, 0);
  const char *code, *msg, *rid;
  error_fields(a, j, resp, &code, &msg, &rid);
  if (!code && !msg) msg = n ? stt_sanitize(a, s, n, 200) : "(empty body)";
  return make_error(a, resp, status, code, msg, rid);
}

/* A 2xx answer must be a JSON object; anything else is a gateway hiccup worth a retry. */
static stt_json *body_json(stt_arena *a, const stt_json *resp, long long status, stt_json **err) {
  return stt_body_json(a, resp, status, P, stt_resp_header(resp, "x-tt-logid"), err);
}

/* ========================================================================================== */
/* parse: submit, poll, result */

static const char *map_state(const char *s) {
  static const char *const map[][2] = {
    {"ACCEPTED", "queued"}, {"PENDING", "queued"}, {"RUNNING", "running"},
    {"COMPLETED", "succeeded"}, {"FAILED", "failed"}, {"TIMEOUT", "failed"},
  };
  size_t k;
  for (k = 0; s && k < sizeof map / sizeof map[0]; k++)
    if (strcmp(s, map[k][0]) == 0) return map[k][1];
  return NULL;
}

static stt_json *parse_submit(stt_arena *a, const stt_json *root, const stt_json *resp, long long status,
                              stt_json **err) {
  const stt_json *meta = stt_jget(root, "metadata");
  const char *code, *msg, *rid, *id = stt_jgetstr(meta, "task_id");
  const char *state = map_state(stt_jgetstr(meta, "task_status"));
  stt_json *t;
  error_fields(a, root, resp, &code, &msg, &rid);
  if (!ok_code(code)) { *err = make_error(a, resp, status, code, msg, rid); return NULL; }
  if (!id || !*id) {
    /* not retryable: the task may exist, and a second submit would pay twice */
    *err = stt_make_error(a, P, "protocol", 0, NULL, rid, 0, "volcengine: submit answer has no metadata.task_id");
    return NULL;
  }
  t = stt_jobj(a);
  /* ACCEPTED is the documented answer; las_asr_pro says PENDING; RUNNING would be running */
  if (!t || stt_set_str(a, t, "id", id) || stt_set_str(a, t, "state", state && strcmp(state, "running") == 0 ? state : "queued") ||
      stt_set_str(a, t, "request_id", rid)) {
    set_oom(a, err);
    return NULL;
  }
  return t;
}

static const char *task_id_of(const stt_json *meta, const stt_json *resp) {
  const char *id = stt_jgetstr(meta, "task_id");
  return id ? id : stt_jgetstr(stt_jget(resp, "task"), "id");
}

/* FAILED / TIMEOUT: the body shape is UNCONFIRMED (docs/providers.md#volcengine-las-states); we
 * expect metadata.task_status with a non-"0" business_code and error_msg, and no data. TIMEOUT
 * gets code "TIMEOUT" when the body carries no business code. */
static stt_json *task_error(stt_arena *a, const char *status, const char *code, const char *msg,
                            const char *rid, const char *id) {
  int timeout = strcmp(status, "TIMEOUT") == 0;
  if (ok_code(code)) code = timeout ? "TIMEOUT" : NULL;
  if (msg && *msg) return stt_make_error(a, P, "task_failed", 0, code, rid, 0, "%s", msg);
  return stt_make_error(a, P, "task_failed", 0, code, rid, 0, "volcengine task %.80s %s", id ? id : "",
                        timeout ? "timed out" : "failed");
}

static stt_json *parse_poll(stt_arena *a, stt_json *root, const stt_json *resp, long long status,
                            stt_json **err) {
  const stt_json *meta = stt_jget(root, "metadata"), *data = stt_jget(root, "data");
  const char *ps = stt_jgetstr(meta, "task_status"), *state = map_state(ps), *code, *msg, *rid;
  const char *id = task_id_of(meta, resp);
  stt_json *out = stt_jobj(a), *res = NULL, *e = NULL;
  error_fields(a, root, resp, &code, &msg, &rid);
  if (state && strcmp(state, "failed") == 0) {
    e = task_error(a, ps, code, msg, rid, id);
  } else if (!ok_code(code)) {
    *err = make_error(a, resp, status, code, msg, rid);
    return NULL;
  } else if (!ps || !*ps) {
    *err = stt_make_error(a, P, "protocol", 0, NULL, rid, 0, "volcengine: poll answer has no metadata.task_status");
    return NULL;
  } else if (!state) {
    state = "running";          /* an undocumented state: still in progress, reported as sent */
  } else if (strcmp(state, "succeeded") == 0) {
    if (!stt_jget(data, "result")) {
      *err = stt_make_error(a, P, "protocol", 0, NULL, rid, 1, "volcengine: COMPLETED without data.result");
      return NULL;
    }
    res = vc_result(a, P, vc_model_of(resp), id, stt_jget(data, "result"), stt_jget(data, "audio_info"), root);
    if (!res) { set_oom(a, err); return NULL; }
  }
  if (!out || stt_set_str(a, out, "state", state) || stt_set_str(a, out, "provider_state", ps) ||
      stt_set_str(a, out, "request_id", rid) || (res && stt_jset(a, out, "result", res)) ||
      (res && vc_set_usage(a, out, res)) || (e && stt_jset(a, out, "error", e))) {
    set_oom(a, err);
    return NULL;
  }
  return out;
}

/* A poll body ({metadata, data: {audio_info, result}}) or a bare {audio_info, result}. */
static stt_json *parse_result(stt_arena *a, stt_json *root, const stt_json *resp, stt_json **err) {
  const stt_json *data = stt_jget(root, "data"), *meta = stt_jget(root, "metadata");
  stt_json *out;
  if (!stt_jget(data, "result")) data = root;
  if (!stt_jget(data, "result")) {
    *err = stt_make_error(a, P, "protocol", 0, NULL, NULL, 0, "volcengine: no data.result in the body");
    return NULL;
  }
  out = vc_result(a, P, vc_model_of(resp), task_id_of(meta, resp), stt_jget(data, "result"),
                  stt_jget(data, "audio_info"), root);
  if (!out) set_oom(a, err);
  return out;
}

static stt_json *parse(stt_arena *a, const char *kind, const stt_json *resp, stt_json **err) {
  long long status = stt_jgetint(resp, "status", 0);
  stt_json *root;
  if (!kind) kind = "";
  if (strcmp(kind, "notice") == 0) return vc_notice(a, &schema, resp, err);
  if (status < 200 || status > 299) {
    if (!(*err = http_error(a, resp, status))) set_oom(a, err);
    return NULL;
  }
  if (!(root = body_json(a, resp, status, err))) return NULL;
  if (strcmp(kind, "submit") == 0) return parse_submit(a, root, resp, status, err);
  if (strcmp(kind, "poll") == 0) return parse_poll(a, root, resp, status, err);
  if (strcmp(kind, "result") == 0) return parse_result(a, root, resp, err);
  stt_set_error(a, err, P, "invalid", 0, "volcengine: unknown parse kind \"%.40s\"", kind);
  return NULL;
}

static stt_json *caps(stt_arena *a) { return vc_caps(a, &schema); }

const stt_provider stt_provider_volcengine = {P, build, parse, caps};
