/* volcengine_auc.c - wire schema for the direct Volcengine / ByteDance big-model file recognition
 * API, openspeech AUC v3 (provider "volcengine-auc"). Facts: docs/providers.md#volcengine-auc.
 * Request objects and Result normalization are shared with the LAS operator (volcengine_common.c).
 * Pure: no I/O, no clock, no env, no globals (the request id arrives in args).
 *
 * build(op):  submit | poll | hotwords   (cancel, fetch: unsupported; flash: poll, cancel invalid)
 * parse(kind): submit | poll | result | notice (a callback POST: vc_notice)
 * args.callback = { url, data } on submit -> top-level `callback`, `callback_data`
 * (docs/providers.md#volcengine-callbacks; flash: unsupported).
 *
 * args.mode (docs/providers.md#auc-endpoints): "standard" (default: submit + query), "idle" (the
 * same on /idle/ paths and the idle resource: cheaper, done within 24 h) or "flash" (one
 * synchronous call that answers with the result: parse("submit") returns the task already
 * succeeded, with `result`; a flash task has no query).
 * Auth (docs/providers.md#auc-headers): args.api_key -> X-Api-Key (new console keys), else
 * args.app_key + args.access_key -> X-Api-App-Key + X-Api-Access-Key.
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

static const vc_schema schema = {P, "", "the body root", P, "results arrive inline in the query",
                                 "mode flash: no callback, callback_data"};

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

/* ---- modes */

typedef struct {
  const char *name;       /* args.mode */
  const char *submit;     /* path under the base */
  const char *query;      /* NULL: synchronous, no query */
  const char *resource;   /* X-Api-Resource-Id for every model; NULL: by model */
} auc_mode;

/* docs/providers.md#auc-endpoints. Idle and flash each have ONE documented resource, of model 1.0;
 * no seedasr (2.0) idle or flash resource was found, so model seedasr sends it too (UNCONFIRMED:
 * docs/providers.md#auc-idle-mode). */
static const auc_mode modes[] = {
  {"standard", "/auc/bigmodel/submit", "/auc/bigmodel/query", NULL},
  {"idle", "/auc/bigmodel/idle/submit", "/auc/bigmodel/idle/query", "volc.bigasr.auc_idle"},
  {"flash", "/auc/bigmodel/recognize/flash", NULL, "volc.bigasr.auc_turbo"},
};

/* args.mode: absent (or null) is "standard"; anything but the three names is invalid. */
static const auc_mode *mode_of(stt_arena *a, const stt_json *args, stt_json **err) {
  const stt_json *m = stt_jget(args, "mode");
  size_t k;
  if (!m || stt_jis(m, STT_JNULL)) return &modes[0];
  if (stt_jis(m, STT_JSTR) && strlen(m->s) == m->slen)
    for (k = 0; k < sizeof modes / sizeof modes[0]; k++)
      if (strcmp(m->s, modes[k].name) == 0) return &modes[k];
  if (stt_jis(m, STT_JSTR))
    stt_set_error(a, err, P, "invalid", 0,
                  "volcengine-auc: unknown mode \"%.40s\" (expected \"standard\", \"idle\" or \"flash\")", m->s);
  else
    set_err(a, err, "invalid", "volcengine-auc: mode must be \"standard\", \"idle\" or \"flash\"");
  return NULL;
}

/* A flash task has no query and no cancel: its submit answered with the result. */
static void flash_no_query(stt_arena *a, stt_json **err, const char *op) {
  stt_set_error(a, err, P, "invalid", 0,
                "volcengine-auc: mode \"flash\" is one synchronous call: a flash task has no %s (its submit "
                "answers with the result; submit again if that answer was lost)", op);
}

/* ---- credentials */

/* The credentials go into headers only and no message ever formats them. api_key (a new-console
 * key, sent as X-Api-Key) wins; else app_key + access_key. Neither: an auth error naming both. */
typedef struct { const char *api_key, *app, *access; } auc_auth;

