/* turing.c - wire schema for TCL Turing speech-to-text (provider "turing"), which wraps Alibaba
 * Tingwu (`service_name: "aliyun/tingwu"`). Facts: shared/reference/providers.md §1 and §8.12;
 * seed 000_a4aea34a03663a68.txt (the only public page). Pure: no I/O, no clock, no env, no globals.
 *
 * build(op):  submit | poll | hotwords   (cancel, fetch: unsupported -- none documented)
 * parse(kind): submit | poll | result    (the result arrives inline in the poll answer)
 *
 * Every answer is an envelope {code, message, data}; code ~= 0 is an error whatever the HTTP
 * status (§1.4). The model is the service_name ("aliyun/tingwu", the only documented one).
 * job.extra merges recursively into the body root, AFTER the normalized options: the doc's
 * "extra" body field is reached as extra = {extra = {...}} or, for transcoding, through the
 * job.transcoding option, which sends {"extra":{"Parameters":{"Transcoding":{...}}}} as the
 * doc's example does. */
#include "../provider.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define P "turing"
#define BASE "https://live-turing.cn.llm.tcljd.com/api/v1"
#define DEFAULT_MODEL "aliyun/tingwu"
#define MSG_MAX 768
#define COUNT(x) (sizeof(x) / sizeof((x)[0]))

#if defined(__GNUC__)
#define PRINTF_LIKE(f, v) __attribute__((format(printf, f, v)))
#else
#define PRINTF_LIKE(f, v)
#endif

static void set_err(stt_arena *a, stt_json **err, const char *kind, const char *fmt, ...) PRINTF_LIKE(4, 5);
static void set_err(stt_arena *a, stt_json **err, const char *kind, const char *fmt, ...) {
  char msg[MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (err) *err = stt_make_error(a, P, kind, 0, NULL, NULL, 0, "%s", msg);
}

static void set_oom(stt_arena *a, stt_json **err) { set_err(a, err, "protocol", "turing: out of memory"); }

static const stt_json *opt_get(const stt_json *job, const char *name) {
  const stt_json *v = stt_jget(job, name);
  return stt_jis(v, STT_JNULL) ? NULL : v;
}

static int set_str(stt_arena *a, stt_json *obj, const char *key, const char *v) {
  return v && *v ? stt_jset(a, obj, key, stt_jstr(a, v)) : 0;
}

/* ========================================================================================== */
/* models, base URL, auth */

static const char *const models[] = {DEFAULT_MODEL};

static const char *pick_model(stt_arena *a, const stt_json *args, stt_json **err) {
  const char *m = stt_jgetstr(stt_jget(args, "job"), "model");
  size_t k;
  if (!m || !*m) m = stt_jgetstr(args, "model");
  if (!m || !*m) return DEFAULT_MODEL;
  for (k = 0; k < COUNT(models); k++)
    if (strcmp(m, models[k]) == 0) return models[k];
  set_err(a, err, "unsupported", "model \"%.80s\" is not supported by turing (known: aliyun/tingwu)", m);
  return NULL;
}

static const char *base_url(stt_arena *a, const stt_json *args) {
  const stt_json *b = stt_jget(args, "base_url");
  if (stt_jis(b, STT_JSTR) && b->slen > 0) {
    size_t n = b->slen;
    if (b->s[n - 1] == '/') n--;
    return stt_arena_strndup(a, b->s, n);
  }
  return BASE;
}

static const char *bearer(stt_arena *a, const stt_json *args, stt_json **err) {
  const stt_json *k = stt_jget(args, "api_key");
  if (!stt_jis(k, STT_JSTR) || k->slen == 0) {
    set_err(a, err, "auth", "turing: no API key (set TURING_API_KEY or pass api_key)");
    return NULL;
  }
  if (memchr(k->s, '\r', k->slen) || memchr(k->s, '\n', k->slen) || strlen(k->s) != k->slen) {
    set_err(a, err, "auth", "turing: the API key contains a line break or NUL (check TURING_API_KEY)");
    return NULL;
  }
  return stt_arena_printf(a, "Bearer %s", k->s);
}

static char *url_escape(stt_arena *a, const char *s, size_t n) {
  static const char hex[] = "0123456789ABCDEF";
  char *out = stt_arena_alloc(a, n * 3 + 1), *o = out;
  size_t k;
  if (!out) return NULL;
  for (k = 0; k < n; k++) {
    unsigned char c = (unsigned char)s[k];
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      *o++ = (char)c;
    } else {
      *o++ = '%';
      *o++ = hex[c >> 4];
      *o++ = hex[c & 15];
    }
  }
  *o = '\0';
  return out;
}

