/* volcengine_auc.c - wire schema for the direct Volcengine / ByteDance big-model file recognition
 * API, openspeech AUC v3 (provider "volcengine-auc"). Facts: docs/providers.md#volcengine-auc.
 * Request objects and Result normalization are shared with the LAS operator (volcengine_common.c).
 * Pure: no I/O, no clock, no env, no globals (the request id arrives in args).
 *
 * build(op):  submit | poll | hotwords   (cancel, fetch: unsupported)
 * parse(kind): submit | poll | result
 *
 * The task id is CHOSEN BY THE CLIENT: args.request_id on submit becomes X-Api-Request-Id, and
 * parse("submit") returns it (resp.request_id) as the task id, so a resubmission after a crash is
 * idempotent (the service answers 45000001 "duplicate"; the error carries duplicate = true and the
 * client polls instead). Status lives in the X-Api-Status-Code header, not in the HTTP status: the
 * HTTP status sent with 45/55 codes is UNCONFIRMED (docs/providers.md#auc-status-codes), so the
 * header decides whenever present.
 * job.extra merges recursively into the body root (user, audio, request, callback...). */
#include "volcengine_common.h"

#include <string.h>

#define P "volcengine-auc"
#define BASE "https://openspeech.bytedance.com/api/v3"

static const vc_schema schema = {P, "", "the body root", P, "results arrive inline in the query"};

static void set_err(stt_arena *a, stt_json **err, const char *kind, const char *msg) {
  stt_set_error(a, err, P, kind, 0, "%s", msg);
}

static void set_oom(stt_arena *a, stt_json **err) { set_err(a, err, "protocol", "volcengine-auc: out of memory"); }

/* ========================================================================================== */
/* build */

static const char *base_url(stt_arena *a, const stt_json *args) {
  const stt_json *b = stt_jget(args, "base_url");
  return stt_jis(b, STT_JSTR) && b->slen > 0 ? stt_explicit_base(a, args) : BASE;
}

/* Both keys are secrets: they go into headers only and no message ever formats them. */
static const char *secret(stt_arena *a, const stt_json *args, const char *name, const char *what,
                          stt_json **err) {
  const stt_json *k = stt_credential(a, args, P, name, what, err);
  return k ? k->s : NULL;
}

/* A request id travels in a header: printable ASCII without spaces. */
static int good_id(const stt_json *id) {
  size_t k;
  if (!stt_jis(id, STT_JSTR) || id->slen == 0 || id->slen > 200) return 0;
  for (k = 0; k < id->slen; k++)
    if ((unsigned char)id->s[k] <= 0x20 || (unsigned char)id->s[k] >= 0x7f) return 0;
  return 1;
}

/* model bigasr -> volc.bigasr.auc (model 1.0), seedasr -> volc.seedasr.auc (model 2.0). */
static const char *resource_id(const char *model) {
  return strcmp(model, "seedasr") == 0 ? "volc.seedasr.auc" : "volc.bigasr.auc";
}

/* Headers in the doc's order: app key, access key, resource id, request id (+ sequence -1 on
 * submit), then Content-Type. */
static stt_json *request(stt_arena *a, const stt_json *args, const char *path, const char *model,
                         const char *request_id, int submit, const char *body, stt_json **err) {
  const char *app, *access;
  stt_json *req;
  if (!(app = secret(a, args, "app_key", "app key", err)) ||
      !(access = secret(a, args, "access_key", "access key", err)))
    return NULL;
  req = stt_req_new(a, "POST", stt_arena_printf(a, "%s%s", base_url(a, args), path));
  if (!req || stt_req_header(a, req, "X-Api-App-Key", app) ||
      stt_req_header(a, req, "X-Api-Access-Key", access) ||
      stt_req_header(a, req, "X-Api-Resource-Id", resource_id(model)) ||
      stt_req_header(a, req, "X-Api-Request-Id", request_id) ||
      (submit && stt_req_header(a, req, "X-Api-Sequence", "-1")) ||
      stt_req_header(a, req, "Content-Type", "application/json") ||
      (body && stt_jset(a, req, "body", stt_jstr(a, body)))) {
    set_oom(a, err);
    return NULL;
  }
  return req;
}

static stt_json *build_submit(stt_arena *a, const stt_json *args, stt_json **err) {
  const stt_json *job = stt_jget(args, "job"), *rid = stt_jget(args, "request_id");
  const char *model = vc_model(a, &schema, args, err);
  stt_json *body = stt_jobj(a), *req;
  if (!model) return NULL;
  if (!good_id(rid)) {
    set_err(a, err, "invalid", "volcengine-auc: submit needs request_id (a client-chosen UUID: the task id)");
    return NULL;
  }
  if (!body) { set_oom(a, err); return NULL; }
  if (vc_request_objects(a, &schema, model, job, NULL, body, err) ||
      vc_apply_extra(a, &schema, model, job, body, err))
    return NULL;
  if (!(req = request(a, args, "/auc/bigmodel/submit", model, rid->s, 1, NULL, err))) return NULL;
  if (stt_req_body_json(a, req, body)) { set_oom(a, err); return NULL; }
  return req;
}

