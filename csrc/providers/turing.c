/* turing.c - wire schema for TCL Turing speech-to-text (provider "turing"), which wraps Alibaba
 * Tingwu (`service_name: "aliyun/tingwu"`). Facts: docs/providers.md#tcl-turing; the only public
 * page, https://live-turing-docs.cn.llm.tcljd.com/api-guides/generation/stt/ . Pure: no I/O, no
 * clock, no env, no globals.
 *
 * build(op):  submit | poll | hotwords   (cancel, fetch: unsupported -- none documented)
 * parse(kind): submit | poll | result    (the result arrives inline in the poll answer)
 *
 * Every answer is an envelope {code, message, data}; code ~= 0 is an error whatever the HTTP
 * status (docs/providers.md#turing-envelope-and-states). The model is the service_name
 * ("aliyun/tingwu", the only documented one).
 * job.extra merges recursively into the body root, AFTER the normalized options: the doc's
 * "extra" body field is reached as extra = {extra = {...}} or, for transcoding, through the
 * job.transcoding option, which sends {"extra":{"Parameters":{"Transcoding":{...}}}} as the
 * doc's example does. */
#include "../provider.h"

#include <stdlib.h>
#include <string.h>

#define P "turing"
#define BASE "https://live-turing.cn.llm.tcljd.com/api/v1"
#define DEFAULT_MODEL "aliyun/tingwu"
#define COUNT(x) (sizeof(x) / sizeof((x)[0]))

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
  stt_set_error(a, err, P, "unsupported", 0, "model \"%.80s\" is not supported by turing (known: aliyun/tingwu)", m);
  return NULL;
}

static const char *base_url(stt_arena *a, const stt_json *args) {
  const stt_json *b = stt_jget(args, "base_url");
  return stt_jis(b, STT_JSTR) && b->slen > 0 ? stt_explicit_base(a, args) : BASE;
}

static const char *bearer(stt_arena *a, const stt_json *args, stt_json **err) {
  const stt_json *k = stt_api_key(a, args, P, err);
  return k ? stt_arena_printf(a, "Bearer %s", k->s) : NULL;
}

/* ========================================================================================== */
/* submit: options */

typedef struct {
  stt_opt_ctx o;
  stt_json *body;
} sub_ctx;

/* language_code takes Tingwu's SourceLanguage values (INFERENCE, docs/providers.md#turing-submit):
 * cn (not zh), en, yue, ja, and fspk (free multilingual) for "auto" / "multi". */
static int opt_language(sub_ctx *c, const stt_json *v) {
  static const char *const map[][2] = {
    {"zh", "cn"}, {"cn", "cn"}, {"en", "en"}, {"yue", "yue"}, {"ja", "ja"},
    {"auto", "fspk"}, {"multi", "fspk"}, {"fspk", "fspk"},
  };
  size_t k;
  if (stt_jis(v, STT_JSTR))
    for (k = 0; k < COUNT(map); k++)
      if (strcmp(v->s, map[k][0]) == 0) return stt_opt_put(&c->o, c->body, "language_code", stt_jstr(c->o.a, map[k][1]));
  return stt_opt_invalid(&c->o, "language", "must be one of zh (sent as cn), en, yue, ja, auto or multi (sent as fspk)");
}

/* diarization {enabled, speaker_number}: true -> enabled without a count (Tingwu: 0 = unknown);
 * n >= 2 -> with speaker_number n; 1 or false -> enabled = false (sent: the default is not
 * documented). */
static int opt_speakers(sub_ctx *c, const stt_json *v) {
  stt_json *d = stt_jobj(c->o.a);
  long long n = 0;
  int on;
  if (!d) { stt_set_oom(c->o.a, c->o.err, P); return -1; }
  if (stt_jis(v, STT_JBOOL)) {
    on = v->b;
  } else {
    if (!stt_json_int(v, &n) || n < 1 || n > 100)
      return stt_opt_invalid(&c->o, "speakers", "must be true or an integer from 1 to 100");
    on = n > 1;
  }
  if (stt_opt_put(&c->o, d, "enabled", stt_jbool(c->o.a, on)) || (on && n > 1 && stt_opt_put(&c->o, d, "speaker_number", stt_jint(c->o.a, n))))
    return -1;
  return stt_opt_put(&c->o, c->body, "diarization", d);
}

/* phrase_set: its shape is UNCONFIRMED (named on the doc page only: "pass person, product and
 * brand names"). We send a list of {word, weight?} objects for hot words (weight only when given),
 * and the id string for phrase_id (Tingwu's PhraseId, the likely backend, INFERENCE). */