static int credentials(stt_arena *a, const stt_json *args, auc_auth *out, stt_json **err) {
  const stt_json *k;
  memset(out, 0, sizeof *out);
  if (stt_secret_check(stt_jget(args, "api_key")) != 0) {
    if (!(k = stt_credential(a, args, P, "api_key", "API key", err))) return -1;
    out->api_key = k->s;
    return 0;
  }
  if (stt_secret_check(stt_jget(args, "app_key")) == 0 && stt_secret_check(stt_jget(args, "access_key")) == 0) {
    stt_set_error(a, err, P, "auth", 0,
                  "%s: no credentials (set %s or pass api_key; or set %s and %s, or pass app_key and access_key)",
                  P, stt_provider_env(P, "api_key"), stt_provider_env(P, "app_key"),
                  stt_provider_env(P, "access_key"));
    return -1;
  }
  if (!(k = stt_credential(a, args, P, "app_key", "app key", err))) return -1;
  out->app = k->s;
  if (!(k = stt_credential(a, args, P, "access_key", "access key", err))) return -1;
  out->access = k->s;
  return 0;
}

/* A request id travels in a header: printable ASCII without spaces. */
static int good_id(const stt_json *id) {
  size_t k;
  if (!stt_jis(id, STT_JSTR) || id->slen == 0 || id->slen > 200) return 0;
  for (k = 0; k < id->slen; k++)
    if ((unsigned char)id->s[k] <= 0x20 || (unsigned char)id->s[k] >= 0x7f) return 0;
  return 1;
}

/* standard: model bigasr -> volc.bigasr.auc (model 1.0), seedasr -> volc.seedasr.auc (2.0);
 * idle and flash: their one resource. */
static const char *resource_id(const auc_mode *m, const char *model) {
  if (m->resource) return m->resource;
  return strcmp(model, "seedasr") == 0 ? "volc.seedasr.auc" : "volc.bigasr.auc";
}

/* Headers in the doc's order: app key, access key (or the one X-Api-Key), resource id, request id
 * (+ sequence -1 on a submit or a flash call), then Content-Type. */
static stt_json *request(stt_arena *a, const stt_json *args, const char *path, const char *resource,
                         const char *request_id, int submit, const char *body, stt_json **err) {
  auc_auth k;
  stt_json *req;
  if (credentials(a, args, &k, err)) return NULL;
  req = stt_req_new(a, "POST", stt_arena_printf(a, "%s%s", base_url(a, args), path));
  if (!req || (k.api_key && stt_req_header(a, req, "X-Api-Key", k.api_key)) ||
      (k.app && stt_req_header(a, req, "X-Api-App-Key", k.app)) ||
      (k.access && stt_req_header(a, req, "X-Api-Access-Key", k.access)) ||
      stt_req_header(a, req, "X-Api-Resource-Id", resource) ||
      stt_req_header(a, req, "X-Api-Request-Id", request_id) ||
      (submit && stt_req_header(a, req, "X-Api-Sequence", "-1")) ||
      stt_req_header(a, req, "Content-Type", "application/json") ||
      (body && stt_jset(a, req, "body", stt_jstr(a, body)))) {
    set_oom(a, err);
    return NULL;
  }
  return req;
}

/* Flash takes the standard request fields without callback and callback_data
 * (docs/providers.md#auc-flash-mode): a synchronous call has nobody to call back. Only job.extra
 * can put them there. */
static int flash_body_ok(stt_arena *a, const stt_json *body, const char *model, stt_json **err) {
  const char *f = stt_jget(body, "callback") ? "callback" : stt_jget(body, "callback_data") ? "callback_data" : NULL;
  if (!f) return 0;
  stt_set_error(a, err, P, "unsupported", 0,
                "option \"extra\" field %s is not supported by volcengine-auc model \"%s\" in mode \"flash\" "
                "(a synchronous call has no callback)", f, model);
  return -1;
}

/* A local file sent inline (flash only: audio.data, base64; docs/providers.md#auc-flash-mode). The
 * schema cannot read files: it builds the body around a marker where the data goes and hands the
 * engine the two halves and the path (request fields body, body_file, body_file_base64,
 * body_suffix); the engine streams the file's base64 between them. */
#define INLINE_MARK "\001stt-inline-file\001"