/* ========================================================================================== */
/* submit: options */

typedef struct {
  stt_arena *a;
  stt_json **err;
  const char *model;
  stt_json *body;
} sub_ctx;

static int unsupported(sub_ctx *c, const char *opt, const char *hint) {
  set_err(c->a, c->err, "unsupported", "option \"%.60s\" is not supported by turing model \"%s\"%s", opt,
          c->model, hint ? hint : "");
  return -1;
}

static int invalid(sub_ctx *c, const char *opt, const char *what) {
  set_err(c->a, c->err, "invalid", "option \"%s\" %s (turing model \"%s\")", opt, what, c->model);
  return -1;
}

static int put(sub_ctx *c, stt_json *obj, const char *key, stt_json *v) {
  if (stt_jset(c->a, obj, key, v) == 0) return 0;
  set_oom(c->a, c->err);
  return -1;
}

/* language_code takes Tingwu's SourceLanguage values (INFERENCE, §1.2): cn (not zh), en, yue, ja,
 * and fspk (free multilingual) for "auto" / "multi". */
static int opt_language(sub_ctx *c, const stt_json *v) {
  static const char *const map[][2] = {
    {"zh", "cn"}, {"cn", "cn"}, {"en", "en"}, {"yue", "yue"}, {"ja", "ja"},
    {"auto", "fspk"}, {"multi", "fspk"}, {"fspk", "fspk"},
  };
  size_t k;
  if (stt_jis(v, STT_JSTR))
    for (k = 0; k < COUNT(map); k++)
      if (strcmp(v->s, map[k][0]) == 0) return put(c, c->body, "language_code", stt_jstr(c->a, map[k][1]));
  return invalid(c, "language", "must be one of zh (sent as cn), en, yue, ja, auto or multi (sent as fspk)");
}

/* diarization {enabled, speaker_number}: true -> enabled without a count (Tingwu: 0 = unknown);
 * n >= 2 -> with speaker_number n; 1 or false -> enabled = false (sent: the default is not
 * documented). */
static int opt_speakers(sub_ctx *c, const stt_json *v) {
  stt_json *d = stt_jobj(c->a);
  long long n = 0;
  int on;
  if (!d) { set_oom(c->a, c->err); return -1; }
  if (stt_jis(v, STT_JBOOL)) {
    on = v->b;
  } else {
    if (!stt_json_int(v, &n) || n < 1 || n > 100)
      return invalid(c, "speakers", "must be true or an integer from 1 to 100");
    on = n > 1;
  }
  if (put(c, d, "enabled", stt_jbool(c->a, on)) || (on && n > 1 && put(c, d, "speaker_number", stt_jint(c->a, n))))
    return -1;
  return put(c, c->body, "diarization", d);
}

/* phrase_set: its shape is UNCONFIRMED (named on the doc page only: "pass person, product and
 * brand names"). We send a list of {word, weight?} objects for hot words (weight only when given),
 * and the id string for phrase_id (Tingwu's PhraseId, the likely backend, INFERENCE). */
static stt_json *phrase_list(stt_arena *a, const stt_json *list, const char **why) {
  stt_hotword *hw = NULL;
  stt_json *arr;
  int n, k;
  if ((n = stt_hotwords_read(a, list, &hw, why)) < 0) return NULL;
  if (!(arr = stt_jarr(a))) { *why = NULL; return NULL; }
  for (k = 0; k < n; k++) {
    stt_json *e = stt_jobj(a);
    if (!e || stt_jset(a, e, "word", stt_jstrn(a, hw[k].word, hw[k].len)) ||
        (hw[k].has_weight && stt_jset(a, e, "weight", stt_jint(a, hw[k].weight))) || stt_jpush(arr, e)) {
      *why = NULL;
      return NULL;
    }
  }
  return arr;
}

