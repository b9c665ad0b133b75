/* volcengine_common.c - see volcengine_common.h. Facts: shared/reference/providers.md §2.3, §2.4,
 * §3.3, §3.4, §8; shared/reference/subtitles-hotwords.md B1, C1, C2. Pure: no I/O, no globals.
 *
 * Options -> fields (paths relative to the user/audio/request objects):
 *   url -> audio.url; format -> audio.format (else from the URL's extension, else "mp3");
 *   language -> audio.language; channels {0,1} | 2 -> request.enable_channel_split + audio.channel 2;
 *   itn -> request.enable_itn (ALWAYS sent, default true: the doc default flipped between
 *   versions, §8.9); punctuation -> enable_punc; disfluency -> enable_ddc; speakers ->
 *   enable_speaker_info; words -> show_utterances (always true: segments need utterances, and
 *   words come inside them); vad -> vad_segment / end_window_size; emotion ->
 *   enable_emotion_detection; gender -> enable_gender_detection; speech_rate -> show_speech_rate;
 *   volume -> show_volume; detect_language -> enable_lid; sensitive_words_filter ->
 *   sensitive_words_filter (a JSON string); context / hotwords -> corpus.context (a JSON string).
 * Every other §2.3 field (user.uid, audio.codec/rate/bits, model_version, enable_poi_fc,
 * enable_music_fc, corpus.boosting_table_name, callback...) is reachable through job.extra. */
#include "volcengine_common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MSG_MAX 768
#define COUNT(x) (sizeof(x) / sizeof((x)[0]))

