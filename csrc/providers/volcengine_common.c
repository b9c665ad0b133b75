/* volcengine_common.c - see volcengine_common.h. Facts: docs/providers.md#volcengine-request-fields,
 * #volcengine-corpus-context, #volcengine-result; hot words: docs/subtitles.md#hotwords-volcengine.
 * Pure: no I/O, no globals.
 *
 * Options -> fields (paths relative to the user/audio/request objects):
 *   url -> audio.url; format -> audio.format (else from the URL's extension, else left out);
 *   language -> audio.language; channels {0,1} | 2 -> request.enable_channel_split + audio.channel 2;
 *   itn -> request.enable_itn (ALWAYS sent, default true: the doc default flipped between
 *   versions); punctuation -> enable_punc; disfluency -> enable_ddc; speakers ->
 *   enable_speaker_info; words -> show_utterances (always true: segments need utterances, and
 *   words come inside them); vad -> vad_segment / end_window_size; emotion ->
 *   enable_emotion_detection; gender -> enable_gender_detection; speech_rate -> show_speech_rate;
 *   volume -> show_volume; detect_language -> enable_lid; sensitive_words_filter ->
 *   sensitive_words_filter (a JSON string); context / hotwords -> corpus.context (a JSON string).
 * Every other documented field (user.uid, audio.codec/rate/bits, model_version, enable_poi_fc,
 * enable_music_fc, corpus.boosting_table_name, callback...) is reachable through job.extra. */
#include "volcengine_common.h"

#include <stdlib.h>
#include <string.h>

#define COUNT(x) (sizeof(x) / sizeof((x)[0]))

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
  stt_set_error(a, err, s->provider, "unsupported", 0,
                "model \"%.80s\" is not supported by %s (known: bigasr, seedasr)", m, s->provider);
  return NULL;
}

/* ========================================================================================== */
/* submit: options */

typedef struct {
  stt_opt_ctx o;                          /* o.provider = the schema's provider */
  stt_json *audio, *request;
  const stt_json *context, *hotwords;     /* encoded together into corpus.context at the end */
} vc_ctx;

static void oom(vc_ctx *c) { stt_set_oom(c->o.a, c->o.err, c->o.provider); }

/* Boolean options all land in "request". */
static int put_bool(vc_ctx *c, const char *opt, const stt_json *v, const char *field) {
  return stt_opt_put_bool(&c->o, c->request, opt, v, field);
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
  return stt_jis(v, STT_JBOOL) ? 0 : stt_opt_invalid(&c->o, "words", "must be a boolean");
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
    return stt_opt_invalid(&c->o, "language", "must be one language code (a string)");
  if (strcmp(v->s, "zh") == 0 || strcmp(v->s, "auto") == 0 || strcmp(v->s, "multi") == 0) return 0;
  for (k = 0; k < COUNT(map); k++)
    if (strcmp(v->s, map[k][0]) == 0) return stt_opt_put(&c->o, c->audio, "language", stt_jstr(c->o.a, map[k][1]));
  return stt_opt_put(&c->o, c->audio, "language", stt_jstrn(c->o.a, v->s, v->slen));
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
  if (!n) return stt_opt_invalid(&c->o, "channels", "must be {0, 1} (split left/right), {0}, 1 or 2");
  if (n == 2 && stt_opt_put(&c->o, c->request, "enable_channel_split", stt_jbool(c->o.a, 1))) return -1;
  return stt_opt_put(&c->o, c->audio, "channel", stt_jint(c->o.a, n));
}

/* There is no speaker count field: any number > 1 (or true) just enables diarization, which
 * works best up to 10 speakers. 1 or false: one voice, nothing sent. */
static int opt_speakers(vc_ctx *c, const stt_json *v) {
  long long n;
  if (stt_jis(v, STT_JBOOL))
    return v->b ? stt_opt_put(&c->o, c->request, "enable_speaker_info", stt_jbool(c->o.a, 1)) : 0;
  if (!stt_json_int(v, &n) || n < 1 || n > 100)
    return stt_opt_invalid(&c->o, "speakers", "must be true or an integer from 1 to 100");
  return n > 1 ? stt_opt_put(&c->o, c->request, "enable_speaker_info", stt_jbool(c->o.a, 1)) : 0;
}

/* vad = true | { segment = true, end_window_ms = 300..5000 }: split sentences on silence rather
 * than semantically; end_window_ms is the silence that ends one. */