static stt_json *phrase_list(stt_arena *a, const stt_json *list, const char **why) {
  return stt_hotword_objects(a, list, 1, why);
}

static int opt_hotwords(sub_ctx *c, const stt_json *v) {
  const char *why;
  stt_json *arr;
  if (stt_opt_get(c->body, "phrase_set")) return stt_opt_invalid(&c->o, "hotwords", "and \"phrase_id\" are exclusive (both are phrase_set)");
  if (!(arr = phrase_list(c->o.a, v, &why))) {
    if (why) return stt_opt_invalid(&c->o, "hotwords", why);
    stt_set_oom(c->o.a, c->o.err, P);
    return -1;
  }
  return stt_opt_put(&c->o, c->body, "phrase_set", arr);
}

static int opt_phrase_id(sub_ctx *c, const stt_json *v) {
  if (!stt_jis(v, STT_JSTR) || v->slen == 0) return stt_opt_invalid(&c->o, "phrase_id", "must be a non-empty string");
  return stt_opt_put(&c->o, c->body, "phrase_set", stt_jstrn(c->o.a, v->s, v->slen));
}

/* transcoding = {TargetAudioFormat = "mp3", ...} -> extra.Parameters.Transcoding (the doc's own
 * example of the "extra" field). */
static int opt_transcoding(sub_ctx *c, const stt_json *v) {
  stt_json *extra = stt_jobj(c->o.a), *params = stt_jobj(c->o.a);
  if (!stt_jis(v, STT_JOBJ)) return stt_opt_invalid(&c->o, "transcoding", "must be a table like {TargetAudioFormat = \"mp3\"}");
  if (!extra || !params) { stt_set_oom(c->o.a, c->o.err, P); return -1; }
  if (stt_opt_put(&c->o, params, "Transcoding", stt_jclone(c->o.a, v)) || stt_opt_put(&c->o, extra, "Parameters", params)) return -1;
  return stt_opt_put(&c->o, c->body, "extra", extra);
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

/* The options row named name, or -1. */
static int find_option(const char *name) {
  size_t k;
  for (k = 0; k < COUNT(options); k++)
    if (strcmp(options[k].name, name) == 0) return (int)k;
  return -1;
}

static int is_option(const char *key) { return find_option(key) >= 0; }

static int set_input(sub_ctx *c, const stt_json *job) {
  const stt_json *url;
  const char *opt;
  stt_json *file = stt_jobj(c->o.a);
  if (!file) { stt_set_oom(c->o.a, c->o.err, P); return -1; }
  if (!(url = stt_opt_one_url(&c->o, job, &opt))) return -1;
  if (!stt_jis(url, STT_JSTR) || url->slen == 0) return stt_opt_invalid(&c->o, opt, "must be a non-empty URL string");
  if (stt_opt_put(&c->o, file, "type", stt_jstr(c->o.a, "public_uri")) ||
      stt_opt_put(&c->o, file, "file_uri", stt_jstrn(c->o.a, url->s, url->slen)))
    return -1;
  return stt_opt_put(&c->o, c->body, "file", file);
}

/* {service_name, language_code?, file, diarization?, phrase_set?, extra?, turing_options}.
 * turing_options.include_service_usages is always sent: usage is part of every Result, and it
 * changes no recognition. */
static stt_json *submit_body(stt_arena *a, const stt_json *args, stt_json **err) {
  const stt_json *job = stt_jget(args, "job"), *m;
  stt_json *topts;
  sub_ctx c;
  size_t k;
  memset(&c, 0, sizeof c);
  stt_opt_init(&c.o, a, err, P, pick_model(a, args, err));
  if (!c.o.model) return NULL;
  if (job && !stt_jis(job, STT_JOBJ)) { stt_set_error(a, err, P, "invalid", 0, "turing: job must be a table"); return NULL; }
  if ((m = stt_unknown_job_key(job, is_option)) != NULL) { stt_opt_unsupported(&c.o, m->key, NULL); return NULL; }
  if (!(c.body = stt_jobj(a)) || !(topts = stt_jobj(a))) { stt_set_oom(a, err, P); return NULL; }
  if (stt_opt_put(&c.o, c.body, "service_name", stt_jstr(a, c.o.model))) return NULL;
  /* language_code comes before file in the doc's example: run it first */
  if (stt_opt_get(job, "language") && opt_language(&c, stt_opt_get(job, "language"))) return NULL;
  if (set_input(&c, job)) return NULL;
  for (k = 0; k < COUNT(options); k++) {
    const stt_json *v = stt_opt_get(job, options[k].name);
    if (v && options[k].fn && options[k].fn != opt_language && options[k].fn(&c, v)) return NULL;
  }
  if (stt_opt_put(&c.o, topts, "include_service_usages", stt_jbool(a, 1)) || stt_opt_put(&c.o, c.body, "turing_options", topts))
    return NULL;
  return stt_opt_merge_extra(&c.o, job, c.body) ? NULL : c.body;
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
    stt_set_oom(a, err, P);
    return NULL;
  }
  return req;
}