static int opt_hotwords(sub_ctx *c, const stt_json *v) {
  const char *why;
  stt_json *arr;
  if (opt_get(c->body, "phrase_set")) return invalid(c, "hotwords", "and \"phrase_id\" are exclusive (both are phrase_set)");
  if (!(arr = phrase_list(c->a, v, &why))) {
    if (why) return invalid(c, "hotwords", why);
    set_oom(c->a, c->err);
    return -1;
  }
  return put(c, c->body, "phrase_set", arr);
}

static int opt_phrase_id(sub_ctx *c, const stt_json *v) {
  if (!stt_jis(v, STT_JSTR) || v->slen == 0) return invalid(c, "phrase_id", "must be a non-empty string");
  return put(c, c->body, "phrase_set", stt_jstrn(c->a, v->s, v->slen));
}

/* transcoding = {TargetAudioFormat = "mp3", ...} -> extra.Parameters.Transcoding (the doc's own
 * example of the "extra" field). */
static int opt_transcoding(sub_ctx *c, const stt_json *v) {
  stt_json *extra = stt_jobj(c->a), *params = stt_jobj(c->a);
  if (!stt_jis(v, STT_JOBJ)) return invalid(c, "transcoding", "must be a table like {TargetAudioFormat = \"mp3\"}");
  if (!extra || !params) { set_oom(c->a, c->err); return -1; }
  if (put(c, params, "Transcoding", stt_jclone(c->a, v)) || put(c, extra, "Parameters", params)) return -1;
  return put(c, c->body, "extra", extra);
}

typedef int (*opt_fn)(sub_ctx *c, const stt_json *v);

/* One table maps or refuses: how (the wire field, for the capability table) and the handler,
 * run in this order after service_name / file. Options not listed are refused. */
static const struct { const char *name; const char *how; opt_fn fn; } options[] = {
  {"url", "file.file_uri (file.type = public_uri)", NULL},
  {"urls", NULL, NULL},                                  /* one file per task */
  {"language", "language_code (zh -> cn; auto/multi -> fspk)", opt_language},
  {"speakers", "diarization.enabled, speaker_number", opt_speakers},
  {"phrase_id", "phrase_set (the id string)", opt_phrase_id},
  {"hotwords", "phrase_set ([{word, weight}])", opt_hotwords},
  {"transcoding", "extra.Parameters.Transcoding", opt_transcoding},
  {"extra", "merged into the body root (recursively)", NULL},
};

static const char *const passthrough[] = {"model", "force", "id"};

static int known_key(const stt_json *m) {
  size_t k;
  if (strlen(m->key) != m->klen) return 0;
  for (k = 0; k < COUNT(options); k++)
    if (strcmp(m->key, options[k].name) == 0) return 1;
  for (k = 0; k < COUNT(passthrough); k++)
    if (strcmp(m->key, passthrough[k]) == 0) return 1;
  return 0;
}

static int set_input(sub_ctx *c, const stt_json *job) {
  const stt_json *url = opt_get(job, "url"), *urls = opt_get(job, "urls");
  stt_json *file = stt_jobj(c->a);
  if (!file) { set_oom(c->a, c->err); return -1; }
  if (url && urls) return invalid(c, "url", "and \"urls\" are exclusive: give one of them");
  if (!url && !urls) return invalid(c, "url", "is missing: the job needs url");
  if (urls) {
    if (!stt_jis(urls, STT_JARR) || urls->count == 0) return invalid(c, "urls", "must be a non-empty array of URLs");
    if (urls->count > 1) return unsupported(c, "urls", " (one file per task: submit one task per URL)");
    url = urls->child;
  }
  if (!stt_jis(url, STT_JSTR) || url->slen == 0) return invalid(c, urls ? "urls" : "url", "must be a non-empty URL string");
  if (put(c, file, "type", stt_jstr(c->a, "public_uri")) ||
      put(c, file, "file_uri", stt_jstrn(c->a, url->s, url->slen)))
    return -1;
  return put(c, c->body, "file", file);
}

/* {service_name, language_code?, file, diarization?, phrase_set?, extra?, turing_options}.
 * turing_options.include_service_usages is always sent: usage is part of every Result, and it
 * changes no recognition. */