/* query: the task id IS the submit's X-Api-Request-Id; the body is the empty object. The model
 * (for X-Api-Resource-Id) comes from the task, else args.model. */
static stt_json *build_poll(stt_arena *a, const stt_json *args, stt_json **err) {
  const stt_json *task = stt_jget(args, "task"), *id = stt_jget(task, "id");
  const char *tm = stt_jgetstr(task, "model"), *model;
  if (!good_id(id)) {
    set_err(a, err, "invalid", "volcengine-auc: task.id is missing (the request id of the submit)");
    return NULL;
  }
  if (tm && *tm) {
    stt_json *margs = stt_jobj(a);
    if (!margs || stt_jset(a, margs, "model", stt_jstr(a, tm))) { set_oom(a, err); return NULL; }
    model = vc_model(a, &schema, margs, err);
  } else {
    model = vc_model(a, &schema, args, err);
  }
  if (!model) return NULL;
  return request(a, args, "/auc/bigmodel/query", model, id->s, 0, "{}", err);
}

static stt_json *build(stt_arena *a, const char *op, const stt_json *args, stt_json **err) {
  return vc_build(a, &schema, op, args, err, build_submit, build_poll);
}

/* ========================================================================================== */
/* parse */

static int has_word_ci(const char *s, const char *word) {
  size_t n = strlen(word), k;
  for (; s && *s; s++) {
    for (k = 0; k < n; k++) {
      char c = s[k];
      if (!c || (c >= 'A' && c <= 'Z' ? c + 32 : c) != word[k]) break;
    }
    if (k == n) return 1;
  }
  return 0;
}

/* X-Api-Status-Code (docs/providers.md#auc-status-codes): 45xxxxxx fatal (invalid), 55000031
 * busy (throttled, retry with backoff), other 550xxxxx internal (server, retry limited); anything
 * else unexpected. */
static stt_json *status_error(stt_arena *a, const stt_json *resp, long long status, const char *code) {
  const char *msg = stt_resp_header(resp, "x-api-message"), *rid = stt_resp_header(resp, "x-tt-logid");
  const char *kind = "protocol";
  int retryable = 0, duplicate = 0;
  stt_json *e;
  if (strncmp(code, "45", 2) == 0) {
    /* fatal. The code for bad credentials and for an unknown request id is UNCONFIRMED; when the
     * HTTP status says which (401/403, 404), it refines the kind -- the header still decides
     * that this is an error. */
    kind = status == 401 || status == 403 ? "auth" : status == 404 ? "not_found" : "invalid";
    /* 45000001 covers bad parameters AND a reused request id: only the message tells them apart */
    duplicate = strcmp(code, "45000001") == 0 && has_word_ci(msg, "duplicat");
  } else if (strcmp(code, "55000031") == 0) {
    kind = "throttled";
    retryable = 1;
  } else if (strncmp(code, "550", 3) == 0) {
    kind = "server";
    retryable = 1;
  }
  e = stt_make_error(a, P, kind, (int)status, code, rid, retryable, "volcengine-auc %s: %s", code,
                     msg && *msg ? stt_sanitize(a, msg, strlen(msg), 300) : "(no X-Api-Message)");
  if (e && duplicate && stt_jset(a, e, "duplicate", stt_jbool(a, 1))) return NULL;
  return stt_with_retry_after(a, e, resp);
}

/* No status header: the HTTP status and body are all there is (a gateway in between). */
static stt_json *http_error(stt_arena *a, const stt_json *resp, long long status) {
  const stt_json *body = stt_jget(resp, "body");
  const char *s = stt_jis(body, STT_JSTR) ? body->s : "", *kind;
  size_t n = stt_jis(body, STT_JSTR) ? body->slen : 0;
  int retryable;
  stt_json *e;
  kind = stt_status_kind(status, &retryable);
  if (status >= 200 && status <= 299) retryable = 1;    /* 2xx without the header: hiccup */
  e = stt_make_error(a, P, kind, (int)status, NULL, stt_resp_header(resp, "x-tt-logid"), retryable,
                     "volcengine-auc HTTP %lld without X-Api-Status-Code%s%s", status, n ? ": " : "",
                     n ? stt_sanitize(a, s, n, 200) : "");
  return stt_with_retry_after(a, e, resp);
}

static const char *task_id_of(const stt_json *resp) {
  const char *id = stt_jgetstr(stt_jget(resp, "task"), "id");
  return id ? id : stt_jgetstr(resp, "request_id");
}

static stt_json *body_json(stt_arena *a, const stt_json *resp, long long status, stt_json **err) {
  char msg[200];
  int empty;
  /* duplicate keys are fine: the doc's own example repeats "audio_info"
   * (docs/providers.md#auc-submit-and-query) */
  stt_json *j = stt_body_object(a, resp, &empty, msg, sizeof msg);
  if (j) return j;
  if (empty)
    *err = stt_make_error(a, P, "protocol", (int)status, NULL, stt_resp_header(resp, "x-tt-logid"), 1,
                          "volcengine-auc: status 20000000 with an empty body (expected the result)");
  else
    *err = stt_make_error(a, P, "protocol", (int)status, NULL, stt_resp_header(resp, "x-tt-logid"), 1,
                          "volcengine-auc: a result body that is not JSON: %s", msg);
  return NULL;
}