/* job.file -> *job becomes a copy whose url is the marker (so that audio.format comes from the
 * file's extension like from a URL's); a job without a file stays as it is. 0, or -1 + *err when
 * the mode takes no inline data. */
static int inline_job(stt_arena *a, const auc_mode *m, const stt_json **jobp, const char **path,
                      stt_json **err) {
  const stt_json *job = *jobp, *f = stt_jget(job, "file"), *mm;
  stt_json *copy;
  char *marked;
  if (!f) return 0;
  if (m->query) {
    set_err(a, err, "unsupported", "volcengine-auc: a local file goes inline only in mode \"flash\" "
            "(audio.data); otherwise set the client option upload");
    return -1;
  }
  if (!stt_jis(f, STT_JSTR) || f->slen == 0 || strlen(f->s) != f->slen) {
    set_err(a, err, "invalid", "volcengine-auc: file must be a path");
    return -1;
  }
  if (stt_jget(job, "url") || stt_jget(job, "urls")) {
    set_err(a, err, "invalid", "volcengine-auc: a job takes url or file, not both");
    return -1;
  }
  *path = f->s;
  if (!(copy = stt_jobj(a))) { set_oom(a, err); return -1; }
  for (mm = job->child; mm; mm = mm->next)
    if (strcmp(mm->key, "file") != 0 && stt_jset(a, copy, mm->key, stt_jclone(a, mm))) { set_oom(a, err); return -1; }
  marked = stt_arena_printf(a, "%s%s", INLINE_MARK, f->s);        /* the extension stays last */
  if (!marked || stt_jset(a, copy, "url", stt_jstr(a, marked))) { set_oom(a, err); return -1; }
  *jobp = copy;
  return 0;
}

/* audio.url (the marker) becomes audio.data; the serialized body is cut around the marker into
 * req.body and req.body_suffix, and req.body_file names the file. */
static int inline_body(stt_arena *a, stt_json *req, stt_json *body, const char *path, stt_json **err) {
  stt_json *audio = stt_jget(body, "audio"), *m, *text;
  const char *at;
  for (m = audio ? audio->child : NULL; m; m = m->next) {
    if (strcmp(m->key, "url") == 0) {
      m->key = "data";
      m->klen = 4;
      if (!(m->s = stt_arena_printf(a, "%s", INLINE_MARK))) { set_oom(a, err); return -1; }
      m->slen = strlen(m->s);
    }
  }
  if (!(text = stt_json_as_string(a, body)) || !(at = strstr(text->s, "\\u0001stt-inline-file\\u0001"))) {
    set_oom(a, err);
    return -1;
  }
  if (stt_jset(a, req, "body", stt_jstrn(a, text->s, (size_t)(at - text->s))) ||
      stt_jset(a, req, "body_suffix", stt_jstr(a, at + strlen("\\u0001stt-inline-file\\u0001"))) ||
      stt_jset(a, req, "body_file", stt_jstr(a, path)) || stt_jset(a, req, "body_file_base64", stt_jbool(a, 1))) {
    set_oom(a, err);
    return -1;
  }
  return 0;
}

static stt_json *build_submit(stt_arena *a, const stt_json *args, stt_json **err) {
  const stt_json *job = stt_jget(args, "job"), *rid = stt_jget(args, "request_id");
  const auc_mode *m = mode_of(a, args, err);
  const char *model = m ? vc_model(a, &schema, args, err) : NULL;
  const char *path = NULL;
  stt_json *body = stt_jobj(a), *req;
  if (!model) return NULL;
  if (inline_job(a, m, &job, &path, err)) return NULL;
  if (m->resource && strcmp(model, "seedasr") == 0) {
    /* idle and flash have one documented resource each, of model 1.0: a seedasr job would run on
     * bigasr without saying so (docs/providers.md#auc-idle-mode) */
    stt_set_error(a, err, P, "unsupported", 0, "volcengine-auc: model \"seedasr\" has no documented resource in "
                  "mode \"%s\" (only model 1.0, bigasr); use model bigasr or mode \"standard\"", m->name);
    return NULL;
  }
  if (!good_id(rid)) {
    set_err(a, err, "invalid", "volcengine-auc: submit needs request_id (a client-chosen UUID: the task id)");
    return NULL;
  }
  if (!body) { set_oom(a, err); return NULL; }
  if (!m->query && stt_jget(args, "callback")) {
    stt_set_error(a, err, P, "unsupported", 0, "volcengine-auc: mode \"flash\" takes no callback (a synchronous "
                  "call answers with the result)");
    return NULL;
  }
  if (vc_request_objects(a, &schema, model, job, NULL, body, err) ||
      vc_apply_extra(a, &schema, model, job, body, err) || vc_callback(a, &schema, args, body, err))
    return NULL;
  if (!m->query && flash_body_ok(a, body, model, err)) return NULL;
  if (!(req = request(a, args, m->submit, resource_id(m, model), rid->s, 1, NULL, err))) return NULL;
  if (path) return inline_body(a, req, body, path, err) ? NULL : req;
  if (stt_req_body_json(a, req, body)) { set_oom(a, err); return NULL; }
  return req;
}