void vc_error(stt_arena *a, stt_json **err, const char *provider, const char *kind, int retryable,
              const char *fmt, ...) {
  char msg[MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (err) *err = stt_make_error(a, provider, kind, 0, NULL, NULL, retryable, "%s", msg);
}

static const stt_json *opt_get(const stt_json *job, const char *name) {
  const stt_json *v = stt_jget(job, name);
  return stt_jis(v, STT_JNULL) ? NULL : v;
}

/* ========================================================================================== */
/* models */

static const char *const models[] = {"bigasr", "seedasr"};

const char *vc_model(stt_arena *a, const vc_schema *s, const stt_json *args, stt_json **err) {
  const char *m = stt_jgetstr(stt_jget(args, "job"), "model");
  size_t k;
  if (!m || !*m) m = stt_jgetstr(args, "model");
  if (!m || !*m) return VC_DEFAULT_MODEL;
  for (k = 0; k < COUNT(models); k++)
    if (strcmp(m, models[k]) == 0) return models[k];
  vc_error(a, err, s->provider, "unsupported", 0,
           "model \"%.80s\" is not supported by %s (known: bigasr, seedasr)", m, s->provider);
  return NULL;
}

/* ========================================================================================== */
/* submit: options */

typedef struct {
  stt_arena *a;
  stt_json **err;
  const vc_schema *s;
  const char *model;
  stt_json *audio, *request;
  const stt_json *context, *hotwords;     /* encoded together into corpus.context at the end */
} vc_ctx;

static void oom(vc_ctx *c) { vc_error(c->a, c->err, c->s->provider, "protocol", 0, "%s: out of memory", c->s->provider); }

static int unsupported(vc_ctx *c, const char *opt, const char *hint) {
  vc_error(c->a, c->err, c->s->provider, "unsupported", 0,
           "option \"%.60s\" is not supported by %s model \"%s\"%s", opt, c->s->provider, c->model,
           hint ? hint : "");
  return -1;
}

static int invalid(vc_ctx *c, const char *opt, const char *what) {
  vc_error(c->a, c->err, c->s->provider, "invalid", 0, "option \"%s\" %s (%s model \"%s\")", opt,
           what, c->s->provider, c->model);
  return -1;
}

static int put(vc_ctx *c, stt_json *obj, const char *key, stt_json *v) {
  if (stt_jset(c->a, obj, key, v) == 0) return 0;
  oom(c);
  return -1;
}

static int put_bool(vc_ctx *c, const char *opt, const stt_json *v, const char *field) {
  if (!stt_jis(v, STT_JBOOL)) return invalid(c, opt, "must be a boolean");
  return put(c, c->request, field, stt_jbool(c->a, v->b));
}

static int opt_itn(vc_ctx *c, const stt_json *v) { return put_bool(c, "itn", v, "enable_itn"); }
static int opt_punc(vc_ctx *c, const stt_json *v) { return put_bool(c, "punctuation", v, "enable_punc"); }
static int opt_ddc(vc_ctx *c, const stt_json *v) { return put_bool(c, "disfluency", v, "enable_ddc"); }
static int opt_emotion(vc_ctx *c, const stt_json *v) {
  return put_bool(c, "emotion", v, "enable_emotion_detection");
}
static int opt_gender(vc_ctx *c, const stt_json *v) {
  return put_bool(c, "gender", v, "enable_gender_detection");
}
static int opt_rate(vc_ctx *c, const stt_json *v) { return put_bool(c, "speech_rate", v, "show_speech_rate"); }
static int opt_volume(vc_ctx *c, const stt_json *v) { return put_bool(c, "volume", v, "show_volume"); }
static int opt_lid(vc_ctx *c, const stt_json *v) { return put_bool(c, "detect_language", v, "enable_lid"); }

/* Utterances (and the words inside them) are always requested: segments are built from them.
 * words = false therefore changes nothing on the wire; only a boolean is accepted. */
static int opt_words(vc_ctx *c, const stt_json *v) {
  return stt_jis(v, STT_JBOOL) ? 0 : invalid(c, "words", "must be a boolean");
}

/* The doc's language codes are locales (en-US, ja-JP...); an empty field means Mandarin, English
 * and Chinese dialects. INFERENCE: bare codes map to the doc's locale for that language, "zh" /
 * "auto" / "multi" leave the field out (the model's default), anything else is sent as given. */
static int opt_language(vc_ctx *c, const stt_json *v) {
  static const char *const map[][2] = {
    {"en", "en-US"}, {"ja", "ja-JP"}, {"id", "id-ID"}, {"es", "es-MX"}, {"pt", "pt-BR"},
    {"de", "de-DE"}, {"fr", "fr-FR"}, {"ko", "ko-KR"}, {"fil", "fil-PH"}, {"ms", "ms-MY"},
    {"th", "th-TH"}, {"ar", "ar-SA"},
  };
  size_t k;
  if (!stt_jis(v, STT_JSTR) || v->slen == 0 || strlen(v->s) != v->slen)
    return invalid(c, "language", "must be one language code (a string)");
  if (strcmp(v->s, "zh") == 0 || strcmp(v->s, "auto") == 0 || strcmp(v->s, "multi") == 0) return 0;
  for (k = 0; k < COUNT(map); k++)
    if (strcmp(v->s, map[k][0]) == 0) return put(c, c->audio, "language", stt_jstr(c->a, map[k][1]));
  return put(c, c->audio, "language", stt_jstrn(c->a, v->s, v->slen));
}

/* The service splits a stereo file into left ("1") and right ("2"): channels = {0, 1} or 2
 * asks for that (enable_channel_split + audio.channel = 2); {0} or 1 declares a mono file. */
static int opt_channels(vc_ctx *c, const stt_json *v) {
  long long n = 0, a0, a1;
  if (stt_jis(v, STT_JARR) && v->count == 1 && stt_json_int(v->child, &a0) && a0 == 0) n = 1;
  else if (stt_jis(v, STT_JARR) && v->count == 2 && stt_json_int(v->child, &a0) &&
           stt_json_int(v->child->next, &a1) && ((a0 == 0 && a1 == 1) || (a0 == 1 && a1 == 0)))
    n = 2;
  else if (!stt_jis(v, STT_JARR) && stt_json_int(v, &a0) && (a0 == 1 || a0 == 2))
    n = a0;
  if (!n) return invalid(c, "channels", "must be {0, 1} (split left/right), {0}, 1 or 2");
  if (n == 2 && put(c, c->request, "enable_channel_split", stt_jbool(c->a, 1))) return -1;
  return put(c, c->audio, "channel", stt_jint(c->a, n));
}

/* There is no speaker count field: any number > 1 (or true) just enables diarization, which
 * works best up to 10 speakers. 1 or false: one voice, nothing sent. */
static int opt_speakers(vc_ctx *c, const stt_json *v) {
  long long n;
  if (stt_jis(v, STT_JBOOL))
    return v->b ? put(c, c->request, "enable_speaker_info", stt_jbool(c->a, 1)) : 0;
  if (!stt_json_int(v, &n) || n < 1 || n > 100)
    return invalid(c, "speakers", "must be true or an integer from 1 to 100");
  return n > 1 ? put(c, c->request, "enable_speaker_info", stt_jbool(c->a, 1)) : 0;
}

/* vad = true | { segment = true, end_window_ms = 300..5000 }: split sentences on silence rather
 * than semantically; end_window_ms is the silence that ends one. */
static int opt_vad(vc_ctx *c, const stt_json *v) {
  const stt_json *seg = stt_jget(v, "segment"), *win = stt_jget(v, "end_window_ms"), *m;
  long long n;
  if (stt_jis(v, STT_JBOOL)) return put(c, c->request, "vad_segment", stt_jbool(c->a, v->b));
  if (!stt_jis(v, STT_JOBJ) || (!seg && !win))
    return invalid(c, "vad", "must be true or { segment = true, end_window_ms = 300..5000 }");
  for (m = v->child; m; m = m->next)
    if (strcmp(m->key, "segment") != 0 && strcmp(m->key, "end_window_ms") != 0)
      return unsupported(c, "vad", " (it takes segment and end_window_ms)");
  if (seg) {
    if (!stt_jis(seg, STT_JBOOL)) return invalid(c, "vad", "segment must be a boolean");
    if (put(c, c->request, "vad_segment", stt_jbool(c->a, seg->b))) return -1;
  }
  if (win) {
    if (!stt_json_int(win, &n) || n < 300 || n > 5000)
      return invalid(c, "vad", "end_window_ms must be an integer from 300 to 5000");
    if (put(c, c->request, "end_window_size", stt_jint(c->a, n))) return -1;
  }
  return 0;
}

/* A JSON string on the wire (§8.6): a table is serialized, a string is sent as it is. */
static int opt_sensitive(vc_ctx *c, const stt_json *v) {
  stt_json *s;
  if (stt_jis(v, STT_JSTR)) return put(c, c->request, "sensitive_words_filter", stt_jclone(c->a, v));
  if (!stt_jis(v, STT_JOBJ))
    return invalid(c, "sensitive_words_filter",
                   "must be a table like {system_reserved_filter = true, filter_with_empty = {...}} or its JSON string");
  if (!(s = stt_json_as_string(c->a, v))) { oom(c); return -1; }
  return put(c, c->request, "sensitive_words_filter", s);
}

static int opt_context(vc_ctx *c, const stt_json *v) {
  const stt_json *e;
  if (stt_jis(v, STT_JSTR) && v->slen > 0) { c->context = v; return 0; }
  if (stt_jis(v, STT_JARR) && v->count > 0) {
    for (e = v->child; e; e = e->next)
      if (!stt_jis(e, STT_JSTR)) return invalid(c, "context", "must hold strings (dialog turns, newest first)");
    c->context = v;
    return 0;
  }
  return invalid(c, "context", "must be a non-empty string or an array of strings (newest first)");
}

static int opt_hotwords(vc_ctx *c, const stt_json *v) { c->hotwords = v; return 0; }

/* Checked against a format list; set by set_input, so only validated here. */
static int opt_format(vc_ctx *c, const stt_json *v) { (void)c; (void)v; return 0; }

typedef int (*opt_fn)(vc_ctx *c, const stt_json *v);

/* Handlers run in this order after the input (url, format), which fixes the field order.
 * how: the wire field(s); '@' stands for the schema's prefix ("data." for LAS). NULL handler:
 * read elsewhere (url, urls, format by set_input; extra by vc_apply_extra). */
static const struct { const char *name; const char *how; opt_fn fn; } options[] = {
  {"url", "@audio.url", NULL},
  {"urls", NULL, NULL},                                /* one file per task */
  {"format", "@audio.format (default: from the URL extension, else mp3)", opt_format},
  {"language", "@audio.language (en -> en-US ...; zh/auto: left out)", opt_language},
  {"itn", "@request.enable_itn (always sent, default true)", opt_itn},
  {"punctuation", "@request.enable_punc", opt_punc},
  {"disfluency", "@request.enable_ddc", opt_ddc},
  {"speakers", "@request.enable_speaker_info", opt_speakers},
  {"channels", "@request.enable_channel_split + @audio.channel", opt_channels},
  {"words", "@request.show_utterances (always sent; no field)", opt_words},
  {"vad", "@request.vad_segment, end_window_size", opt_vad},
  {"speech_rate", "@request.show_speech_rate", opt_rate},
  {"volume", "@request.show_volume", opt_volume},
  {"detect_language", "@request.enable_lid", opt_lid},
  {"emotion", "@request.enable_emotion_detection", opt_emotion},
  {"gender", "@request.enable_gender_detection", opt_gender},
  {"sensitive_words_filter", "@request.sensitive_words_filter (JSON string)", opt_sensitive},
  {"context", "@request.corpus.context (JSON string: dialog_ctx)", opt_context},
  {"hotwords", "@request.corpus.context (JSON string: hotwords)", opt_hotwords},
  {"extra", "", NULL},
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

/* '@' -> prefix. */
static const char *expand(stt_arena *a, const char *how, const char *prefix) {
  stt_buf b;
  char *out;
  stt_buf_init(&b);
  for (; *how; how++) {
    if (*how == '@') stt_buf_puts(&b, prefix);
    else stt_buf_putc(&b, *how);
  }
  out = b.oom ? NULL : stt_arena_strndup(a, b.data ? b.data : "", b.len);
  stt_buf_free(&b);
  return out;
}

static const char *how_of(stt_arena *a, const vc_schema *s, const char *opt) {
  size_t k;
  if (strcmp(opt, "extra") == 0) return stt_arena_printf(a, "merged into %s (recursively)", s->extra_at);
  for (k = 0; k < COUNT(options); k++)
    if (strcmp(options[k].name, opt) == 0) return options[k].how ? expand(a, options[k].how, s->prefix) : NULL;
  return NULL;
}

/* ---- input */

static const char *format_from_url(const char *url) {
  static const char *const map[][2] = {
    {"wav", "wav"}, {"mp3", "mp3"}, {"ogg", "ogg"}, {"opus", "ogg"}, {"oga", "ogg"},
    {"raw", "raw"}, {"pcm", "raw"},
  };
  const char *end = url + strcspn(url, "?#"), *dot = NULL, *p;
  char ext[8];
  size_t n, k;
  for (p = url; p < end; p++) {
    if (*p == '/') dot = NULL;
    else if (*p == '.') dot = p;
  }
  if (!dot || (n = (size_t)(end - dot - 1)) == 0 || n >= sizeof ext) return NULL;
  for (k = 0; k < n; k++) ext[k] = (char)(dot[1 + k] >= 'A' && dot[1 + k] <= 'Z' ? dot[1 + k] + 32 : dot[1 + k]);
  ext[n] = '\0';
  for (k = 0; k < COUNT(map); k++)
    if (strcmp(ext, map[k][0]) == 0) return map[k][1];
  return NULL;
}

/* audio.url, then audio.format: job.format (wav | mp3 | ogg | raw, the doc's containers), else
 * the URL's extension, else "mp3" (the doc's own example sends mp3 for a .wav URL, so the
 * service sniffs the container; the field is required). */
static int set_input(vc_ctx *c, const stt_json *job) {
  static const char *const formats[] = {"wav", "mp3", "ogg", "raw"};
  const stt_json *url = opt_get(job, "url"), *urls = opt_get(job, "urls"), *fmt = opt_get(job, "format");
  const char *f = NULL;
  size_t k;
  if (url && urls) return invalid(c, "url", "and \"urls\" are exclusive: give one of them");
  if (!url && !urls) return invalid(c, "url", "is missing: the job needs url");
  if (urls) {
    if (!stt_jis(urls, STT_JARR) || urls->count == 0) return invalid(c, "urls", "must be a non-empty array of URLs");
    if (urls->count > 1) return unsupported(c, "urls", " (one file per task: submit one task per URL)");
    url = urls->child;
  }
  if (!stt_jis(url, STT_JSTR) || url->slen == 0 || strlen(url->s) != url->slen)
    return invalid(c, urls ? "urls" : "url", "must be a non-empty URL string");
  if (fmt) {
    for (k = 0; k < COUNT(formats) && !f; k++)
      if (stt_jis(fmt, STT_JSTR) && strcmp(fmt->s, formats[k]) == 0) f = formats[k];
    if (!f) return invalid(c, "format", "must be one of wav, mp3, ogg, raw");
  } else {
    f = format_from_url(url->s);
  }
  if (put(c, c->audio, "url", stt_jstrn(c->a, url->s, url->slen))) return -1;
  return put(c, c->audio, "format", stt_jstr(c->a, f ? f : "mp3"));
}

/* ---- corpus.context */

static stt_json *hotword_list(stt_arena *a, const stt_json *list, const char **why) {
  stt_hotword *hw = NULL;
  stt_json *arr;
  int n, k;
  if ((n = stt_hotwords_read(a, list, &hw, why)) < 0) return NULL;
  if (!(arr = stt_jarr(a))) { *why = NULL; return NULL; }
  /* direct hot words carry no weight (subtitles-hotwords.md B1): word only */
  for (k = 0; k < n; k++) {
    stt_json *e = stt_jobj(a);
    if (!e || stt_jset(a, e, "word", stt_jstrn(a, hw[k].word, hw[k].len)) || stt_jpush(arr, e)) {
      *why = NULL;
      return NULL;
    }
  }
  return arr;
}

/* {"hotwords":[{"word":..}]} and/or {"context_type":"dialog_ctx","context_data":[{"text":..}]}
 * in ONE object when both are given: the doc shows each form alone, and whether the service
 * honours both in one string is UNCONFIRMED; one field cannot carry two strings. */
static stt_json *corpus_context(stt_arena *a, const stt_json *context, const stt_json *hotwords,
                                const char **why) {
  stt_json *o = stt_jobj(a), *arr;
  *why = NULL;
  if (!o) return NULL;
  if (hotwords) {
    if (!(arr = hotword_list(a, hotwords, why)) || stt_jset(a, o, "hotwords", arr)) return NULL;
  }
  if (context) {
    const stt_json *e;
    if (!(arr = stt_jarr(a))) return NULL;
    if (stt_jset(a, o, "context_type", stt_jstr(a, "dialog_ctx")) || stt_jset(a, o, "context_data", arr))
      return NULL;
    for (e = stt_jis(context, STT_JARR) ? context->child : context; e; e = stt_jis(context, STT_JARR) ? e->next : NULL) {
      stt_json *t = stt_jobj(a);
      if (!t || stt_jset(a, t, "text", stt_jstrn(a, e->s, e->slen)) || stt_jpush(arr, t)) return NULL;
    }
  }
  return stt_json_as_string(a, o);
}

static int set_corpus(vc_ctx *c) {
  stt_json *corpus, *s;
  const char *why;
  if (!c->context && !c->hotwords) return 0;
  if (!(s = corpus_context(c->a, c->context, c->hotwords, &why))) {
    if (why) return invalid(c, "hotwords", why);
    oom(c);
    return -1;
  }
  if (!(corpus = stt_jobj(c->a))) { oom(c); return -1; }
  if (put(c, corpus, "context", s)) return -1;
  return put(c, c->request, "corpus", corpus);
}

int vc_request_objects(stt_arena *a, const vc_schema *s, const char *model, const stt_json *job,
                       const char *resource, stt_json *dst, stt_json **err) {
  vc_ctx c;
  const stt_json *m;
  size_t k;
  memset(&c, 0, sizeof c);
  c.a = a;
  c.err = err;
  c.s = s;
  c.model = model;
  if (job && !stt_jis(job, STT_JOBJ)) {
    vc_error(a, err, s->provider, "invalid", 0, "%s: job must be a table", s->provider);
    return -1;
  }
  /* keys outside the option table are refused; in it, only urls has no how (set_input refuses
   * a batch), so the capability table and these refusals come from the same rows */
  for (m = job ? job->child : NULL; m; m = m->next)
    if (!known_key(m)) return unsupported(&c, m->key, NULL);
  c.audio = stt_jobj(a);
  c.request = stt_jobj(a);
  if (!c.audio || !c.request) { oom(&c); return -1; }
  /* model_name is required and has one value; enable_itn always explicit (§8.9); utterances
   * always on: segments and words come from them. */
  if (put(&c, c.request, "model_name", stt_jstr(a, "bigmodel")) ||
      put(&c, c.request, "enable_itn", stt_jbool(a, 1)) ||
      put(&c, c.request, "show_utterances", stt_jbool(a, 1)))
    return -1;
  if (set_input(&c, job)) return -1;
  for (k = 0; k < COUNT(options); k++) {
    const stt_json *v = opt_get(job, options[k].name);
    if (v && options[k].fn && options[k].fn(&c, v)) return -1;
  }
  if (set_corpus(&c)) return -1;
  if (put(&c, dst, "audio", c.audio) || (resource && put(&c, dst, "resource", stt_jstr(a, resource))) ||
      put(&c, dst, "request", c.request))
    return -1;
  return 0;
}

int vc_apply_extra(stt_arena *a, const vc_schema *s, const char *model, const stt_json *job,
                   stt_json *target, stt_json **err) {
  const stt_json *extra = opt_get(job, "extra");
  if (!extra || (stt_jis(extra, STT_JARR) && extra->count == 0)) return 0;
  if (!stt_jis(extra, STT_JOBJ)) {
    vc_error(a, err, s->provider, "invalid", 0,
             "option \"extra\" must be a table of body fields (%s model \"%s\")", s->provider, model);
    return -1;
  }
  if (stt_json_merge(a, target, extra) == 0) return 0;
  vc_error(a, err, s->provider, "protocol", 0, "%s: out of memory", s->provider);
  return -1;
}

stt_json *vc_hotwords(stt_arena *a, const vc_schema *s, const stt_json *args, stt_json **err) {
  const char *model = vc_model(a, s, args, err), *why;
  stt_json *out, *v;
  if (!model) return NULL;
  v = corpus_context(a, NULL, stt_jget(args, "hotwords"), &why);
  out = stt_jobj(a);
  if (!v && why) {
    vc_error(a, err, s->provider, "invalid", 0, "option \"hotwords\" %s (%s model \"%s\")", why,
             s->provider, model);
    return NULL;
  }
  if (!v || !out || stt_jset(a, out, "field", stt_jstr(a, expand(a, "@request.corpus.context", s->prefix))) ||
      stt_jset(a, out, "value", v)) {
    vc_error(a, err, s->provider, "protocol", 0, "%s: out of memory", s->provider);
    return NULL;
  }
  return out;
}

static const char *caps_how(stt_arena *a, const char *opt, const void *ctx) {
  return how_of(a, ctx, opt);
}

stt_json *vc_caps(stt_arena *a, const vc_schema *s) {
  stt_json *ms, *c = stt_caps_new(a, VC_DEFAULT_MODEL, &ms);
  size_t k;
  if (!c) return NULL;
  /* both models take the same request fields (§2.3: only model_version is "not for seedasr",
   * and that is an extra) */
  for (k = 0; k < COUNT(models); k++)
    if (stt_jset(a, ms, models[k], stt_caps_model(a, 1, caps_how, s))) return NULL;
  return c;
}

/* ========================================================================================== */
/* Result */

static int set_str(stt_arena *a, stt_json *obj, const char *key, const char *v) {
  return v && *v ? stt_jset(a, obj, key, stt_jstr(a, v)) : 0;
}

/* additions values are strings ("3575", "1.5"); numbers are accepted too. */
static int num_of(const stt_json *v, double *out) {
  char *end;
  if (stt_jis(v, STT_JNUM)) { *out = v->n; return 1; }
  if (!stt_jis(v, STT_JSTR) || v->slen == 0) return 0;
  *out = strtod(v->s, &end);
  return *end == '\0' && *out == *out;
}

static int set_time(stt_arena *a, stt_json *dst, const char *key, const stt_json *src, const char *field) {
  double n;
  if (!stt_jis(stt_jget(src, field), STT_JNUM) || !num_of(stt_jget(src, field), &n) || n < 0) return 0;
  return stt_jset(a, dst, key, stt_jint(a, (long long)(n + 0.5)));
}

static stt_json *make_word(stt_arena *a, const stt_json *w) {
  stt_json *o = stt_jobj(a);
  const stt_json *text = stt_jget(w, "text"), *conf = stt_jget(w, "confidence");
  if (!o || set_time(a, o, "start_ms", w, "start_time") || set_time(a, o, "end_ms", w, "end_time") ||
      stt_jset(a, o, "text", stt_jis(text, STT_JSTR) ? stt_jstrn(a, text->s, text->slen) : stt_jstr(a, "")))
    return NULL;
  if (stt_jis(conf, STT_JNUM) && stt_jset(a, o, "confidence", stt_jnum(a, conf->n))) return NULL;
  return o;
}

/* additions.channel_id "1" (left) / "2" (right) -> 0 / 1: channels are 0-based (§8.5). */
static int set_channel(stt_arena *a, stt_json *seg, const stt_json *add) {
  double n;
  if (!num_of(stt_jget(add, "channel_id"), &n) || n < 1 || n > 64 || n != (double)(long long)n) return 0;
  return stt_jset(a, seg, "channel", stt_jint(a, (long long)n - 1));
}

static int set_speaker(stt_arena *a, stt_json *seg, const stt_json *add) {
  const stt_json *sp = stt_jget(add, "speaker");
  long long n;
  if (!sp) sp = stt_jget(add, "speaker_id");          /* seen in streaming results */
  if (stt_jis(sp, STT_JSTR) && sp->slen) return stt_jset(a, seg, "speaker", stt_jstrn(a, sp->s, sp->slen));
  if (stt_json_int(sp, &n)) return stt_jset(a, seg, "speaker", stt_jstr(a, stt_arena_printf(a, "%lld", n)));
  return 0;
}

static int set_number(stt_arena *a, stt_json *seg, const char *key, const stt_json *v) {
  double n;
  return num_of(v, &n) ? stt_jset(a, seg, key, stt_jnum(a, n)) : 0;
}

static stt_json *make_segment(stt_arena *a, const stt_json *u) {
  stt_json *seg = stt_jobj(a), *words;
  const stt_json *add = stt_jget(u, "additions"), *text = stt_jget(u, "text"), *wl = stt_jget(u, "words"), *w;
  if (!seg || set_time(a, seg, "start_ms", u, "start_time") || set_time(a, seg, "end_ms", u, "end_time") ||
      stt_jset(a, seg, "text", stt_jis(text, STT_JSTR) ? stt_jstrn(a, text->s, text->slen) : stt_jstr(a, "")) ||
      set_speaker(a, seg, add) || set_channel(a, seg, add) ||
      set_str(a, seg, "emotion", stt_jgetstr(add, "emotion")) ||
      set_str(a, seg, "gender", stt_jgetstr(add, "gender")) ||
      set_number(a, seg, "speech_rate", stt_jget(add, "speech_rate")) ||
      set_number(a, seg, "volume", stt_jget(add, "volume")) ||
      set_str(a, seg, "language", stt_jgetstr(add, "lid_lang")))
    return NULL;
  if (!stt_jis(wl, STT_JARR)) return seg;
  if (!(words = stt_jarr(a))) return NULL;
  for (w = wl->child; w; w = w->next)
    if (stt_jpush(words, make_word(a, w))) return NULL;
  return stt_jset(a, seg, "words", words) ? NULL : seg;
}

typedef struct { long long start, channel; size_t seq; stt_json *seg; } seg_ref;

static int seg_cmp(const void *pa, const void *pb) {
  const seg_ref *x = pa, *y = pb;
  if (x->start != y->start) return x->start < y->start ? -1 : 1;
  if (x->channel != y->channel) return x->channel < y->channel ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Utterances in time order (then channel, then as sent). */
static stt_json *make_segments(stt_arena *a, const stt_json *utts, long long *last_end) {
  size_t n = stt_jis(utts, STT_JARR) ? utts->count : 0, k = 0;
  seg_ref *refs = stt_arena_alloc(a, (n ? n : 1) * sizeof *refs);
  stt_json *segs = stt_jarr(a);
  const stt_json *u;
  *last_end = 0;
  if (!refs || !segs) return NULL;
  for (u = n ? utts->child : NULL; u; u = u->next, k++) {
    if (!(refs[k].seg = make_segment(a, u))) return NULL;
    refs[k].start = stt_jgetint(refs[k].seg, "start_ms", 0);
    refs[k].channel = stt_jgetint(refs[k].seg, "channel", 0);
    refs[k].seq = k;
    if (stt_jgetint(refs[k].seg, "end_ms", 0) > *last_end) *last_end = stt_jgetint(refs[k].seg, "end_ms", 0);
  }
  qsort(refs, n, sizeof *refs, seg_cmp);
  for (k = 0; k < n; k++)
    if (stt_jpush(segs, refs[k].seg)) return NULL;
  return segs;
}

static stt_json *joined_text(stt_arena *a, const stt_json *segs) {
  stt_buf b;
  const stt_json *s;
  stt_json *out;
  stt_buf_init(&b);
  for (s = segs->child; s; s = s->next) {
    const char *t = stt_jgetstr(s, "text");
    if (!t || !*t) continue;
    if (b.len) stt_buf_putc(&b, ' ');
    stt_buf_puts(&b, t);
  }
  out = b.oom ? NULL : stt_jstrn(a, b.data ? b.data : "", b.len);
  stt_buf_free(&b);
  return out;
}

static const char *common_language(const stt_json *segs) {
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

/* Duration in ms. result.additions.duration is ms (a string, per the AUC doc). The LAS doc calls
 * audio_info.duration seconds, but its own example (3575 next to a last word ending at 2320) is
 * ms: a value is taken as seconds only when it is fractional, or when it times 10 is still shorter
 * than the last utterance's end (a seconds value is ~1000x smaller than the end time in ms). */
static int duration_ms(const stt_json *result, const stt_json *audio_info, long long last_end, long long *out) {
  double d;
  if (num_of(stt_jget(stt_jget(result, "additions"), "duration"), &d) && d >= 0 && d < 9e12) {
    *out = (long long)(d + 0.5);
    return 1;
  }
  if (!num_of(stt_jget(audio_info, "duration"), &d) || !(d >= 0 && d < 9e12)) return 0;
  if (d != (double)(long long)d || (last_end > 0 && d * 10 < (double)last_end)) d *= 1000;
  *out = (long long)(d + 0.5);
  return 1;
}

static stt_json *result_frame(stt_arena *a, const char *provider, const char *model, const char *task_id) {
  stt_json *out = stt_jobj(a);
  if (!out || set_str(a, out, "provider", provider) || set_str(a, out, "model", model) ||
      set_str(a, out, "task_id", task_id))
    return NULL;
  return out;
}

stt_json *vc_result(stt_arena *a, const char *provider, const char *model, const char *task_id,
                    const stt_json *result, const stt_json *audio_info, stt_json *raw) {
  stt_json *out = result_frame(a, provider, model, task_id), *segs, *text;
  const stt_json *tx;
  long long last_end, dur;
  /* the AUC table calls result a "list" while every example has an object: take either */
  if (stt_jis(result, STT_JARR)) result = result->child;
  tx = stt_jget(result, "text");
  if (!out || !(segs = make_segments(a, stt_jget(result, "utterances"), &last_end))) return NULL;
  text = stt_jis(tx, STT_JSTR) ? stt_jstrn(a, tx->s, tx->slen) : joined_text(a, segs);
  if (!text || stt_jset(a, out, "text", text) || set_str(a, out, "language", common_language(segs)) ||
      (duration_ms(result, audio_info, last_end, &dur) && stt_jset(a, out, "duration_ms", stt_jint(a, dur))) ||
      stt_jset(a, out, "segments", segs) || (raw && stt_jset(a, out, "raw", raw)))
    return NULL;
  return out;
}

stt_json *vc_empty_result(stt_arena *a, const char *provider, const char *model,
                          const char *task_id, stt_json *raw) {
  stt_json *out = result_frame(a, provider, model, task_id);
  if (!out || stt_jset(a, out, "text", stt_jstr(a, "")) || stt_jset(a, out, "segments", stt_jarr(a)) ||
      (raw && stt_jset(a, out, "raw", raw)))
    return NULL;
  return out;
}

int vc_set_usage(stt_arena *a, stt_json *out, const stt_json *result) {
  const stt_json *d = stt_jget(result, "duration_ms");
  stt_json *u;
  if (!stt_jis(d, STT_JNUM)) return 0;
  if (!(u = stt_jobj(a)) || stt_jset(a, u, "audio_ms", stt_jint(a, d->i))) return -1;
  return stt_jset(a, out, "usage", u);
}