static int opt_vad(vc_ctx *c, const stt_json *v) {
  const stt_json *seg = stt_jget(v, "segment"), *win = stt_jget(v, "end_window_ms"), *m;
  long long n;
  if (stt_jis(v, STT_JBOOL)) return stt_opt_put(&c->o, c->request, "vad_segment", stt_jbool(c->o.a, v->b));
  if (!stt_jis(v, STT_JOBJ) || (!seg && !win))
    return stt_opt_invalid(&c->o, "vad", "must be true or { segment = true, end_window_ms = 300..5000 }");
  for (m = v->child; m; m = m->next)
    if (strcmp(m->key, "segment") != 0 && strcmp(m->key, "end_window_ms") != 0)
      return stt_opt_unsupported(&c->o, "vad", " (it takes segment and end_window_ms)");
  if (seg) {
    if (!stt_jis(seg, STT_JBOOL)) return stt_opt_invalid(&c->o, "vad", "segment must be a boolean");
    if (stt_opt_put(&c->o, c->request, "vad_segment", stt_jbool(c->o.a, seg->b))) return -1;
  }
  if (win) {
    if (!stt_json_int(win, &n) || n < 300 || n > 5000)
      return stt_opt_invalid(&c->o, "vad", "end_window_ms must be an integer from 300 to 5000");
    if (stt_opt_put(&c->o, c->request, "end_window_size", stt_jint(c->o.a, n))) return -1;
  }
  return 0;
}

/* A JSON string on the wire (docs/providers.md#volcengine-request-fields): a table is
 * serialized, a string is sent as it is. */
static int opt_sensitive(vc_ctx *c, const stt_json *v) {
  stt_json *s;
  if (stt_jis(v, STT_JSTR)) return stt_opt_put(&c->o, c->request, "sensitive_words_filter", stt_jclone(c->o.a, v));
  if (!stt_jis(v, STT_JOBJ))
    return stt_opt_invalid(&c->o, "sensitive_words_filter",
                   "must be a table like {system_reserved_filter = true, filter_with_empty = {...}} or its JSON string");
  if (!(s = stt_json_as_string(c->o.a, v))) { oom(c); return -1; }
  return stt_opt_put(&c->o, c->request, "sensitive_words_filter", s);
}

static int opt_context(vc_ctx *c, const stt_json *v) {
  const stt_json *e;
  if (stt_jis(v, STT_JSTR) && v->slen > 0) { c->context = v; return 0; }
  if (stt_jis(v, STT_JARR) && v->count > 0) {
    for (e = v->child; e; e = e->next)
      if (!stt_jis(e, STT_JSTR)) return stt_opt_invalid(&c->o, "context", "must hold strings (dialog turns, newest first)");
    c->context = v;
    return 0;
  }
  return stt_opt_invalid(&c->o, "context", "must be a non-empty string or an array of strings (newest first)");
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
  {"format", "@audio.format (wav, mp3, ogg (opus), raw (pcm); default: from the URL extension, else left out)",
   opt_format},
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

/* The options row named name, or -1. */
static int find_option(const char *name) {
  size_t k;
  for (k = 0; k < COUNT(options); k++)
    if (strcmp(options[k].name, name) == 0) return (int)k;
  return -1;
}

static int is_option(const char *key) { return find_option(key) >= 0; }

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
  int k = find_option(opt);
  if (strcmp(opt, "extra") == 0)
    return stt_arena_printf(a, "merged into %s (recursively%s%s)", s->extra_at, s->extra_note ? "; " : "",
                            s->extra_note ? s->extra_note : "");
  return k >= 0 && options[k].how ? expand(a, options[k].how, s->prefix) : NULL;
}

/* ---- input */

/* The doc's container labels (raw / wav / mp3 / ogg) and the names that say one of them: a URL
 * extension or the format option. Nothing else maps: an m4a, aac or flac file is not "mp3". */
static const char *const format_names[][2] = {
  {"wav", "wav"}, {"mp3", "mp3"}, {"ogg", "ogg"}, {"opus", "ogg"}, {"oga", "ogg"},
  {"raw", "raw"}, {"pcm", "raw"},
};

static const char *format_label(const char *name) {
  size_t k;
  for (k = 0; k < COUNT(format_names); k++)
    if (strcmp(name, format_names[k][0]) == 0) return format_names[k][1];
  return NULL;
}

/* The label the URL's extension (case-insensitive, before any query or fragment) says, or NULL. */
static const char *format_from_url(const char *url) {
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
  return format_label(ext);
}

