/* providers.c - the schema registry and the helpers every schema shares (see provider.h). */
#include "provider.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const stt_provider *const registry[] = {
  &stt_provider_dashscope,
  &stt_provider_volcengine,
  &stt_provider_volcengine_auc,
  &stt_provider_turing,
};

/* Input first, then recognition switches, hot words, Volcengine extras, provider-native last. */
const char *const stt_option_names[] = {
  "url", "urls", "language", "speakers", "channels", "words", "itn", "punctuation", "disfluency",
  "audio_events", "vad", "context", "hotwords", "vocabulary_id", "phrase_id", "emotion", "gender", "speech_rate",
  "volume", "detect_language", "sensitive_words_filter", "format", "transcoding", "extra",
};
const int stt_option_count = (int)(sizeof stt_option_names / sizeof stt_option_names[0]);

#define REGISTRY_SIZE ((int)(sizeof registry / sizeof registry[0]))

/* Sources of the rate limits: DashScope, 20 submits/s (paraformer-v2; 10 for other models) and 20
 * queries/s, https://help.aliyun.com/zh/model-studio/paraformer-recorded-speech-recognition-restful-api
 * and https://help.aliyun.com/zh/model-studio/manage-asynchronous-tasks ; TCL Turing publishes
 * none: its service is Tingwu's, whose CreateTask allows 20/s and GetTaskInfo 100/s
 * (https://help.aliyun.com/zh/tingwu/api-tingwu-2023-09-30-createtask); Volcengine LAS and the
 * AUC big-model API publish none (overload answers 429 Server.Busy / 55000031): 20/20 assumed.
 * See docs/providers.md. */
static const stt_provider_facts facts[] = {
  { "dashscope", { {"api_key", "DASHSCOPE_API_KEY"}, {"base_url", "DASHSCOPE_HTTP_BASE_URL"}, {NULL, NULL} },
    { {"api_key", NULL} }, 20, 20, 1, 0, NULL },
  { "volcengine", { {"api_key", "LAS_API_KEY"}, {"base_url", "LAS_BASE_URL"}, {NULL, NULL} },
    { {"api_key", NULL} }, 20, 20, 0, 0, "data.request.callback, data.request.callback_data (UNCONFIRMED)" },
  /* AUC: a new-console account has one X-Api-Key; an older one an app key + access key pair. */
  { "volcengine-auc", { {"api_key", "VOLC_API_KEY"}, {"app_key", "VOLC_APP_KEY"}, {"access_key", "VOLC_ACCESS_KEY"},
                        {"base_url", "VOLC_AUC_BASE_URL"}, {NULL, NULL} },
    { {"api_key", NULL}, {"app_key", "access_key", NULL} }, 20, 20, 0, 1, "callback, callback_data" },
  { "turing", { {"api_key", "TURING_API_KEY"}, {"base_url", "TURING_BASE_URL"}, {NULL, NULL} },
    { {"api_key", NULL} }, 20, 100, 0, 0, NULL },
};

const stt_provider_facts *stt_provider_facts_of(const char *name) {
  size_t i;
  if (!name) return NULL;
  for (i = 0; i < sizeof facts / sizeof facts[0]; i++)
    if (strcmp(facts[i].name, name) == 0) return &facts[i];
  return NULL;
}

const char *stt_provider_env(const char *provider, const char *option) {
  const stt_provider_facts *f = stt_provider_facts_of(provider);
  int i;
  for (i = 0; f && f->env[i].option; i++)
    if (strcmp(f->env[i].option, option) == 0) return f->env[i].env;
  return "";
}

static stt_json *rate_num(stt_arena *a, double v) {
  return v == (double)(long long)v ? stt_jint(a, (long long)v) : stt_jnum(a, v);
}