static stt_json *build_poll(stt_arena *a, const stt_json *args, stt_json **err) {
  const stt_json *id = stt_jget(stt_jget(args, "task"), "id");
  const char *auth, *eid;
  stt_json *req;
  if (!stt_jis(id, STT_JSTR) || id->slen == 0) {
    stt_set_error(a, err, P, "invalid", 0, "turing: task.id is missing (the task_run_id returned by submit)");
    return NULL;
  }
  if (!(auth = bearer(a, args, err))) return NULL;
  eid = stt_url_escape(a, id->s, id->slen);
  req = eid ? stt_req_new(a, "GET", stt_arena_printf(a, "%s/audio/transcriptions/runs/%s", base_url(a, args), eid))
            : NULL;
  if (!req || stt_req_header(a, req, "Authorization", auth)) {
    stt_set_oom(a, err, P);
    return NULL;
  }
  return req;
}

static stt_json *build_hotwords(stt_arena *a, const stt_json *args, stt_json **err) {
  stt_opt_ctx o;
  const char *why;
  stt_json *out, *v;
  stt_opt_init(&o, a, err, P, pick_model(a, args, err));
  if (!o.model) return NULL;
  if (!(v = phrase_list(a, stt_jget(args, "hotwords"), &why))) {
    if (why) stt_opt_invalid(&o, "hotwords", why);
    else stt_set_oom(a, err, P);
    return NULL;
  }
  if (!(out = stt_jobj(a)) || stt_jset(a, out, "field", stt_jstr(a, "phrase_set")) || stt_jset(a, out, "value", v)) {
    stt_set_oom(a, err, P);
    return NULL;
  }
  return out;
}

static stt_json *build(stt_arena *a, const char *op, const stt_json *args, stt_json **err) {
  if (!op) op = "";
  if (strcmp(op, "submit") == 0 && stt_no_callbacks(a, P, "submit", args, err)) return NULL;   /* no per-task callbacks */
  if (strcmp(op, "submit") == 0) return build_submit(a, args, err);
  if (strcmp(op, "poll") == 0) return build_poll(a, args, err);
  if (strcmp(op, "hotwords") == 0) return build_hotwords(a, args, err);
  if (strcmp(op, "cancel") == 0 || strcmp(op, "fetch") == 0) {
    stt_set_error(a, err, P, "unsupported", 0, "turing has no %s operation: %s", op,
                  strcmp(op, "cancel") == 0 ? "none is documented" : "results arrive inline in poll");
    return NULL;
  }
  stt_set_error(a, err, P, "invalid", 0, "turing: unknown build op \"%.40s\"", op);
  return NULL;
}

/* ========================================================================================== */
/* parse: errors */

typedef struct { const char *kind; int retryable; } err_class;

/* The common status kinds, plus 422 (invalid) and 402 (quota). */
static err_class by_status(long long s) {
  err_class e = {"protocol", 0};
  if (s == 422) e.kind = "invalid";
  else if (s == 402) e.kind = "quota";
  else e.kind = stt_status_kind(s, &e.retryable);
  return e;
}

/* The error code catalogue is UNCONFIRMED (docs/providers.md#turing-errors). Codes that read as
 * an HTTP status (401) or start with one (40101, 50001) are classed like that status
 * (INFERENCE); Tingwu's throttling
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

static const char *request_id(const stt_json *root, const stt_json *resp) {
  const char *rid = stt_jgetstr(root, "request_id");
  if (!rid) rid = stt_jgetstr(stt_jget(root, "data"), "request_id");
  if (!rid) rid = stt_resp_header(resp, "x-request-id");
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
  long long code;
  err_class k;
  stt_json *e;
  envelope_code(a, root, &code, &scode);
  k = classify(status, code, scode);
  if (!msg) msg = stt_jgetstr(root, "msg");
  if (!root && stt_jis(body, STT_JSTR) && body->slen) msg = stt_sanitize(a, body->s, body->slen, 200);
  e = stt_make_error(a, P, k.kind, (int)status, scode, request_id(root, resp), k.retryable,
                     "turing HTTP %lld code %s: %s", status, scode ? scode : "-", msg && *msg ? msg : "(no message)");
  return stt_with_retry_after(a, e, resp);
}

/* ========================================================================================== */
/* parse: submit, poll, result */