/* audio.url, then audio.format only when something says what the container is: job.format (a doc
 * label, or opus / pcm for ogg / raw), else the URL's extension. Otherwise the field is left out
 * and the service detects the container (UNCONFIRMED that it may be omitted, though Volcengine's
 * own clients do: docs/providers.md#volcengine-request-fields); a guess could only be a wrong
 * label. */
static int set_input(vc_ctx *c, const stt_json *job) {
  const stt_json *url, *fmt = stt_opt_get(job, "format");
  const char *f = NULL, *opt;
  if (!(url = stt_opt_one_url(&c->o, job, &opt))) return -1;
  if (!stt_jis(url, STT_JSTR) || url->slen == 0 || strlen(url->s) != url->slen)
    return stt_opt_invalid(&c->o, opt, "must be a non-empty URL string");
  if (fmt) {
    if (stt_jis(fmt, STT_JSTR) && strlen(fmt->s) == fmt->slen) f = format_label(fmt->s);
    if (!f)
      return stt_opt_invalid(&c->o, "format",
                             "must be one of wav, mp3, ogg (or opus), raw (or pcm); leave it out to let the "
                             "service detect the container");
  } else {
    f = format_from_url(url->s);
  }
  if (stt_opt_put(&c->o, c->audio, "url", stt_jstrn(c->o.a, url->s, url->slen))) return -1;
  return f ? stt_opt_put(&c->o, c->audio, "format", stt_jstr(c->o.a, f)) : 0;
}

/* ---- corpus.context */

/* direct hot words carry no weight (docs/subtitles.md#hotwords-volcengine): word only */
static stt_json *hotword_list(stt_arena *a, const stt_json *list, const char **why) {
  return stt_hotword_objects(a, list, 0, why);
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
  if (!(s = corpus_context(c->o.a, c->context, c->hotwords, &why))) {
    if (why) return stt_opt_invalid(&c->o, "hotwords", why);
    oom(c);
    return -1;
  }
  if (!(corpus = stt_jobj(c->o.a))) { oom(c); return -1; }
  if (stt_opt_put(&c->o, corpus, "context", s)) return -1;
  return stt_opt_put(&c->o, c->request, "corpus", corpus);
}

int vc_request_objects(stt_arena *a, const vc_schema *s, const char *model, const stt_json *job,
                       const char *resource, stt_json *dst, stt_json **err) {
  vc_ctx c;
  const stt_json *m;
  size_t k;
  memset(&c, 0, sizeof c);
  stt_opt_init(&c.o, a, err, s->provider, model);
  if (job && !stt_jis(job, STT_JOBJ)) {
    stt_set_error(a, err, s->provider, "invalid", 0, "%s: job must be a table", s->provider);
    return -1;
  }
  /* keys outside the option table are refused; in it, only urls has no how (set_input refuses
   * a batch), so the capability table and these refusals come from the same rows */
  if ((m = stt_unknown_job_key(job, is_option)) != NULL) return stt_opt_unsupported(&c.o, m->key, NULL);
  c.audio = stt_jobj(a);
  c.request = stt_jobj(a);
  if (!c.audio || !c.request) { oom(&c); return -1; }
  /* model_name is required and has one value; enable_itn always explicit (the doc default
   * flipped between versions, docs/providers.md#volcengine-request-fields); utterances
   * always on: segments and words come from them. */
  if (stt_opt_put(&c.o, c.request, "model_name", stt_jstr(a, "bigmodel")) ||
      stt_opt_put(&c.o, c.request, "enable_itn", stt_jbool(a, 1)) ||
      stt_opt_put(&c.o, c.request, "show_utterances", stt_jbool(a, 1)))
    return -1;
  if (set_input(&c, job)) return -1;
  for (k = 0; k < COUNT(options); k++) {
    const stt_json *v = stt_opt_get(job, options[k].name);
    if (v && options[k].fn && options[k].fn(&c, v)) return -1;
  }
  if (set_corpus(&c)) return -1;
  if (stt_opt_put(&c.o, dst, "audio", c.audio) || (resource && stt_opt_put(&c.o, dst, "resource", stt_jstr(a, resource))) ||
      stt_opt_put(&c.o, dst, "request", c.request))
    return -1;
  return 0;
}

int vc_apply_extra(stt_arena *a, const vc_schema *s, const char *model, const stt_json *job,
                   stt_json *target, stt_json **err) {
  stt_opt_ctx o;
  stt_opt_init(&o, a, err, s->provider, model);
  return stt_opt_merge_extra(&o, job, target);
}