stt_json *stt_provider_facts_json(stt_arena *a, const char *name) {
  const stt_provider_facts *f = stt_provider_facts_of(name);
  stt_json *o, *env, *creds, *rate;
  int i, k;
  if (!f || !(o = stt_jobj(a)) || !(env = stt_jobj(a)) || !(creds = stt_jarr(a)) || !(rate = stt_jobj(a)))
    return NULL;
  for (i = 0; f->env[i].option; i++)
    if (stt_jset(a, env, f->env[i].option, stt_jstr(a, f->env[i].env)) != 0) return NULL;
  for (i = 0; i < 3 && f->credentials[i][0]; i++) {
    stt_json *alt = stt_jarr(a);
    if (!alt || stt_jpush(creds, alt) != 0) return NULL;
    for (k = 0; k < 3 && f->credentials[i][k]; k++)
      if (stt_jpush(alt, stt_jstr(a, f->credentials[i][k])) != 0) return NULL;
  }
  if (stt_jset(a, rate, "submit", rate_num(a, f->submit_qps)) != 0 ||
      stt_jset(a, rate, "query", rate_num(a, f->query_qps)) != 0 ||
      stt_jset(a, rate, "documented", stt_jbool(a, f->rate_documented)) != 0 ||
      stt_jset(a, o, "env", env) != 0 || stt_jset(a, o, "credentials", creds) != 0 ||
      stt_jset(a, o, "rate", rate) != 0 || stt_jset(a, o, "client_ids", stt_jbool(a, f->client_ids)) != 0 ||
      stt_jset(a, o, "callback", f->callback ? stt_jstr(a, f->callback) : stt_jbool(a, 0)) != 0)
    return NULL;
  return o;
}

int stt_no_callbacks(stt_arena *a, const char *provider, const char *what, const stt_json *args,
                     stt_json **err) {
  if (what && strcmp(what, "submit") == 0 && !stt_jget(args, "callback")) return 0;
  stt_set_error(a, err, provider, "unsupported", 0,
                "%s has no per-task callbacks (option callback is not supported): c:wait polls", provider);
  return -1;
}

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
  stt_json *s = stt_json_as_string(a, body);
  return s ? stt_jset(a, req, "body", s) : -1;
}

char *stt_sanitize(stt_arena *a, const char *s, size_t n, size_t max) {
  char *out = stt_arena_alloc(a, max + 4), *o = out;
  size_t k;
  if (!out) return NULL;
  for (k = 0; k < n && k < max; k++) {
    unsigned char c = (unsigned char)s[k];
    if (c <= 0x20 || c == 0x7f) {
      if (o > out && o[-1] != ' ') *o++ = ' ';
    } else {
      *o++ = c < 0x7f ? (char)c : '?';
    }
  }
  if (n > max) { memcpy(o, "...", 3); o += 3; }
  *o = '\0';
  return out;
}

stt_json *stt_caps_model(stt_arena *a, long long batch_max, stt_how_fn how, const void *ctx) {
  stt_json *m = stt_jobj(a), *opts = stt_jobj(a);
  int i;
  if (!m || !opts) return NULL;
  for (i = 0; i < stt_option_count; i++) {
    const char *h = how(a, stt_option_names[i], ctx);
    if (stt_jset(a, opts, stt_option_names[i], h ? stt_jstr(a, h) : stt_jbool(a, 0))) return NULL;
  }
  if (stt_jset(a, m, "batch_max", stt_jint(a, batch_max)) || stt_jset(a, m, "options", opts))
    return NULL;
  return m;
}

stt_json *stt_caps_new(stt_arena *a, const char *default_model, stt_json **models) {
  stt_json *c = stt_jobj(a);
  *models = stt_jobj(a);
  if (!c || !*models || stt_jset(a, c, "default_model", stt_jstr(a, default_model)) ||
      stt_jset(a, c, "models", *models))
    return NULL;
  return c;
}

int stt_hotwords_read(stt_arena *a, const stt_json *list, stt_hotword **out, const char **why) {
  const stt_json *e;
  stt_hotword *hw;
  int n = 0;
  *why = "must be a non-empty array of {word = \"..\", weight = n, lang = \"..\"} entries";
  if (!stt_jis(list, STT_JARR) || list->count == 0) return -1;
  if (!(hw = stt_arena_alloc(a, list->count * sizeof *hw))) { *why = NULL; return -1; }
  for (e = list->child; e; e = e->next, n++) {
    const stt_json *w = stt_jis(e, STT_JSTR) ? e : stt_jget(e, "word");
    const stt_json *wt = stt_jget(e, "weight"), *lang = stt_jget(e, "lang");
    if (!stt_jis(e, STT_JSTR) && !stt_jis(e, STT_JOBJ)) return -1;
    if (!stt_jis(w, STT_JSTR) || w->slen == 0 || strlen(w->s) != w->slen) {
      *why = "has an entry without a word (a non-empty string)";
      return -1;
    }
    hw[n].word = w->s;
    hw[n].len = w->slen;
    if (wt && !stt_jis(wt, STT_JNULL)) {
      if (!stt_json_int(wt, &hw[n].weight)) { *why = "has a weight that is not an integer"; return -1; }
      hw[n].has_weight = 1;
    }
    if (lang && !stt_jis(lang, STT_JNULL)) {
      if (!stt_jis(lang, STT_JSTR)) { *why = "has a lang that is not a string"; return -1; }
      hw[n].lang = lang->s;
    }
  }
  *out = hw;
  return n;
}

