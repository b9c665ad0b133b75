/* providers.c - the schema registry and the helpers every schema shares (see provider.h). */
#include "provider.h"

#include <stdarg.h>
#include <stdio.h>
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
  "vad", "context", "hotwords", "vocabulary_id", "phrase_id", "emotion", "gender", "speech_rate",
  "volume", "detect_language", "sensitive_words_filter", "format", "transcoding", "extra",
};
const int stt_option_count = (int)(sizeof stt_option_names / sizeof stt_option_names[0]);

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

int stt_json_merge(stt_arena *a, stt_json *dst, const stt_json *src) {
  const stt_json *m;
  for (m = src ? src->child : NULL; m; m = m->next) {
    stt_json *d = stt_jget(dst, m->key);
    if (stt_jis(d, STT_JOBJ) && (stt_jis(m, STT_JOBJ) || (stt_jis(m, STT_JARR) && m->count == 0))) {
      if (stt_json_merge(a, d, m)) return -1;
    } else if (stt_jset(a, dst, m->key, stt_jclone(a, m))) {
      return -1;
    }
  }
  return 0;
}

int stt_json_int(const stt_json *v, long long *out) {
  if (!stt_jis(v, STT_JNUM)) return 0;
  if (v->is_int) { *out = v->i; return 1; }
  if (!(v->n >= -9e15 && v->n <= 9e15) || v->n != (double)(long long)v->n) return 0;   /* NaN too */
  *out = (long long)v->n;
  return 1;
}

stt_json *stt_json_as_string(stt_arena *a, const stt_json *j) {
  stt_buf b;
  stt_json *out;
  stt_buf_init(&b);
  if (stt_json_write(&b, j) != 0) {
    stt_buf_free(&b);
    return NULL;
  }
  out = stt_jstrn(a, b.data ? b.data : "", b.len);
  stt_buf_free(&b);
  return out;
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

int stt_retry_after(const stt_json *resp, long long *out) {
  const char *v = stt_jgetstr(stt_jget(resp, "headers"), "retry-after");
  long long n = 0;
  int digits = 0;
  if (!v) return 0;
  while (*v == ' ' || *v == '\t') v++;
  for (; *v >= '0' && *v <= '9' && digits < 10; v++, digits++) n = n * 10 + (*v - '0');
  while (*v == ' ' || *v == '\t') v++;
  if (!digits || *v) return 0;
  *out = n;
  return 1;
}