stt_json *vc_hotwords(stt_arena *a, const vc_schema *s, const stt_json *args, stt_json **err) {
  const char *model = vc_model(a, s, args, err), *why;
  stt_json *out, *v;
  stt_opt_ctx o;
  if (!model) return NULL;
  stt_opt_init(&o, a, err, s->provider, model);
  v = corpus_context(a, NULL, stt_jget(args, "hotwords"), &why);
  out = stt_jobj(a);
  if (!v && why) {
    stt_opt_invalid(&o, "hotwords", why);
    return NULL;
  }
  if (!v || !out || stt_jset(a, out, "field", stt_jstr(a, expand(a, "@request.corpus.context", s->prefix))) ||
      stt_jset(a, out, "value", v)) {
    stt_set_oom(a, err, s->provider);
    return NULL;
  }
  return out;
}

stt_json *vc_build(stt_arena *a, const vc_schema *s, const char *op, const stt_json *args,
                   stt_json **err, vc_build_fn submit, vc_build_fn poll) {
  if (!op) op = "";
  if (strcmp(op, "submit") == 0) return submit(a, args, err);
  if (strcmp(op, "poll") == 0) return poll(a, args, err);
  if (strcmp(op, "hotwords") == 0) return vc_hotwords(a, s, args, err);
  if (strcmp(op, "cancel") == 0 || strcmp(op, "fetch") == 0) {
    stt_set_error(a, err, s->provider, "unsupported", 0, "%s has no %s operation: %s", s->title, op,
                  strcmp(op, "cancel") == 0 ? "a task cannot be canceled" : s->results_in);
    return NULL;
  }
  stt_set_error(a, err, s->provider, "invalid", 0, "%s: unknown build op \"%.40s\"", s->provider, op);
  return NULL;
}

const char *vc_model_of(const stt_json *resp) {
  const char *m = stt_jgetstr(resp, "model");
  if (!m || !*m) m = stt_jgetstr(stt_jget(resp, "task"), "model");
  return m && *m ? m : VC_DEFAULT_MODEL;
}

static const char *caps_how(stt_arena *a, const char *opt, const void *ctx) {
  return how_of(a, ctx, opt);
}

stt_json *vc_caps(stt_arena *a, const vc_schema *s) {
  stt_json *ms, *c = stt_caps_new(a, VC_DEFAULT_MODEL, &ms);
  size_t k;
  if (!c) return NULL;
  /* both models take the same request fields (docs/providers.md#volcengine-request-fields:
   * only model_version is "not for seedasr", and that is an extra) */
  for (k = 0; k < COUNT(models); k++)
    if (stt_jset(a, ms, models[k], stt_caps_model(a, 1, caps_how, s))) return NULL;
  return c;
}

/* ========================================================================================== */
/* Result */

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
  /* Out of range (a huge or infinite time) counts as absent: the cast below would be UB. */
  if (!stt_jis(stt_jget(src, field), STT_JNUM) || !num_of(stt_jget(src, field), &n) || !(n >= 0 && n < 9e15)) return 0;
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

/* additions.channel_id "1" (left) / "2" (right) -> 0 / 1: channels are 0-based
 * (docs/providers.md#volcengine-result). */
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
  stt_json *seg = stt_jobj(a);
  const stt_json *add = stt_jget(u, "additions"), *text = stt_jget(u, "text"), *wl = stt_jget(u, "words");
  if (!seg || set_time(a, seg, "start_ms", u, "start_time") || set_time(a, seg, "end_ms", u, "end_time") ||
      stt_jset(a, seg, "text", stt_jis(text, STT_JSTR) ? stt_jstrn(a, text->s, text->slen) : stt_jstr(a, "")) ||
      set_speaker(a, seg, add) || set_channel(a, seg, add) ||
      stt_set_str(a, seg, "emotion", stt_jgetstr(add, "emotion")) ||
      stt_set_str(a, seg, "gender", stt_jgetstr(add, "gender")) ||
      set_number(a, seg, "speech_rate", stt_jget(add, "speech_rate")) ||
      set_number(a, seg, "volume", stt_jget(add, "volume")) ||
      stt_set_str(a, seg, "language", stt_jgetstr(add, "lid_lang")))
    return NULL;
  return stt_set_words(a, seg, wl, make_word) ? NULL : seg;
}