/* running / completed / failed are documented; queued-like names map to queued; anything else is
 * in progress, reported as provider_state (docs/providers.md#turing-envelope-and-states). */
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
  if (!t || stt_set_str(a, t, "id", id) || stt_set_str(a, t, "state", state) ||
      stt_set_str(a, t, "request_id", request_id(root, resp))) {
    stt_set_oom(a, err, P);
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
 * {Start, End, Text} (docs/providers.md#turing-result); confidence when present. */
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
  stt_json *seg = stt_jobj(a);
  const stt_json *text = stt_jget(s, "text"), *wl = stt_jget(s, "words");
  if (!seg || set_time(a, seg, "start_ms", s, "start_time", "Start") || set_time(a, seg, "end_ms", s, "end_time", "End") ||
      stt_jset(a, seg, "text", stt_jis(text, STT_JSTR) ? stt_jstrn(a, text->s, text->slen) : stt_jstr(a, "")) ||
      set_speaker(a, seg, s))
    return NULL;
  if (stt_jis(wl, STT_JARR) && wl->count == 0) return seg;   /* the doc's example: words = [] */
  return stt_set_words(a, seg, wl, make_word) ? NULL : seg;
}

/* The usage block is UNCONFIRMED (docs/providers.md#turing-result): billed time is taken from
 * data.service_usages (or data.usage) when it holds duration_ms / billed_ms, or seconds /
 * duration (seconds); the audio length from audio_info.duration_ms. */
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
  if (stt_jis(dur, STT_JNUM) && dur->n >= 0 && dur->n < 9e15 && stt_jset(a, u, "audio_ms", stt_jint(a, (long long)(dur->n + 0.5))))
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
  if (stt_set_str(a, out, "provider", P) || stt_set_str(a, out, "model", model_of(resp)) || stt_set_str(a, out, "task_id", id) ||
      stt_jset(a, out, "text", stt_jis(tx, STT_JSTR) ? stt_jstrn(a, tx->s, tx->slen) : stt_jstr(a, "")) ||
      (stt_jis(dur, STT_JNUM) && dur->n >= 0 && dur->n < 9e15 && stt_jset(a, out, "duration_ms", stt_jint(a, (long long)(dur->n + 0.5)))) ||
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
  if (strcmp(state, "succeeded") == 0 && !(res = make_result(a, d, resp, root))) { stt_set_oom(a, err, P); return NULL; }
  if (strcmp(state, "failed") == 0 && !(e = task_error(a, root, d, resp))) { stt_set_oom(a, err, P); return NULL; }
  if (!out || stt_set_str(a, out, "state", state) || stt_set_str(a, out, "provider_state", ps) ||
      stt_set_str(a, out, "request_id", request_id(root, resp)) || (res && stt_jset(a, out, "result", res)) ||
      (res && stt_jget(res, "usage") && stt_jset(a, out, "usage", stt_jclone(a, stt_jget(res, "usage")))) ||
      (e && stt_jset(a, out, "error", e))) {
    stt_set_oom(a, err, P);
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
  if (strcmp(kind, "notice") == 0) { stt_no_callbacks(a, P, "notice", NULL, err); return NULL; }
  if (stt_jis(body, STT_JSTR) && body->slen) root = stt_json_parse(a, body->s, body->slen, msg, sizeof msg);
  if (!stt_jis(root, STT_JOBJ)) root = NULL;
  /* non-2xx, or code ~= 0 in any status: an error */
  if (status < 200 || status > 299 || (root && envelope_code(a, root, &code, &scode))) {
    if (!(*err = error_of(a, root, resp, status))) stt_set_oom(a, err, P);
    return NULL;
  }
  if (!root) {
    *err = stt_make_error(a, P, "protocol", (int)status, NULL, stt_resp_header(resp, "x-request-id"), 1,
                          "turing HTTP %lld with a body that is not a JSON object", status);
    return NULL;
  }
  if (strcmp(kind, "submit") == 0) return parse_submit(a, root, resp, err);
  if (strcmp(kind, "poll") == 0) return parse_poll(a, root, resp, err);
  if (strcmp(kind, "result") == 0) {
    stt_json *out = make_result(a, stt_jget(root, "data") ? stt_jget(root, "data") : root, resp, root);
    if (!out) stt_set_oom(a, err, P);
    return out;
  }
  stt_set_error(a, err, P, "invalid", 0, "turing: unknown parse kind \"%.40s\"", kind);
  return NULL;
}

/* ========================================================================================== */
/* capability table */

static const char *caps_how(stt_arena *a, const char *opt, const void *ctx) {
  int k = find_option(opt);
  (void)a;
  (void)ctx;
  return k >= 0 ? options[k].how : NULL;
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