static stt_json *submit_body(stt_arena *a, const stt_json *args, stt_json **err) {
  const stt_json *job = stt_jget(args, "job"), *m, *extra;
  stt_json *topts;
  sub_ctx c;
  size_t k;
  memset(&c, 0, sizeof c);
  c.a = a;
  c.err = err;
  if (!(c.model = pick_model(a, args, err))) return NULL;
  if (job && !stt_jis(job, STT_JOBJ)) { set_err(a, err, "invalid", "turing: job must be a table"); return NULL; }
  for (m = job ? job->child : NULL; m; m = m->next)
    if (!known_key(m)) { unsupported(&c, m->key, NULL); return NULL; }
  if (!(c.body = stt_jobj(a)) || !(topts = stt_jobj(a))) { set_oom(a, err); return NULL; }
  if (put(&c, c.body, "service_name", stt_jstr(a, c.model))) return NULL;
  /* language_code comes before file in the doc's example: run it first */
  if (opt_get(job, "language") && opt_language(&c, opt_get(job, "language"))) return NULL;
  if (set_input(&c, job)) return NULL;
  for (k = 0; k < COUNT(options); k++) {
    const stt_json *v = opt_get(job, options[k].name);
    if (v && options[k].fn && options[k].fn != opt_language && options[k].fn(&c, v)) return NULL;
  }
  if (put(&c, topts, "include_service_usages", stt_jbool(a, 1)) || put(&c, c.body, "turing_options", topts))
    return NULL;
  extra = opt_get(job, "extra");
  if (extra && !(stt_jis(extra, STT_JARR) && extra->count == 0)) {
    if (!stt_jis(extra, STT_JOBJ)) { invalid(&c, "extra", "must be a table of body fields"); return NULL; }
    if (stt_json_merge(a, c.body, extra)) { set_oom(a, err); return NULL; }
  }
  return c.body;
}

/* ========================================================================================== */
/* build */

static stt_json *build_submit(stt_arena *a, const stt_json *args, stt_json **err) {
  const char *auth;
  stt_json *body, *req;
  if (!(auth = bearer(a, args, err)) || !(body = submit_body(a, args, err))) return NULL;
  req = stt_req_new(a, "POST", stt_arena_printf(a, "%s/audio/transcriptions/runs", base_url(a, args)));
  if (!req || stt_req_header(a, req, "Authorization", auth) ||
      stt_req_header(a, req, "Content-Type", "application/json") || stt_req_body_json(a, req, body)) {
    set_oom(a, err);
    return NULL;
  }
  return req;
}

static stt_json *build_poll(stt_arena *a, const stt_json *args, stt_json **err) {
  const stt_json *id = stt_jget(stt_jget(args, "task"), "id");
  const char *auth, *eid;
  stt_json *req;
  if (!stt_jis(id, STT_JSTR) || id->slen == 0) {
    set_err(a, err, "invalid", "turing: task.id is missing (the task_run_id returned by submit)");
    return NULL;
  }
  if (!(auth = bearer(a, args, err))) return NULL;
  eid = url_escape(a, id->s, id->slen);
  req = eid ? stt_req_new(a, "GET", stt_arena_printf(a, "%s/audio/transcriptions/runs/%s", base_url(a, args), eid))
            : NULL;
  if (!req || stt_req_header(a, req, "Authorization", auth)) {
    set_oom(a, err);
    return NULL;
  }
  return req;
}

static stt_json *build_hotwords(stt_arena *a, const stt_json *args, stt_json **err) {
  const char *model = pick_model(a, args, err), *why;
  stt_json *out, *v;
  if (!model) return NULL;
  if (!(v = phrase_list(a, stt_jget(args, "hotwords"), &why))) {
    if (why) set_err(a, err, "invalid", "option \"hotwords\" %s (turing model \"%s\")", why, model);
    else set_oom(a, err);
    return NULL;
  }
  if (!(out = stt_jobj(a)) || stt_jset(a, out, "field", stt_jstr(a, "phrase_set")) || stt_jset(a, out, "value", v)) {
    set_oom(a, err);
    return NULL;
  }
  return out;
}

static stt_json *build(stt_arena *a, const char *op, const stt_json *args, stt_json **err) {
  if (!op) op = "";
  if (strcmp(op, "submit") == 0) return build_submit(a, args, err);
  if (strcmp(op, "poll") == 0) return build_poll(a, args, err);
  if (strcmp(op, "hotwords") == 0) return build_hotwords(a, args, err);
  if (strcmp(op, "cancel") == 0 || strcmp(op, "fetch") == 0) {
    set_err(a, err, "unsupported", "turing has no %s operation: %s", op,
            strcmp(op, "cancel") == 0 ? "none is documented" : "results arrive inline in poll");
    return NULL;
  }
  set_err(a, err, "invalid", "turing: unknown build op \"%.40s\"", op);
  return NULL;
}