/* Utterances in time order (then channel, then as sent). */
static stt_json *make_segments(stt_arena *a, const stt_json *utts, long long *last_end) {
  size_t n = stt_jis(utts, STT_JARR) ? utts->count : 0, k = 0;
  stt_seg_ref *refs = stt_arena_alloc(a, (n ? n : 1) * sizeof *refs);
  const stt_json *u;
  *last_end = 0;
  if (!refs) return NULL;
  for (u = n ? utts->child : NULL; u; u = u->next, k++) {
    if (!(refs[k].seg = make_segment(a, u))) return NULL;
    refs[k].start = stt_jgetint(refs[k].seg, "start_ms", 0);
    refs[k].channel = stt_jgetint(refs[k].seg, "channel", 0);
    refs[k].seq = k;
    if (stt_jgetint(refs[k].seg, "end_ms", 0) > *last_end) *last_end = stt_jgetint(refs[k].seg, "end_ms", 0);
  }
  return stt_segments_in_order(a, refs, n);
}

static stt_json *joined_text(stt_arena *a, const stt_json *segs) {
  stt_buf b;
  const stt_json *s;
  stt_buf_init(&b);
  for (s = segs->child; s; s = s->next) {
    const char *t = stt_jgetstr(s, "text");
    if (!t || !*t) continue;
    if (b.len) stt_buf_putc(&b, ' ');
    stt_buf_puts(&b, t);
  }
  return stt_buf_take(a, &b);
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
  if (!out || stt_set_str(a, out, "provider", provider) || stt_set_str(a, out, "model", model) ||
      stt_set_str(a, out, "task_id", task_id))
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
  if (!text || stt_jset(a, out, "text", text) || stt_set_str(a, out, "language", stt_common_language(segs)) ||
      (duration_ms(result, audio_info, last_end, &dur) && stt_jset(a, out, "duration_ms", stt_jint(a, dur))) ||
      stt_jset(a, out, "segments", segs) || (raw && stt_jset(a, out, "raw", raw)))
    return NULL;
  return out;
}

stt_json *vc_silent_result(stt_arena *a, const char *provider, const char *model,
                           const char *task_id, stt_json *raw) {
  stt_json *out = result_frame(a, provider, model, task_id);
  const stt_json *result = stt_jget(raw, "result");
  long long dur;
  if (stt_jis(result, STT_JARR)) result = result->child;
  if (!out || stt_jset(a, out, "text", stt_jstr(a, "")) || stt_jset(a, out, "silent", stt_jbool(a, 1)) ||
      (duration_ms(result, stt_jget(raw, "audio_info"), 0, &dur) && stt_jset(a, out, "duration_ms", stt_jint(a, dur))) ||
      stt_jset(a, out, "segments", stt_jarr(a)) || (raw && stt_jset(a, out, "raw", raw)))
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

/* ========================================================================================== */
/* Callbacks (docs/providers.md#volcengine-callbacks) */

int vc_callback(stt_arena *a, const vc_schema *s, const stt_json *args, stt_json *dst, stt_json **err) {
  const stt_json *cb = stt_jget(args, "callback");
  const char *url, *data;
  if (!cb) return 0;
  url = stt_jgetstr(cb, "url");
  data = stt_jgetstr(cb, "data");
  if (!url || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) || strlen(url) < 9) {
    stt_set_error(a, err, s->provider, "invalid", 0, "%s: callback.url must be an http:// or https:// URL",
                  s->provider);
    return -1;
  }
  if (!data || !*data) {
    stt_set_error(a, err, s->provider, "invalid", 0, "%s: callback.data must be a non-empty string", s->provider);
    return -1;
  }
  if (stt_set_str(a, dst, "callback", url) || stt_set_str(a, dst, "callback_data", data)) {
    stt_set_oom(a, err, s->provider);
    return -1;
  }
  return 0;
}

/* The first string among the members `keys` of each object in `objs` (NULL entries skipped). */
static const char *first_str(const stt_json *const *objs, size_t nobj, const char *const *keys, size_t nkey) {
  size_t i, k;
  for (i = 0; i < nobj; i++)
    for (k = 0; objs[i] && k < nkey; k++) {
      const char *v = stt_jgetstr(objs[i], keys[k]);
      if (v && *v) return v;
    }
  return NULL;
}

/* LAS task_status (docs/providers.md#volcengine-las-states) or an AUC status code
 * (docs/providers.md#auc-status-codes) -> normalized state, NULL when neither. */