/* The submit answer has an EMPTY body: success iff X-Api-Status-Code is 20000000. The task id is
 * the request id the client sent, handed back in resp.request_id. */
static stt_json *parse_submit(stt_arena *a, const stt_json *resp, stt_json **err) {
  const char *id = stt_jgetstr(resp, "request_id");
  stt_json *t = stt_jobj(a);
  if (!id || !*id) id = stt_jgetstr(stt_jget(resp, "task"), "id");
  if (!id || !*id) {
    set_err(a, err, "invalid", "volcengine-auc: parse(\"submit\") needs resp.request_id (the X-Api-Request-Id sent)");
    return NULL;
  }
  if (!t || stt_set_str(a, t, "id", id) || stt_set_str(a, t, "state", "queued") ||
      stt_set_str(a, t, "request_id", stt_resp_header(resp, "x-tt-logid"))) {
    set_oom(a, err);
    return NULL;
  }
  return t;
}

static stt_json *parse_poll(stt_arena *a, const char *code, const stt_json *resp, long long status,
                            stt_json **err) {
  stt_json *out = stt_jobj(a), *root, *res = NULL;
  const char *state;
  if (strcmp(code, "20000000") == 0) {
    if (!(root = body_json(a, resp, status, err))) return NULL;
    res = vc_result(a, P, vc_model_of(resp), task_id_of(resp), stt_jget(root, "result"),
                    stt_jget(root, "audio_info"), root);
    state = "succeeded";
  } else if (strcmp(code, "20000003") == 0) {
    /* silent audio: terminal ("do not re-query"); an empty transcript, not a failure */
    res = vc_empty_result(a, P, vc_model_of(resp), task_id_of(resp), NULL);
    state = "succeeded";
  } else {
    state = strcmp(code, "20000001") == 0 ? "running" : "queued";   /* 20000001 | 20000002 */
  }
  if (!out || (strcmp(state, "succeeded") == 0 && !res) || stt_set_str(a, out, "state", state) ||
      stt_set_str(a, out, "provider_state", code) || stt_set_str(a, out, "request_id", stt_resp_header(resp, "x-tt-logid")) ||
      (res && stt_jset(a, out, "result", res)) || (res && vc_set_usage(a, out, res))) {
    set_oom(a, err);
    return NULL;
  }
  return out;
}

/* A query body ({audio_info, result}) as a webhook or file would hold it. */
static stt_json *parse_result(stt_arena *a, const stt_json *resp, long long status, stt_json **err) {
  stt_json *root = body_json(a, resp, status, err), *out;
  if (!root) return NULL;
  if (!stt_jget(root, "result")) {
    set_err(a, err, "protocol", "volcengine-auc: no result in the body");
    return NULL;
  }
  out = vc_result(a, P, vc_model_of(resp), task_id_of(resp), stt_jget(root, "result"),
                  stt_jget(root, "audio_info"), root);
  if (!out) set_oom(a, err);
  return out;
}

static int in_progress_or_done(const char *code) {
  return strcmp(code, "20000000") == 0 || strcmp(code, "20000001") == 0 ||
         strcmp(code, "20000002") == 0 || strcmp(code, "20000003") == 0;
}

static stt_json *parse(stt_arena *a, const char *kind, const stt_json *resp, stt_json **err) {
  long long status = stt_jgetint(resp, "status", 0);
  const char *code = stt_resp_header(resp, "x-api-status-code");
  if (!kind) kind = "";
  if (strcmp(kind, "result") == 0 && !code) return parse_result(a, resp, 200, err);
  if (!code || !*code) {
    if (!(*err = http_error(a, resp, status))) set_oom(a, err);
    return NULL;
  }
  if (!in_progress_or_done(code)) {
    if (!(*err = status_error(a, resp, status, code))) set_oom(a, err);
    return NULL;
  }
  /* 20000000 is the documented submit answer; 2000000[123] also mean the task exists (the
   * query will tell its state), so they are accepted rather than lost as errors. */
  if (strcmp(kind, "submit") == 0) return parse_submit(a, resp, err);
  if (strcmp(kind, "poll") == 0) return parse_poll(a, code, resp, status, err);
  if (strcmp(kind, "result") == 0) {
    if (strcmp(code, "20000003") == 0) {
      stt_json *out = vc_empty_result(a, P, vc_model_of(resp), task_id_of(resp), NULL);
      if (!out) set_oom(a, err);
      return out;
    }
    return parse_result(a, resp, status, err);
  }
  stt_set_error(a, err, P, "invalid", 0, "volcengine-auc: unknown parse kind \"%.40s\"", kind);
  return NULL;
}

static stt_json *caps(stt_arena *a) { return vc_caps(a, &schema); }

const stt_provider stt_provider_volcengine_auc = {P, build, parse, caps};