/* ========================================================================================== */
/* parse: errors */

typedef struct { const char *kind; int retryable; } err_class;

static err_class by_status(long long s) {
  err_class e = {"protocol", 0};
  if (s == 400 || s == 422) e.kind = "invalid";
  else if (s == 401 || s == 403) e.kind = "auth";
  else if (s == 402) e.kind = "quota";
  else if (s == 404) e.kind = "not_found";
  else if (s == 429) { e.kind = "throttled"; e.retryable = 1; }
  else if (s >= 500 && s <= 599) { e.kind = "server"; e.retryable = 1; }
  return e;
}

/* The error code catalogue is UNCONFIRMED (§1.3). Codes that read as an HTTP status (401) or
 * start with one (40101, 50001) are classed like that status (INFERENCE); Tingwu's throttling
 * code Throttling.User is throttled; anything else follows the HTTP status. A non-zero code in a
 * 2xx answer is a deliberate refusal: it is retried only when it reads as throttling. */
static err_class classify(long long status, long long code, const char *scode) {
  err_class e = by_status(status);
  long long c = code;
  int ok_http = status >= 200 && status <= 299;
  if (scode && strncmp(scode, "Throttling", 10) == 0) { e.kind = "throttled"; e.retryable = 1; return e; }
  while (c >= 1000) c /= 10;
  if (code > 0 && c >= 400 && c <= 599 && strcmp(by_status(c).kind, "protocol") != 0) {
    e = by_status(c);
    if (ok_http && strcmp(e.kind, "throttled") != 0) e.retryable = 0;
    return e;
  }
  if (ok_http) e.kind = "invalid";
  return e;
}

static const char *header(const stt_json *resp, const char *name) {
  return stt_jgetstr(stt_jget(resp, "headers"), name);
}

static const char *request_id(const stt_json *root, const stt_json *resp) {
  const char *rid = stt_jgetstr(root, "request_id");
  if (!rid) rid = stt_jgetstr(stt_jget(root, "data"), "request_id");
  if (!rid) rid = header(resp, "x-request-id");
  return rid;
}

/* code: an integer (documented: 0 = success); a string code is accepted too ("0" is success). */
static int envelope_code(stt_arena *a, const stt_json *root, long long *n, const char **s) {
  const stt_json *c = stt_jget(root, "code");
  *n = 0;
  *s = NULL;
  if (!c || stt_jis(c, STT_JNULL)) return 0;
  if (stt_json_int(c, n)) { *s = stt_arena_printf(a, "%lld", *n); return *n != 0; }
  if (stt_jis(c, STT_JSTR)) {
    char *end;
    *s = c->s;
    *n = strtoll(c->s, &end, 10);
    if (*end) *n = -1;
    return strcmp(c->s, "0") != 0 && c->slen > 0;
  }
  *s = "?";
  *n = -1;
  return 1;
}

static stt_json *error_of(stt_arena *a, const stt_json *root, const stt_json *resp, long long status) {
  const stt_json *body = stt_jget(resp, "body");
  const char *msg = stt_jgetstr(root, "message"), *scode;
  long long code, ra;
  err_class k;
  stt_json *e;
  envelope_code(a, root, &code, &scode);
  k = classify(status, code, scode);
  if (!msg) msg = stt_jgetstr(root, "msg");
  if (!root && stt_jis(body, STT_JSTR) && body->slen) msg = stt_sanitize(a, body->s, body->slen, 200);
  e = stt_make_error(a, P, k.kind, (int)status, scode, request_id(root, resp), k.retryable,
                     "turing HTTP %lld code %s: %s", status, scode ? scode : "-", msg && *msg ? msg : "(no message)");
  if (e && stt_retry_after(resp, &ra) && stt_jset(a, e, "retry_after", stt_jint(a, ra))) return NULL;
  return e;
}

/* ========================================================================================== */
/* parse: submit, poll, result */

/* running / completed / failed are documented; queued-like names map to queued; anything else is
 * in progress, reported as provider_state (§1.4). */