stt_json *stt_hotword_objects(stt_arena *a, const stt_json *list, int with_weight, const char **why) {
  stt_hotword *hw = NULL;
  stt_json *arr;
  int n, k;
  if ((n = stt_hotwords_read(a, list, &hw, why)) < 0) return NULL;
  if (!(arr = stt_jarr(a))) { *why = NULL; return NULL; }
  for (k = 0; k < n; k++) {
    stt_json *e = stt_jobj(a);
    if (!e || stt_jset(a, e, "word", stt_jstrn(a, hw[k].word, hw[k].len)) ||
        (with_weight && hw[k].has_weight && stt_jset(a, e, "weight", stt_jint(a, hw[k].weight))) ||
        stt_jpush(arr, e)) {
      *why = NULL;
      return NULL;
    }
  }
  return arr;
}

int stt_retry_after(const stt_json *resp, long long *out) {
  const stt_json *h = stt_jget(stt_jget(resp, "headers"), "retry-after");
  const char *v, *end;
  long long n = 0;
  int digits = 0;
  if (!stt_jis(h, STT_JSTR)) return 0;
  /* The whole value, by its length: a NUL inside ("5\0junk") makes it invalid, not "5"
   * (found by spec/fuzz/fuzz_headers.c). */
  v = h->s;
  end = h->s + h->slen;
  while (v < end && (*v == ' ' || *v == '\t')) v++;
  for (; v < end && *v >= '0' && *v <= '9' && digits < 10; v++, digits++) n = n * 10 + (*v - '0');
  while (v < end && (*v == ' ' || *v == '\t')) v++;
  if (!digits || v != end) return 0;
  *out = n;
  return 1;
}

/* ========================================================================================== */
/* helpers every schema uses */

#define MSG_MAX 768