/* query: the task id IS the submit's X-Api-Request-Id; the body is the empty object. The model
 * (for X-Api-Resource-Id) comes from the task, else args.model. */
static stt_json *build_poll(stt_arena *a, const stt_json *args, stt_json **err) {
  const stt_json *task = stt_jget(args, "task"), *id = stt_jget(task, "id");
  const char *tm = stt_jgetstr(task, "model"), *model;
  const auc_mode *m = mode_of(a, args, err);
  if (!m) return NULL;
  if (!m->query) { flash_no_query(a, err, "query"); return NULL; }
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
  return request(a, args, m->query, resource_id(m, model), id->s, 0, "{}", err);
}

static stt_json *build(stt_arena *a, const char *op, const stt_json *args, stt_json **err) {
  if (op && strcmp(op, "cancel") == 0) {
    const auc_mode *m = mode_of(a, args, err);
    if (!m) return NULL;
    if (!m->query) { flash_no_query(a, err, "cancel"); return NULL; }
  }
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

/* What the doc's error table says a code means (docs/providers.md#auc-status-codes), for the
 * message: the X-Api-Message beside it is free text, and may be missing. */
static const char *code_meaning(const char *code) {
  static const char *const table[][2] = {
    {"45000001", "invalid request parameters"}, {"45000002", "empty audio"},
    {"45000151", "bad audio format"}, {"55000031", "server busy"},
  };
  size_t k;
  for (k = 0; k < sizeof table / sizeof table[0]; k++)
    if (strcmp(code, table[k][0]) == 0) return table[k][1];
  return strncmp(code, "550", 3) == 0 ? "internal error" : NULL;
}

/* X-Api-Status-Code (docs/providers.md#auc-status-codes): 45xxxxxx fatal (invalid: 45000002 empty
 * audio among them), 55000031 busy (throttled, retry with backoff), other 550xxxxx internal
 * (server, retry limited); anything else unexpected. */
static stt_json *status_error(stt_arena *a, const stt_json *resp, long long status, const char *code) {
  const char *msg = stt_resp_header(resp, "x-api-message"), *rid = stt_resp_header(resp, "x-tt-logid");
  const char *kind = "protocol", *meaning = code_meaning(code);
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
  e = stt_make_error(a, P, kind, (int)status, code, rid, retryable, "volcengine-auc %s%s%s%s: %s", code,
                     meaning ? " (" : "", meaning ? meaning : "", meaning ? ")" : "",
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

/* The JSON object of a body, or NULL when it is empty or not an object (no error). */
static stt_json *optional_body(stt_arena *a, const stt_json *resp) {
  char msg[64];
  int empty;
  return stt_body_object(a, resp, &empty, msg, sizeof msg);
}

/* 20000003, silent audio: terminal ("do not re-query, submit again"), a Result that says so --
 * silent = true, no text, no segments -- not a failure and not an unexplained empty transcript.
 * The body sent with it is UNCONFIRMED: a JSON one is kept as raw (and its duration read). */
static stt_json *silent_result(stt_arena *a, const stt_json *resp) {
  return vc_silent_result(a, P, vc_model_of(resp), task_id_of(resp), optional_body(a, resp));
}

/* The state of a finished task in a poll or submit answer, with its Result. */
static int set_done(stt_arena *a, stt_json *out, stt_json *res) {
  return !res || stt_set_str(a, out, "state", "succeeded") || stt_jset(a, out, "result", res) ||
         vc_set_usage(a, out, res);
}

/* The standard and idle submit answer has an EMPTY body: success iff X-Api-Status-Code is
 * 20000000. The task id is the request id the client sent, handed back in resp.request_id.
 * A flash call answers 20000000 with the query's body {audio_info, result} (and silent audio
 * 20000003): the task comes back already succeeded, carrying its Result. The body tells the
 * modes apart (parse knows no mode): a result in it is a finished task. */
static stt_json *parse_submit(stt_arena *a, const char *code, const stt_json *resp, stt_json **err) {
  const char *id = stt_jgetstr(resp, "request_id");
  stt_json *t = stt_jobj(a), *root, *res = NULL;
  if (!id || !*id) id = stt_jgetstr(stt_jget(resp, "task"), "id");
  if (!id || !*id) {
    set_err(a, err, "invalid", "volcengine-auc: parse(\"submit\") needs resp.request_id (the X-Api-Request-Id sent)");
    return NULL;
  }
  if (!t || stt_set_str(a, t, "id", id) || stt_set_str(a, t, "request_id", stt_resp_header(resp, "x-tt-logid"))) {
    set_oom(a, err);
    return NULL;
  }
  if (strcmp(code, "20000003") == 0) {
    res = silent_result(a, resp);
  } else if (strcmp(code, "20000000") == 0 && (root = optional_body(a, resp)) && stt_jget(root, "result")) {
    res = vc_result(a, P, vc_model_of(resp), id, stt_jget(root, "result"), stt_jget(root, "audio_info"), root);
  } else {
    if (stt_set_str(a, t, "state", "queued")) { set_oom(a, err); return NULL; }
    return t;
  }
  if (set_done(a, t, res) || stt_set_str(a, t, "provider_state", code)) {
    set_oom(a, err);
    return NULL;
  }
  return t;
}

static stt_json *parse_poll(stt_arena *a, const char *code, const stt_json *resp, long long status,
                            stt_json **err) {
  stt_json *out = stt_jobj(a), *root, *res;
  if (!out || stt_set_str(a, out, "provider_state", code) ||
      stt_set_str(a, out, "request_id", stt_resp_header(resp, "x-tt-logid"))) {
    set_oom(a, err);
    return NULL;
  }
  if (strcmp(code, "20000000") == 0) {
    if (!(root = body_json(a, resp, status, err))) return NULL;
    res = vc_result(a, P, vc_model_of(resp), task_id_of(resp), stt_jget(root, "result"),
                    stt_jget(root, "audio_info"), root);
  } else if (strcmp(code, "20000003") == 0) {
    res = silent_result(a, resp);
  } else {                                                         /* 20000001 | 20000002 */
    if (stt_set_str(a, out, "state", strcmp(code, "20000001") == 0 ? "running" : "queued")) {
      set_oom(a, err);
      return NULL;
    }
    return out;
  }
  if (set_done(a, out, res)) { set_oom(a, err); return NULL; }
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
  if (strcmp(kind, "notice") == 0) return vc_notice(a, &schema, resp, err);
  if (strcmp(kind, "result") == 0 && !code) return parse_result(a, resp, 200, err);
  if (!code || !*code) {
    if (!(*err = http_error(a, resp, status))) set_oom(a, err);
    return NULL;
  }
  if (!in_progress_or_done(code)) {
    if (!(*err = status_error(a, resp, status, code))) set_oom(a, err);
    return NULL;
  }
  /* 20000000 is the documented submit answer; 2000000[12] also mean the task exists (the
   * query will tell its state), so they are accepted rather than lost as errors; 20000003 is
   * silent audio, already final. */
  if (strcmp(kind, "submit") == 0) return parse_submit(a, code, resp, err);
  if (strcmp(kind, "poll") == 0) return parse_poll(a, code, resp, status, err);
  if (strcmp(kind, "result") == 0) {
    if (strcmp(code, "20000003") == 0) {
      stt_json *out = silent_result(a, resp);
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