static const char *map_state(const char *s) {
  static const char *const map[][2] = {
    {"running", "running"}, {"completed", "succeeded"}, {"failed", "failed"},
    {"queued", "queued"}, {"pending", "queued"}, {"created", "queued"}, {"canceled", "canceled"},
    {"cancelled", "canceled"},
  };
  size_t k;
  for (k = 0; s && k < COUNT(map); k++)
    if (strcmp(s, map[k][0]) == 0) return map[k][1];
  return "running";
}

static stt_json *parse_submit(stt_arena *a, const stt_json *root, const stt_json *resp, stt_json **err) {
  const stt_json *d = stt_jget(root, "data");
  const char *id = stt_jgetstr(d, "task_run_id"), *st = stt_jgetstr(d, "task_run_state");
  const char *state = st ? map_state(st) : "queued";
  stt_json *t = stt_jobj(a);
  if (!id || !*id) {
    *err = stt_make_error(a, P, "protocol", 0, NULL, request_id(root, resp), 0,
                          "turing: submit answer has no data.task_run_id");
    return NULL;
  }
  if (strcmp(state, "running") != 0) state = "queued";
  if (!t || set_str(a, t, "id", id) || set_str(a, t, "state", state) ||
      set_str(a, t, "request_id", request_id(root, resp))) {
    set_oom(a, err);
    return NULL;
  }
  return t;
}

static int set_time(stt_arena *a, stt_json *dst, const char *key, const stt_json *src, const char *f1,
                    const char *f2) {
  const stt_json *v = stt_jget(src, f1);
  if (!stt_jis(v, STT_JNUM)) v = stt_jget(src, f2);
  if (!stt_jis(v, STT_JNUM) || !(v->n >= 0 && v->n < 9e15)) return 0;
  return stt_jset(a, dst, key, stt_jint(a, (long long)(v->n + 0.5)));
}

static const stt_json *field2(const stt_json *o, const char *f1, const char *f2) {
  const stt_json *v = stt_jget(o, f1);
  return v ? v : stt_jget(o, f2);
}

/* words shape is UNCONFIRMED: {start_time, end_time, text} like segments, or Tingwu's
 * {Start, End, Text} (§1.3); confidence when present. */
static stt_json *make_word(stt_arena *a, const stt_json *w) {
  stt_json *o = stt_jobj(a);
  const stt_json *text = field2(w, "text", "Text"), *conf = stt_jget(w, "confidence");
  if (!o || set_time(a, o, "start_ms", w, "start_time", "Start") || set_time(a, o, "end_ms", w, "end_time", "End") ||
      stt_jset(a, o, "text", stt_jis(text, STT_JSTR) ? stt_jstrn(a, text->s, text->slen) : stt_jstr(a, "")))
    return NULL;
  if (stt_jis(conf, STT_JNUM) && stt_jset(a, o, "confidence", stt_jnum(a, conf->n))) return NULL;
  return o;
}

/* Speakers are strings; the field name is UNCONFIRMED: speaker, speaker_id or Tingwu's SpeakerId. */
static int set_speaker(stt_arena *a, stt_json *seg, const stt_json *s) {
  const stt_json *sp = field2(s, "speaker", "speaker_id");
  long long n;
  if (!sp) sp = stt_jget(s, "SpeakerId");
  if (stt_jis(sp, STT_JSTR) && sp->slen) return stt_jset(a, seg, "speaker", stt_jstrn(a, sp->s, sp->slen));
  if (stt_json_int(sp, &n)) return stt_jset(a, seg, "speaker", stt_jstr(a, stt_arena_printf(a, "%lld", n)));
  return 0;
}

static stt_json *make_segment(stt_arena *a, const stt_json *s) {
  stt_json *seg = stt_jobj(a), *words;
  const stt_json *text = stt_jget(s, "text"), *wl = stt_jget(s, "words"), *w;
  if (!seg || set_time(a, seg, "start_ms", s, "start_time", "Start") || set_time(a, seg, "end_ms", s, "end_time", "End") ||
      stt_jset(a, seg, "text", stt_jis(text, STT_JSTR) ? stt_jstrn(a, text->s, text->slen) : stt_jstr(a, "")) ||
      set_speaker(a, seg, s))
    return NULL;
  if (!stt_jis(wl, STT_JARR) || wl->count == 0) return seg;   /* the doc's example: words = [] */
  if (!(words = stt_jarr(a))) return NULL;
  for (w = wl->child; w; w = w->next)
    if (stt_jpush(words, make_word(a, w))) return NULL;
  return stt_jset(a, seg, "words", words) ? NULL : seg;
}