void stt_set_error(stt_arena *a, stt_json **err, const char *provider, const char *kind,
                   int retryable, const char *fmt, ...) {
  char msg[MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (err) *err = stt_make_error(a, provider, kind, 0, NULL, NULL, retryable, "%s", msg);
}

void stt_set_oom(stt_arena *a, stt_json **err, const char *provider) {
  stt_set_error(a, err, provider, "protocol", 0, "%s: out of memory", provider);
}

const stt_json *stt_opt_get(const stt_json *job, const char *name) {
  const stt_json *v = stt_jget(job, name);
  return stt_jis(v, STT_JNULL) ? NULL : v;
}

int stt_set_str(stt_arena *a, stt_json *obj, const char *key, const char *v) {
  return v && *v ? stt_jset(a, obj, key, stt_jstr(a, v)) : 0;
}

stt_json *stt_buf_take(stt_arena *a, stt_buf *b) {
  stt_json *out = b->oom ? NULL : stt_jstrn(a, b->data ? b->data : "", b->len);
  stt_buf_free(b);
  return out;
}

const char *stt_explicit_base(stt_arena *a, const stt_json *args) {
  const stt_json *b = stt_jget(args, "base_url");
  size_t n;
  if (!stt_jis(b, STT_JSTR) || b->slen == 0) return NULL;
  n = b->slen;
  if (b->s[n - 1] == '/') n--;                     /* strip exactly one trailing slash */
  return stt_arena_strndup(a, b->s, n);
}

int stt_secret_check(const stt_json *k) {
  if (!stt_jis(k, STT_JSTR) || k->slen == 0) return 0;
  if (memchr(k->s, '\r', k->slen) || memchr(k->s, '\n', k->slen) || strlen(k->s) != k->slen) return -1;
  return 1;
}

/* Never echo a secret: messages name only the option and the environment variable that holds
 * it (from the registry's facts above). */
const stt_json *stt_credential(stt_arena *a, const stt_json *args, const char *provider,
                               const char *option, const char *label, stt_json **err) {
  const stt_json *k = stt_jget(args, option);
  const char *env = stt_provider_env(provider, option);
  int ok = stt_secret_check(k);
  if (ok == 0) {
    if (*env)
      stt_set_error(a, err, provider, "auth", 0, "%s: no %s (set %s or pass %s)", provider, label, env, option);
    else
      stt_set_error(a, err, provider, "auth", 0, "%s: no %s (pass %s)", provider, label, option);
    return NULL;
  }
  if (ok < 0) {
    stt_set_error(a, err, provider, "auth", 0, "%s: the %s contains a line break or NUL (check %s)", provider,
                  label, *env ? env : option);
    return NULL;
  }
  return k;
}

const stt_json *stt_api_key(stt_arena *a, const stt_json *args, const char *provider, stt_json **err) {
  return stt_credential(a, args, provider, "api_key", "API key", err);
}

char *stt_url_escape(stt_arena *a, const char *s, size_t n) {
  static const char hex[] = "0123456789ABCDEF";
  char *out = stt_arena_alloc(a, n * 3 + 1), *o = out;
  size_t k;
  if (!out) return NULL;
  for (k = 0; k < n; k++) {
    unsigned char c = (unsigned char)s[k];
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
        c == '-' || c == '.' || c == '_' || c == '~') {
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

const char *stt_resp_header(const stt_json *resp, const char *name) {
  return stt_jgetstr(stt_jget(resp, "headers"), name);
}

stt_json *stt_with_retry_after(stt_arena *a, stt_json *e, const stt_json *resp) {
  long long ra;
  if (e && stt_retry_after(resp, &ra) && stt_jset(a, e, "retry_after", stt_jint(a, ra))) return NULL;
  return e;
}

const char *stt_status_kind(long long status, int *retryable) {
  *retryable = 0;
  if (status == 400) return "invalid";
  if (status == 401 || status == 403) return "auth";
  if (status == 404) return "not_found";
  *retryable = status == 429 || (status >= 500 && status <= 599);
  if (status == 429) return "throttled";
  return *retryable ? "server" : "protocol";
}

stt_json *stt_body_object(stt_arena *a, const stt_json *resp, int *empty, char *msg, size_t msg_size) {
  const stt_json *body = stt_jget(resp, "body");
  stt_json *j;
  msg[0] = '\0';
  *empty = !stt_jis(body, STT_JSTR) || body->slen == 0;
  if (*empty) return NULL;
  j = stt_json_parse(a, body->s, body->slen, msg, msg_size);
  if (stt_jis(j, STT_JOBJ)) return j;
  if (j) snprintf(msg, msg_size, "not a JSON object");
  return NULL;
}

stt_json *stt_body_json(stt_arena *a, const stt_json *resp, long long status, const char *provider,
                        const char *request_id, stt_json **err) {
  char msg[200];
  int empty;
  stt_json *j = stt_body_object(a, resp, &empty, msg, sizeof msg);
  if (j) return j;
  if (empty)
    *err = stt_make_error(a, provider, "protocol", (int)status, NULL, request_id, 1,
                          "%s HTTP %lld with an empty body (expected JSON)", provider, status);
  else
    *err = stt_make_error(a, provider, "protocol", (int)status, NULL, request_id, 1,
                          "%s HTTP %lld with a body that is not JSON: %s", provider, status, msg);
  return NULL;
}

static int seg_cmp(const void *pa, const void *pb) {
  const stt_seg_ref *x = pa, *y = pb;
  if (x->start != y->start) return x->start < y->start ? -1 : 1;
  if (x->channel != y->channel) return x->channel < y->channel ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;   /* keeps the sort stable */
}

stt_json *stt_segments_in_order(stt_arena *a, stt_seg_ref *refs, size_t n) {
  stt_json *segs = stt_jarr(a);
  size_t k;
  if (!segs) return NULL;
  qsort(refs, n, sizeof *refs, seg_cmp);
  for (k = 0; k < n; k++)
    if (stt_jpush(segs, refs[k].seg)) return NULL;
  return segs;
}

int stt_set_words(stt_arena *a, stt_json *seg, const stt_json *list,
                  stt_json *(*make_word)(stt_arena *a, const stt_json *w)) {
  const stt_json *w;
  stt_json *words;
  if (!stt_jis(list, STT_JARR)) return 0;
  if (!(words = stt_jarr(a))) return -1;
  for (w = list->child; w; w = w->next)
    if (stt_jpush(words, make_word(a, w))) return -1;
  return stt_jset(a, seg, "words", words);
}

const char *stt_common_language(const stt_json *segs) {
  const char *best = NULL;
  size_t best_n = 0;
  const stt_json *s, *t;
  for (s = segs->child; s; s = s->next) {
    const char *l = stt_jgetstr(s, "language");
    size_t n = 0;
    if (!l) continue;
    for (t = segs->child; t; t = t->next) {
      const char *m = stt_jgetstr(t, "language");
      if (m && strcmp(m, l) == 0) n++;
    }
    if (n > best_n) { best = l; best_n = n; }
  }
  return best;
}

/* Job keys that are not options: client bookkeeping. */
static const char *const passthrough[] = {"model", "force", "id"};

const stt_json *stt_unknown_job_key(const stt_json *job, int (*is_option)(const char *key)) {
  const stt_json *m;
  size_t k;
  for (m = job ? job->child : NULL; m; m = m->next) {
    int known = 0;
    if (strlen(m->key) != m->klen) return m;       /* embedded NUL: never a known key */
    known = is_option(m->key);
    for (k = 0; !known && k < sizeof passthrough / sizeof passthrough[0]; k++)
      known = strcmp(m->key, passthrough[k]) == 0;
    if (!known) return m;
  }
  return NULL;
}

void stt_opt_init(stt_opt_ctx *o, stt_arena *a, stt_json **err, const char *provider,
                  const char *model) {
  o->a = a;
  o->err = err;
  o->provider = provider;
  o->model = model;
}

/* Option names come from the schemas' own tables (short); the model is cut at 80 bytes since a
 * refused model name is the caller's text. */
int stt_opt_unsupported(const stt_opt_ctx *o, const char *opt, const char *hint) {
  stt_set_error(o->a, o->err, o->provider, "unsupported", 0,
                "option \"%.60s\" is not supported by %s model \"%.80s\"%s", opt, o->provider,
                o->model, hint ? hint : "");
  return -1;
}

int stt_opt_invalid(const stt_opt_ctx *o, const char *opt, const char *what) {
  stt_set_error(o->a, o->err, o->provider, "invalid", 0, "option \"%s\" %s (%s model \"%.80s\")", opt,
                what, o->provider, o->model);
  return -1;
}

int stt_opt_put(const stt_opt_ctx *o, stt_json *obj, const char *key, stt_json *v) {
  if (stt_jset(o->a, obj, key, v) == 0) return 0;
  stt_set_oom(o->a, o->err, o->provider);
  return -1;
}

int stt_opt_put_bool(const stt_opt_ctx *o, stt_json *obj, const char *opt, const stt_json *v,
                     const char *field) {
  if (!stt_jis(v, STT_JBOOL)) return stt_opt_invalid(o, opt, "must be a boolean");
  return stt_opt_put(o, obj, field, stt_jbool(o->a, v->b));
}

int stt_opt_merge_extra(const stt_opt_ctx *o, const stt_json *job, stt_json *target) {
  const stt_json *extra = stt_opt_get(job, "extra");
  if (!extra || (stt_jis(extra, STT_JARR) && extra->count == 0)) return 0;
  if (!stt_jis(extra, STT_JOBJ)) return stt_opt_invalid(o, "extra", "must be a table of body fields");
  if (stt_json_merge(o->a, target, extra) == 0) return 0;
  stt_set_oom(o->a, o->err, o->provider);
  return -1;
}

const stt_json *stt_opt_one_url(const stt_opt_ctx *o, const stt_json *job, const char **opt) {
  const stt_json *url = stt_opt_get(job, "url"), *urls = stt_opt_get(job, "urls");
  *opt = "url";
  if (url && urls) { stt_opt_invalid(o, "url", "and \"urls\" are exclusive: give one of them"); return NULL; }
  if (!url && !urls) { stt_opt_invalid(o, "url", "is missing: the job needs url"); return NULL; }
  if (url) return url;
  *opt = "urls";
  if (!stt_jis(urls, STT_JARR) || urls->count == 0) {
    stt_opt_invalid(o, "urls", "must be a non-empty array of URLs");
    return NULL;
  }
  if (urls->count > 1) {
    stt_opt_unsupported(o, "urls", " (one file per task: submit one task per URL)");
    return NULL;
  }
  return urls->child;
}