static const char *notice_state(const char *s) {
  static const char *const map[][2] = {
    {"ACCEPTED", "queued"}, {"PENDING", "queued"}, {"RUNNING", "running"}, {"COMPLETED", "succeeded"},
    {"FAILED", "failed"}, {"TIMEOUT", "failed"}, {"20000000", "succeeded"}, {"20000003", "succeeded"},
    {"20000001", "running"}, {"20000002", "queued"},
  };
  size_t k;
  if (!s || !*s) return NULL;
  for (k = 0; k < COUNT(map); k++)
    if (strcmp(s, map[k][0]) == 0) return map[k][1];
  if (strlen(s) == 8 && (s[0] == '4' || s[0] == '5') && s[1] == '5') return "failed";    /* 45xxxxxx, 55xxxxxx */
  return NULL;
}

/* An integer code member as text ("20000000"), or NULL. */
static const char *code_text(stt_arena *a, const stt_json *obj, const char *key) {
  const stt_json *v = stt_jget(obj, key);
  long long n;
  if (stt_jis(v, STT_JSTR)) return v->s;
  if (v && stt_json_int(v, &n)) return stt_arena_printf(a, "%lld", n);
  return NULL;
}

/* What the provider POSTs to the callback URL is UNCONFIRMED (documented nowhere:
 * docs/providers.md#volcengine-callbacks), so every plausible shape is read: the query / poll
 * answer itself (AUC {audio_info, result} with the status in X-Api-Status-Code; LAS
 * {metadata:{task_id, task_status}, data}), the same inside a `resp` or `data` object, and
 * callback_data at the root or beside the id in any of them. A notice is never a result: only
 * what names the task (callback_data, the task id) and its state are taken. Returns
 * { callback_data =, task_id =, state = "succeeded" | "failed" | "running" | "queued" | nil };
 * a body that is no JSON object gives an empty notice (the token may come in the URL). */
stt_json *vc_notice(stt_arena *a, const vc_schema *s, const stt_json *resp, stt_json **err) {
  static const char *const data_keys[] = {"callback_data", "CallbackData"};
  static const char *const las_ids[] = {"task_id", "id"};
  static const char *const auc_ids[] = {"id", "request_id", "task_id", "reqid"};
  static const char *const states[] = {"task_status", "status"};
  const stt_json *body = stt_jget(resp, "body");
  const stt_json *root = NULL, *objs[6];
  const char *data, *id, *state = NULL, *code;
  int las = s->prefix[0] != '\0';
  size_t n = 0, i;
  char msg[160];
  stt_json *out = stt_jobj(a);
  if (!out) { stt_set_oom(a, err, s->provider); return NULL; }
  if (stt_jis(body, STT_JSTR) && body->slen) root = stt_json_parse(a, body->s, body->slen, msg, sizeof msg);
  if (!stt_jis(root, STT_JOBJ)) root = NULL;
  objs[n++] = root;
  objs[n++] = stt_jget(root, "metadata");
  objs[n++] = stt_jget(root, "resp");
  objs[n++] = stt_jget(root, "data");
  objs[n++] = stt_jget(stt_jget(root, "resp"), "metadata");
  objs[n++] = stt_jget(root, "result");
  data = first_str(objs, n, data_keys, COUNT(data_keys));
  if (las) {
    id = first_str(objs, 5, las_ids, COUNT(las_ids));
  } else {
    id = stt_resp_header(resp, "x-api-request-id");
    if (!id || !*id) id = first_str(objs, 4, auc_ids, COUNT(auc_ids));
  }
  /* the state: the AUC status header, then a status word or code in the body */
  code = stt_resp_header(resp, "x-api-status-code");
  state = notice_state(code);
  for (i = 0; !state && i < 5; i++) {
    if (!objs[i]) continue;
    state = notice_state(first_str(objs + i, 1, states, COUNT(states)));
    if (!state) state = notice_state(code_text(a, objs[i], "code"));
    if (!state) state = notice_state(code_text(a, objs[i], "status_code"));
  }
  if (!state && root && (stt_jget(root, "result") || stt_jget(stt_jget(root, "data"), "result") ||
                         stt_jget(stt_jget(root, "resp"), "result")))
    state = "succeeded";
  if (stt_set_str(a, out, "callback_data", data) || stt_set_str(a, out, "task_id", id) ||
      stt_set_str(a, out, "state", state)) {
    stt_set_oom(a, err, s->provider);
    return NULL;
  }
  return out;
}