/* The usage block is UNCONFIRMED (§1.2): billed time is taken from data.service_usages (or
 * data.usage) when it holds duration_ms / billed_ms, or seconds / duration (seconds); the audio
 * length from audio_info.duration_ms. */
static int find_billed(const stt_json *u, long long *out) {
  const stt_json *v, *c;
  if (stt_jis(u, STT_JARR)) {
    for (c = u->child; c; c = c->next)
      if (find_billed(c, out)) return 1;
    return 0;
  }
  if (!stt_jis(u, STT_JOBJ)) return 0;
  if (stt_jis(v = field2(u, "billed_ms", "duration_ms"), STT_JNUM) && v->n >= 0 && v->n < 9e15) {
    *out = (long long)(v->n + 0.5);
    return 1;
  }
  if (stt_jis(v = field2(u, "seconds", "duration"), STT_JNUM) && v->n >= 0 && v->n < 9e12) {
    *out = (long long)(v->n * 1000 + 0.5);
    return 1;
  }
  return find_billed(stt_jget(u, "usage"), out);
}

static int set_usage(stt_arena *a, stt_json *out, const stt_json *d) {
  const stt_json *dur = stt_jget(stt_jget(d, "audio_info"), "duration_ms");
  const stt_json *su = stt_jget(d, "service_usages");
  stt_json *u = stt_jobj(a);
  long long billed;
  if (!u) return -1;
  if (!su) su = stt_jget(d, "usage");
  if (stt_jis(dur, STT_JNUM) && dur->n >= 0 && stt_jset(a, u, "audio_ms", stt_jint(a, (long long)(dur->n + 0.5))))
    return -1;
  if (find_billed(su, &billed) && stt_jset(a, u, "billed_ms", stt_jint(a, billed))) return -1;
  return u->count ? stt_jset(a, out, "usage", u) : 0;
}

static const char *model_of(const stt_json *resp) {
  const char *m = stt_jgetstr(resp, "model");
  if (!m || !*m) m = stt_jgetstr(stt_jget(resp, "task"), "model");
  return m && *m ? m : DEFAULT_MODEL;
}

static stt_json *make_result(stt_arena *a, const stt_json *d, const stt_json *resp, stt_json *raw) {
  const stt_json *segs_in = stt_jget(d, "segments"), *s, *tx = stt_jget(d, "transcript");
  const stt_json *dur = stt_jget(stt_jget(d, "audio_info"), "duration_ms");
  const char *id = stt_jgetstr(d, "task_run_id");
  stt_json *out = stt_jobj(a), *segs = stt_jarr(a);
  if (!id) id = stt_jgetstr(stt_jget(resp, "task"), "id");
  if (!out || !segs) return NULL;
  for (s = stt_jis(segs_in, STT_JARR) ? segs_in->child : NULL; s; s = s->next)
    if (stt_jpush(segs, make_segment(a, s))) return NULL;
  if (!stt_jis(tx, STT_JSTR)) tx = stt_jget(d, "text");
  if (set_str(a, out, "provider", P) || set_str(a, out, "model", model_of(resp)) || set_str(a, out, "task_id", id) ||
      stt_jset(a, out, "text", stt_jis(tx, STT_JSTR) ? stt_jstrn(a, tx->s, tx->slen) : stt_jstr(a, "")) ||
      (stt_jis(dur, STT_JNUM) && dur->n >= 0 && stt_jset(a, out, "duration_ms", stt_jint(a, (long long)(dur->n + 0.5)))) ||
      stt_jset(a, out, "segments", segs) || set_usage(a, out, d) || (raw && stt_jset(a, out, "raw", raw)))
    return NULL;
  return out;
}

/* failed: the body is UNCONFIRMED; the error text is looked for in data.error (a string or
 * {code, message}), data.error_message, data.message, then the envelope message. */
static stt_json *task_error(stt_arena *a, const stt_json *root, const stt_json *d, const stt_json *resp) {
  const stt_json *e = stt_jget(d, "error");
  const char *msg = stt_jis(e, STT_JSTR) ? e->s : stt_jgetstr(e, "message"), *code = stt_jgetstr(e, "code");
  if (!msg) msg = stt_jgetstr(d, "error_message");
  if (!msg) msg = stt_jgetstr(d, "message");
  if (!code) code = stt_jgetstr(d, "error_code");
  if (!msg || !*msg || strcmp(msg, "Success") == 0) msg = NULL;
  return stt_make_error(a, P, "task_failed", 0, code, request_id(root, resp), 0, "%s",
                        msg ? msg : "turing: the task failed");
}

static stt_json *parse_poll(stt_arena *a, stt_json *root, const stt_json *resp, stt_json **err) {
  const stt_json *d = stt_jget(root, "data");
  const char *ps = stt_jgetstr(d, "task_run_state"), *state;
  stt_json *out = stt_jobj(a), *res = NULL, *e = NULL;
  if (!ps || !*ps) {
    *err = stt_make_error(a, P, "protocol", 0, NULL, request_id(root, resp), 0,
                          "turing: poll answer has no data.task_run_state");
    return NULL;
  }
  state = map_state(ps);
  if (strcmp(state, "succeeded") == 0 && !(res = make_result(a, d, resp, root))) { set_oom(a, err); return NULL; }
  if (strcmp(state, "failed") == 0 && !(e = task_error(a, root, d, resp))) { set_oom(a, err); return NULL; }
  if (!out || set_str(a, out, "state", state) || set_str(a, out, "provider_state", ps) ||
      set_str(a, out, "request_id", request_id(root, resp)) || (res && stt_jset(a, out, "result", res)) ||
      (res && stt_jget(res, "usage") && stt_jset(a, out, "usage", stt_jclone(a, stt_jget(res, "usage")))) ||
      (e && stt_jset(a, out, "error", e))) {
    set_oom(a, err);
    return NULL;
  }
  return out;
}

static stt_json *parse(stt_arena *a, const char *kind, const stt_json *resp, stt_json **err) {
  long long status = stt_jgetint(resp, "status", 0), code;
  const stt_json *body = stt_jget(resp, "body");
  const char *scode;
  char msg[200];
  stt_json *root = NULL;
  if (!kind) kind = "";
  if (stt_jis(body, STT_JSTR) && body->slen) root = stt_json_parse(a, body->s, body->slen, msg, sizeof msg);
  if (!stt_jis(root, STT_JOBJ)) root = NULL;
  /* non-2xx, or code ~= 0 in any status: an error */
  if (status < 200 || status > 299 || (root && envelope_code(a, root, &code, &scode))) {
    if (!(*err = error_of(a, root, resp, status))) set_oom(a, err);
    return NULL;
  }
  if (!root) {
    *err = stt_make_error(a, P, "protocol", (int)status, NULL, header(resp, "x-request-id"), 1,
                          "turing HTTP %lld with a body that is not a JSON object", status);
    return NULL;
  }
  if (strcmp(kind, "submit") == 0) return parse_submit(a, root, resp, err);
  if (strcmp(kind, "poll") == 0) return parse_poll(a, root, resp, err);
  if (strcmp(kind, "result") == 0) {
    stt_json *out = make_result(a, stt_jget(root, "data") ? stt_jget(root, "data") : root, resp, root);
    if (!out) set_oom(a, err);
    return out;
  }
  set_err(a, err, "invalid", "turing: unknown parse kind \"%.40s\"", kind);
  return NULL;
}

/* ========================================================================================== */
/* capability table */

static const char *caps_how(stt_arena *a, const char *opt, const void *ctx) {
  size_t k;
  (void)a;
  (void)ctx;
  for (k = 0; k < COUNT(options); k++)
    if (strcmp(options[k].name, opt) == 0) return options[k].how;
  return NULL;
}

static stt_json *caps(stt_arena *a) {
  stt_json *ms, *c = stt_caps_new(a, DEFAULT_MODEL, &ms);
  size_t k;
  if (!c) return NULL;
  for (k = 0; k < COUNT(models); k++)
    if (stt_jset(a, ms, models[k], stt_caps_model(a, 1, caps_how, NULL))) return NULL;
  return c;
}

const stt_provider stt_provider_turing = {P, build, parse, caps};
