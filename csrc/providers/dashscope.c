/* dashscope.c - wire schema for DashScope (Alibaba Cloud Model Studio) async file transcription:
 * the families of dashscope_common.c (paraformer v2 / v1, fun-asr, qwen-audio filetrans and
 * sensevoice on `input.file_urls`; qwen3-asr-flash-filetrans on `input.file_url`) and the task
 * API around them. Pure: no I/O, no clock, no env, no globals. Public sources (see also
 * docs/providers.md#dashscope):
 *   https://help.aliyun.com/zh/model-studio/paraformer-recorded-speech-recognition-restful-api
 *   https://help.aliyun.com/zh/model-studio/sensevoice-recorded-speech-recognition-restful-api
 *   https://help.aliyun.com/en/model-studio/fun-asr-recorded-speech-recognition-http-api
 *   https://help.aliyun.com/zh/model-studio/qwen-asr-api-reference
 *   https://help.aliyun.com/zh/model-studio/manage-asynchronous-tasks (poll, cancel, list)
 *   https://help.aliyun.com/zh/model-studio/get-temporary-file-url (oss:// inputs)
 * The region bases, the bearer and workspace headers, the model families and the error
 * classification live in dashscope_common.c (shared with the vocabulary API,
 * dashscope_vocabulary.c); result files are normalized in dashscope_result.c.
 *
 * build(op):  submit | poll | cancel | fetch | list | hotwords (vocabulary_*, upload_*: see above)
 * parse(kind):  submit | poll | cancel | list | result (vocabulary_*, upload_*)
 * args.workspace (the client option) becomes X-DashScope-WorkSpace on every request but the
 * result fetch (a signed OSS URL, no DashScope headers at all).
 *
 * job.extra is merged verbatim and recursively into the submit body AFTER the normalized options:
 * an object merges into an object of the same name (extra = {parameters = {special_word_filter =
 * "..."}} adds to "parameters"), anything else replaces or appends the member. Top-level keys of
 * extra are body keys; no key is special (extra.headers would just be a body field).
 *
 * Options are mapped or refused from ONE table (`options` below): each entry's how() names the
 * wire field for a model or returns NULL when the model does not honour it. build()
 * refuses through it and caps() (the capability table, core.capabilities()) reads it. */
#include "dashscope_common.h"
#include "dashscope_result.h"
#include "dashscope_vocabulary.h"   /* ops/kinds "vocabulary_*": the custom-vocabulary API */
#include "dashscope_upload.h"       /* ops/kinds "upload_*": the temporary file storage */

#include <stdio.h>
#include <string.h>

#define P DS_PROVIDER
#define MAX_FILE_URLS 100
#define COUNT(x) (sizeof(x) / sizeof((x)[0]))

/* ========================================================================================== */
/* small helpers */

static int starts_with(const char *s, const char *prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int is_2xx(long long status) { return status >= 200 && status <= 299; }

/* Errors go through stt_set_error, which formats the message: nothing in this file ever formats
 * args.api_key. */

/* ========================================================================================== */
/* models: families and per-model traits come from ds_model_classify (dashscope_common.c) */

static int has_file_urls(const ds_model *m) { return m->fam != DS_QWEN3; }
static long long batch_max(const ds_model *m) { return has_file_urls(m) ? MAX_FILE_URLS : 1; }
/* The paraformer / Fun-ASR parameter set: diarization, words always in the result, the
 * sensitive word filter, hot words (docs/providers.md#dashscope-submit). */
static int paraformer_like(const ds_model *m) {
  return m->fam == DS_PARAFORMER || m->fam == DS_PARAFORMER_V1 || m->fam == DS_FUNASR;
}
/* qwen-audio filetrans: its C# / Ruby SDK pages list diarization_enabled and speaker_count
 * ("when the model supports it"); its other paraformer-style flags are UNCONFIRMED and refused. */
static int diarizes(const ds_model *m) { return paraformer_like(m) || m->fam == DS_QWEN_AUDIO; }

/* ========================================================================================== */
/* submit: options */

typedef struct {
  stt_opt_ctx o;         /* o.model = m.name */
  ds_model m;
  stt_json *body, *input, *params, *resources;
} sub_ctx;

static int oom(sub_ctx *c) {
  stt_set_oom(c->o.a, c->o.err, P);
  return -1;
}

/* Boolean options all land in "parameters". */
static int put_bool(sub_ctx *c, const char *opt, const stt_json *v, const char *field) {
  return stt_opt_put_bool(&c->o, c->params, opt, v, field);
}

/* An option honoured with no wire field: any boolean is fine. */
static int no_field_bool(sub_ctx *c, const char *opt, const stt_json *v) {
  return stt_jis(v, STT_JBOOL) ? 0 : stt_opt_invalid(&c->o, opt, "must be a boolean");
}

static int opt_channels(sub_ctx *c, const stt_json *v) {
  stt_json *ids = stt_jarr(c->o.a), *e;
  long long n;
  if (!ids) return oom(c);
  if (!stt_jis(v, STT_JARR) || v->count == 0)
    return stt_opt_invalid(&c->o, "channels", "must be a non-empty array of 0-based track indices");
  for (e = v->child; e; e = e->next) {
    if (!stt_json_int(e, &n) || n < 0)
      return stt_opt_invalid(&c->o, "channels", "must hold integers >= 0 (tracks are 0-based)");
    stt_jpush(ids, stt_jint(c->o.a, n));
  }
  return stt_opt_put(&c->o, c->params, "channel_id", ids);     /* same field for every model */
}

static int language_hints(sub_ctx *c, const stt_json *v) {
  stt_json *hints = stt_jarr(c->o.a), *e;
  if (!hints) return oom(c);
  if (stt_jis(v, STT_JSTR)) {
    stt_jpush(hints, stt_jstrn(c->o.a, v->s, v->slen));
    return stt_opt_put(&c->o, c->params, "language_hints", hints);
  }
  if (!stt_jis(v, STT_JARR) || v->count == 0)
    return stt_opt_invalid(&c->o, "language", "must be a language code or a non-empty array of codes");
  if (c->m.hints == 1 && v->count > 1)
    return stt_opt_invalid(&c->o, "language", "accepts exactly one language for this model");
  for (e = v->child; e; e = e->next) {
    if (!stt_jis(e, STT_JSTR)) return stt_opt_invalid(&c->o, "language", "must hold strings");
    stt_jpush(hints, stt_jstrn(c->o.a, e->s, e->slen));
  }
  return stt_opt_put(&c->o, c->params, "language_hints", hints);
}

static int opt_language(sub_ctx *c, const stt_json *v) {
  if (c->m.fam == DS_QWEN3) {
    if (!stt_jis(v, STT_JSTR)) return stt_opt_invalid(&c->o, "language", "must be one language code (a string)");
    return stt_opt_put(&c->o, c->params, "language", stt_jstrn(c->o.a, v->s, v->slen));
  }
  return language_hints(c, v);
}

/* speakers = true: diarize, let the model count. n in 2..100: diarize with a speaker_count hint.
 * speakers = 1 or false: one voice, nothing to separate, so no diarization fields are sent. */
static int opt_speakers(sub_ctx *c, const stt_json *v) {
  long long n;
  if (stt_jis(v, STT_JBOOL)) {
    return v->b ? stt_opt_put(&c->o, c->params, "diarization_enabled", stt_jbool(c->o.a, 1)) : 0;
  }
  if (!stt_json_int(v, &n) || n < 1 || n > 100)
    return stt_opt_invalid(&c->o, "speakers", "must be true or an integer from 1 to 100");
  if (n == 1) return 0;
  if (stt_opt_put(&c->o, c->params, "diarization_enabled", stt_jbool(c->o.a, 1))) return -1;
  return stt_opt_put(&c->o, c->params, "speaker_count", stt_jint(c->o.a, n));
}

/* qwen3 / qwen-audio: the Java SDK names disfluency_removal_enabled for qwen3, but no model doc
 * does (UNCONFIRMED), so it is refused rather than sent on a guess. */
static int opt_disfluency(sub_ctx *c, const stt_json *v) {
  return put_bool(c, "disfluency", v, "disfluency_removal_enabled");
}

/* Word timings. paraformer / fun-asr results ALWAYS carry sentences[].words, with no switch
 * (every official example; timestamp_alignment_enabled is timestamp calibration, not a words
 * switch): any boolean is accepted and nothing is sent. qwen3 sends them only with
 * parameters.enable_words = true. SenseVoice has none (refused through the table). */
static int opt_words(sub_ctx *c, const stt_json *v) {
  if (c->m.fam == DS_QWEN3) return put_bool(c, "words", v, "enable_words");
  return no_field_bool(c, "words", v);
}

static int opt_itn(sub_ctx *c, const stt_json *v) {
  return put_bool(c, "itn", v, "enable_itn");
}

/* SenseVoice always writes event tags (<|Applause|>, <|BGM|>, <|Laughter|> ...) into its texts;
 * dashscope_result.c turns them into segment.events. No other model documents event detection
 * (audio_event_detection_enabled appears only in SDK docstrings): refused through the table. */
static int opt_audio_events(sub_ctx *c, const stt_json *v) {
  return no_field_bool(c, "audio_events", v);
}

/* Every DashScope file model punctuates and has no switch: true is satisfied as is. */
static int opt_punctuation(sub_ctx *c, const stt_json *v) {
  if (!stt_jis(v, STT_JBOOL)) return stt_opt_invalid(&c->o, "punctuation", "must be a boolean");
  return v->b ? 0 : stt_opt_unsupported(&c->o, "punctuation", " (it always punctuates; punctuation = false)");
}

/* One word list of the sensitive word filter: an array of words, or DashScope's own
 * {word_list = [...]}, -> {"word_list":[...]}; an empty table leaves it out (NULL, 0). */
static int filter_list(sub_ctx *c, const char *key, const stt_json *v, stt_json **out) {
  static const char why[] = "must be a table like {system_reserved_filter = true, filter_with_empty = "
                            "{\"word\", ...}, filter_with_signed = {...}} or its JSON string";
  const stt_json *list = v, *e;
  stt_json *words, *obj;
  *out = NULL;
  if (stt_jis(v, STT_JOBJ) && v->count == 0) return 0;
  if (stt_jis(v, STT_JOBJ)) {
    list = stt_jget(v, "word_list");
    if (v->count != 1 || !list) return stt_opt_invalid(&c->o, "sensitive_words_filter", why);
  }
  if (!stt_jis(list, STT_JARR)) return stt_opt_invalid(&c->o, "sensitive_words_filter", why);
  if (list->count == 0 && list == v) return 0;
  if (!(words = stt_jarr(c->o.a)) || !(obj = stt_jobj(c->o.a))) return oom(c);
  for (e = list->child; e; e = e->next) {
    if (!stt_jis(e, STT_JSTR) || e->slen == 0)
      return stt_opt_invalid(&c->o, "sensitive_words_filter", stt_arena_printf(c->o.a,
                             "%s must hold non-empty strings (the words)", key));
    if (stt_jpush(words, stt_jstrn(c->o.a, e->s, e->slen))) return oom(c);
  }
  if (stt_opt_put(&c->o, obj, "word_list", words)) return -1;
  *out = obj;
  return 0;
}

/* sensitive_words_filter -> parameters.special_word_filter, a JSON STRING (the paraformer SDK doc:
 * "该参数的值应为一个 JSON 字符串"), members in the doc's order:
 *   {"filter_with_signed":{"word_list":[...]},"filter_with_empty":{"word_list":[...]},
 *    "system_reserved_filter":true}
 * The normalized option is Volcengine's table {system_reserved_filter, filter_with_empty,
 * filter_with_signed} (word arrays); a string is sent as it is. */
static int opt_sensitive(sub_ctx *c, const stt_json *v) {
  static const char *const keys[] = {"filter_with_signed", "filter_with_empty"};
  const stt_json *m, *sys;
  stt_json *f, *s, *list;
  size_t k;
  if (stt_jis(v, STT_JSTR) && v->slen > 0)
    return stt_opt_put(&c->o, c->params, "special_word_filter", stt_jstrn(c->o.a, v->s, v->slen));
  if (stt_jis(v, STT_JARR) && v->count == 0) v = NULL;           /* {}: an empty filter */
  else if (!stt_jis(v, STT_JOBJ))
    return stt_opt_invalid(&c->o, "sensitive_words_filter",
                           "must be a table like {system_reserved_filter = true, filter_with_empty = {...}} "
                           "or its JSON string");
  for (m = v ? v->child : NULL; m; m = m->next)
    if (strcmp(m->key, keys[0]) != 0 && strcmp(m->key, keys[1]) != 0 && strcmp(m->key, "system_reserved_filter") != 0)
      return stt_opt_invalid(&c->o, "sensitive_words_filter",
                             "takes system_reserved_filter, filter_with_empty and filter_with_signed only");
  if (!(f = stt_jobj(c->o.a))) return oom(c);
  for (k = 0; k < COUNT(keys); k++) {
    const stt_json *lv = stt_jget(v, keys[k]);
    if (!lv || stt_jis(lv, STT_JNULL)) continue;
    if (filter_list(c, keys[k], lv, &list)) return -1;
    if (list && stt_opt_put(&c->o, f, keys[k], list)) return -1;
  }
  sys = stt_jget(v, "system_reserved_filter");
  if (sys && !stt_jis(sys, STT_JNULL)) {
    if (!stt_jis(sys, STT_JBOOL))
      return stt_opt_invalid(&c->o, "sensitive_words_filter", "system_reserved_filter must be a boolean");
    if (stt_opt_put(&c->o, f, "system_reserved_filter", stt_jbool(c->o.a, sys->b))) return -1;
  }
  if (!(s = stt_json_as_string(c->o.a, f))) return oom(c);
  return stt_opt_put(&c->o, c->params, "special_word_filter", s);
}

/* qwen hot words as free text: the words joined by ", " (NULL on oom or a bad list, err set). */
static stt_json *qwen_hotword_text(stt_arena *a, const stt_json *list, stt_json **err, sub_ctx *c) {
  stt_hotword *hw = NULL;
  const char *why = NULL;
  int n, k;
  stt_buf b;
  stt_json *value;
  if ((n = stt_hotwords_read(a, list, &hw, &why)) < 0) {
    if (why) stt_opt_invalid(&c->o, "hotwords", why); else stt_set_oom(a, err, P);
    return NULL;
  }
  stt_buf_init(&b);
  for (k = 0; k < n; k++) {
    if (k) stt_buf_puts(&b, ", ");
    stt_buf_put(&b, hw[k].word, hw[k].len);
  }
  if (!(value = stt_buf_take(a, &b))) stt_set_oom(a, err, P);
  return value;
}

/* qwen hot words go into parameters.corpus.text too, after the context when both are given
 * (one line each). That field is UNCONFIRMED (see opt_context). */
static int opt_hotwords(sub_ctx *c, const stt_json *v) {
  stt_json *text = qwen_hotword_text(c->o.a, v, c->o.err, c), *corpus;
  const char *ctx;
  if (!text) return -1;
  corpus = stt_jget(c->params, "corpus");
  ctx = stt_jgetstr(corpus, "text");
  if (ctx) {
    char *both = stt_arena_printf(c->o.a, "%s\n%s", ctx, text->s);
    if (!both) return oom(c);
    return stt_opt_put(&c->o, corpus, "text", stt_jstr(c->o.a, both));
  }
  if (!(corpus = stt_jobj(c->o.a))) return oom(c);
  if (stt_opt_put(&c->o, corpus, "text", text)) return -1;
  return stt_opt_put(&c->o, c->params, "corpus", corpus);
}

/* qwen: corpus.text appears only in a commented-out doc sample (UNCONFIRMED). We send
 * parameters.corpus = {text = context}, the shape of that sample. */
static int opt_context(sub_ctx *c, const stt_json *v) {
  stt_json *corpus;
  if (!stt_jis(v, STT_JSTR)) return stt_opt_invalid(&c->o, "context", "must be a string");
  corpus = stt_jobj(c->o.a);
  if (!corpus) return oom(c);
  if (stt_opt_put(&c->o, corpus, "text", stt_jstrn(c->o.a, v->s, v->slen))) return -1;
  return stt_opt_put(&c->o, c->params, "corpus", corpus);
}

static int opt_vocabulary_id(sub_ctx *c, const stt_json *v) {
  if (!stt_jis(v, STT_JSTR) || v->slen == 0) return stt_opt_invalid(&c->o, "vocabulary_id", "must be a string");
  return stt_opt_put(&c->o, c->params, "vocabulary_id", stt_jstrn(c->o.a, v->s, v->slen));
}

/* v1 hot words: the SDK moves phrase_id into a top-level resources entry. */
static int opt_phrase_id(sub_ctx *c, const stt_json *v) {
  stt_json *r;
  if (!stt_jis(v, STT_JSTR) || v->slen == 0) return stt_opt_invalid(&c->o, "phrase_id", "must be a string");
  r = stt_jobj(c->o.a);
  c->resources = stt_jarr(c->o.a);
  if (!r || !c->resources) return oom(c);
  if (stt_opt_put(&c->o, r, "resource_id", stt_jstrn(c->o.a, v->s, v->slen)) ||
      stt_opt_put(&c->o, r, "resource_type", stt_jstr(c->o.a, "asr_phrase")))
    return -1;
  stt_jpush(c->resources, r);
  return 0;
}

/* ---- how each option maps, per model (NULL: not honoured). The capability table prints these. */
typedef const char *(*how_fn)(const ds_model *m);

static const char *how_url(const ds_model *m) {
  return has_file_urls(m) ? "input.file_urls[1]" : "input.file_url";
}
/* urls means a batch (2+ files): qwen3 takes one file per task. */
static const char *how_urls(const ds_model *m) {
  return batch_max(m) > 1 ? "input.file_urls (up to 100)" : NULL;
}
static const char *how_channels(const ds_model *m) { (void)m; return "parameters.channel_id"; }
static const char *how_language(const ds_model *m) {
  if (m->fam == DS_QWEN3) return "parameters.language";
  if (m->hints == 1) return "parameters.language_hints (one)";
  return m->hints ? "parameters.language_hints" : NULL;
}
static const char *how_speakers(const ds_model *m) {
  return diarizes(m) ? "parameters.diarization_enabled, speaker_count" : NULL;
}
static const char *how_disfluency(const ds_model *m) {
  return paraformer_like(m) || m->fam == DS_SENSEVOICE ? "parameters.disfluency_removal_enabled" : NULL;
}
static const char *how_words(const ds_model *m) {
  if (m->fam == DS_QWEN3) return "parameters.enable_words";
  return paraformer_like(m) ? "sentences[].words (always returned; no field)" : NULL;
}
static const char *how_itn(const ds_model *m) {
  return m->fam == DS_QWEN3 ? "parameters.enable_itn" : NULL;
}
static const char *how_punctuation(const ds_model *m) {
  (void)m;
  return "always on (no field; false is refused)";
}
static const char *how_audio_events(const ds_model *m) {
  return m->fam == DS_SENSEVOICE ? "event tags in the text -> segment.events (always; no field)" : NULL;
}
static const char *how_sensitive(const ds_model *m) {
  return paraformer_like(m) ? "parameters.special_word_filter (JSON string)" : NULL;
}
static const char *how_context(const ds_model *m) {
  return m->fam == DS_QWEN3 ? "parameters.corpus.text" : NULL;
}
static const char *how_vocabulary_id(const ds_model *m) {
  return m->fam == DS_PARAFORMER || m->fam == DS_FUNASR ? "parameters.vocabulary_id" : NULL;
}
static const char *how_phrase_id(const ds_model *m) {
  return m->fam == DS_PARAFORMER_V1 ? "resources[{resource_id, resource_type = asr_phrase}]" : NULL;
}
static const char *how_hotwords(const ds_model *m) {
  return m->fam == DS_QWEN3 ? "parameters.corpus.text (words joined by \", \", after context)" : NULL;
}
static const char *how_never(const ds_model *m) { (void)m; return NULL; }
static const char *how_extra(const ds_model *m) {
  (void)m;
  return "merged into the body root (recursively)";
}

#define UNCONFIRMED_FOR_IT " (UNCONFIRMED for this model: no doc lists it; extra sends a field anyway)"

/* Why an option is refused, after the standard sentence (NULL: nothing to add). */
static const char *refusal_hint(const char *opt, const ds_model *m) {
  int qa = m->fam == DS_QWEN_AUDIO;
  if (strcmp(opt, "vocabulary_id") == 0)
    return m->fam == DS_PARAFORMER_V1 ? " (v1 models take phrase_id)" : qa ? UNCONFIRMED_FOR_IT : NULL;
  if (strcmp(opt, "phrase_id") == 0) return how_vocabulary_id(m) ? " (use vocabulary_id)" : NULL;
  if (strcmp(opt, "urls") == 0) return " (one file per task: submit one task per URL)";
  if (strcmp(opt, "hotwords") == 0)
    return how_vocabulary_id(m)          ? ": pass vocabulary_id (hotword lists arrive with stt.hotwords)" :
           m->fam == DS_PARAFORMER_V1    ? ": pass phrase_id (hotword lists arrive with stt.hotwords)" :
           NULL;
  if (strcmp(opt, "words") == 0)
    return m->fam == DS_SENSEVOICE ? " (SenseVoice results carry no word timings)" :
           qa ? " (UNCONFIRMED whether this model returns word timings; leave words out)" : NULL;
  if (strcmp(opt, "audio_events") == 0)
    return " (no current model but sensevoice-v1 documents audio events; "
           "extra = { parameters = { audio_event_detection_enabled = true } } forces the SDK's field)";
  if (strcmp(opt, "sensitive_words_filter") == 0)
    return m->fam == DS_SENSEVOICE ? " (SenseVoice has no sensitive word filter)" :
           " (UNCONFIRMED for this model; extra = { parameters = { special_word_filter = \"<JSON>\" } } "
           "sends it anyway)";
  if (strcmp(opt, "disfluency") == 0 || strcmp(opt, "speakers") == 0)
    return m->fam == DS_QWEN3 || qa ? UNCONFIRMED_FOR_IT : NULL;
  return NULL;
}

typedef int (*opt_fn)(sub_ctx *c, const stt_json *v);

/* Handlers run in this order, which fixes the order of fields inside "parameters". Entries with
 * no handler are read elsewhere (input, extra) or never honoured (vad). Hot words: qwen3 takes
 * them as text (opt_hotwords); v2 paraformers / fun-asr need a vocabulary_id, which stt.hotwords
 * creates through the vocabulary API first (refusal_hint says so). */
static const struct { const char *name; how_fn how; opt_fn fn; } options[] = {
  {"url", how_url, NULL},                  {"urls", how_urls, NULL},
  {"channels", how_channels, opt_channels}, {"language", how_language, opt_language},
  {"speakers", how_speakers, opt_speakers}, {"disfluency", how_disfluency, opt_disfluency},
  {"words", how_words, opt_words},         {"itn", how_itn, opt_itn},
  {"audio_events", how_audio_events, opt_audio_events},
  {"punctuation", how_punctuation, opt_punctuation},
  {"sensitive_words_filter", how_sensitive, opt_sensitive},
  {"context", how_context, opt_context},
  {"vocabulary_id", how_vocabulary_id, opt_vocabulary_id},
  {"phrase_id", how_phrase_id, opt_phrase_id},
  {"vad", how_never, NULL},                {"hotwords", how_hotwords, opt_hotwords},
  {"extra", how_extra, NULL},
};

/* The how of the options row named name; NULL when there is none. */
static how_fn how_of(const char *name) {
  size_t k;
  for (k = 0; k < COUNT(options); k++)
    if (strcmp(options[k].name, name) == 0) return options[k].how;
  return NULL;
}

static int is_option(const char *key) { return how_of(key) != NULL; }

/* Keys outside the options table (and client bookkeeping) are refused. */
static int check_keys(sub_ctx *c, const stt_json *job) {
  const stt_json *m = stt_unknown_job_key(job, is_option);
  return m ? stt_opt_unsupported(&c->o, m->key, NULL) : 0;
}

/* ========================================================================================== */
/* submit: input and extra */

static int url_string(sub_ctx *c, const stt_json *v, const char *opt) {
  if (stt_jis(v, STT_JSTR) && v->slen > 0) return 0;
  return stt_opt_invalid(&c->o, opt, "must be a non-empty URL string");
}

/* file_urls family: url -> [url]; urls -> as given (1..100). The current paraformer doc says one
 * URL per request while SenseVoice and the older paraformer doc allow 100: we accept up to 100
 * and let the service refuse, rather than refuse a batch it may well take. */
static int input_file_urls(sub_ctx *c, const stt_json *url, const stt_json *urls) {
  stt_json *list = stt_jarr(c->o.a), *e;
  if (!list) { stt_set_oom(c->o.a, c->o.err, P); return -1; }
  if (url) {
    if (url_string(c, url, "url")) return -1;
    stt_jpush(list, stt_jstrn(c->o.a, url->s, url->slen));
  } else {
    if (!stt_jis(urls, STT_JARR) || urls->count == 0 || urls->count > MAX_FILE_URLS)
      return stt_opt_invalid(&c->o, "urls", "must be an array of 1 to 100 URLs");
    for (e = urls->child; e; e = e->next) {
      if (url_string(c, e, "urls")) return -1;
      stt_jpush(list, stt_jstrn(c->o.a, e->s, e->slen));
    }
  }
  return stt_opt_put(&c->o, c->input, "file_urls", list);
}

/* qwen3 takes exactly one file, as a string. */
static int input_file_url(sub_ctx *c, const stt_json *url, const stt_json *urls) {
  const char *opt = "url";
  if (!url) {
    if (!stt_jis(urls, STT_JARR) || urls->count == 0)
      return stt_opt_invalid(&c->o, "urls", "must be a non-empty array of URLs");
    if (urls->count > 1 && !how_urls(&c->m))       /* a batch: see the options table */
      return stt_opt_unsupported(&c->o, "urls", refusal_hint("urls", &c->m));
    url = urls->child;
    opt = "urls";
  }
  if (url_string(c, url, opt)) return -1;
  return stt_opt_put(&c->o, c->input, "file_url", stt_jstrn(c->o.a, url->s, url->slen));
}

static int set_input(sub_ctx *c, const stt_json *job) {
  const stt_json *url = stt_opt_get(job, "url"), *urls = stt_opt_get(job, "urls");
  if (url && urls) return stt_opt_invalid(&c->o, "url", "and \"urls\" are exclusive: give one of them");
  if (!url && !urls) return stt_opt_invalid(&c->o, "url", "is missing: the job needs url or urls");
  return has_file_urls(&c->m) ? input_file_urls(c, url, urls) : input_file_url(c, url, urls);
}

static const char *pick_model(const stt_json *args) {
  /* job.model (a per-job choice) wins over args.model (the client's), then the default. */
  const char *m = stt_jgetstr(stt_jget(args, "job"), "model");
  if (!m || !*m) m = stt_jgetstr(args, "model");
  return m && *m ? m : DS_DEFAULT_MODEL;
}

static stt_json *submit_body(stt_arena *a, const stt_json *args, stt_json **err) {
  sub_ctx c;
  const stt_json *job = stt_jget(args, "job");
  size_t k;
  memset(&c, 0, sizeof c);
  stt_opt_init(&c.o, a, err, P, pick_model(args));
  if ((*err = ds_model_resolve(a, args, c.o.model, &c.m)) != NULL) return NULL;
  if (job && !stt_jis(job, STT_JOBJ)) {
    stt_set_error(a, err, P, "invalid", 0, "dashscope: job must be a table");
    return NULL;
  }
  c.body = stt_jobj(a);
  c.input = stt_jobj(a);
  /* "parameters" is always sent, even empty: the workspace-domain endpoints require it. For
   * qwen3 we do NOT add the doc's channel_id [0] unless channels is set: it is the documented
   * default, so omitting it asks for the same thing and keeps "send only what was asked". */
  c.params = stt_jobj(a);
  if (!c.body || !c.input || !c.params) { stt_set_oom(a, err, P); return NULL; }
  if (check_keys(&c, job) || set_input(&c, job)) return NULL;
  for (k = 0; k < COUNT(options); k++) {
    const stt_json *v = stt_opt_get(job, options[k].name);
    /* url / urls were read by set_input, which refuses a batch through how_urls */
    if (!v || strcmp(options[k].name, "url") == 0 || strcmp(options[k].name, "urls") == 0) continue;
    if (!options[k].how(&c.m)) {
      stt_opt_unsupported(&c.o, options[k].name, refusal_hint(options[k].name, &c.m));
      return NULL;
    }
    if (options[k].fn && options[k].fn(&c, v)) return NULL;
  }
  if (stt_opt_put(&c.o, c.body, "model", stt_jstr(a, c.m.name)) || stt_opt_put(&c.o, c.body, "input", c.input) ||
      stt_opt_put(&c.o, c.body, "parameters", c.params) ||
      (c.resources && stt_opt_put(&c.o, c.body, "resources", c.resources)))
    return NULL;
  /* objects merge member by member; an empty Lua table ({} arrives as an empty object or
   * array) over an object changes nothing; anything else replaces in place or appends */
  if (stt_opt_merge_extra(&c.o, job, c.body)) return NULL;
  return c.body;
}

static int is_oss_url(const stt_json *v) {
  return stt_jis(v, STT_JSTR) && strncmp(v->s, "oss://", 6) == 0;
}

/* A file of DashScope's temporary storage ("oss://<key>", uploaded through the getPolicy flow)
 * is only resolved when the model call carries X-DashScope-OssResourceResolve: enable
 * (https://help.aliyun.com/zh/model-studio/get-temporary-file-url: "skipping it causes errors";
 * the official CLI adds it to any body that names an oss:// URL). Looked up in the FINAL body, so
 * URLs that extra put there count too. */
static int body_has_oss_url(const stt_json *body) {
  const stt_json *input = stt_jget(body, "input"), *urls = stt_jget(input, "file_urls"), *e;
  if (is_oss_url(stt_jget(input, "file_url"))) return 1;
  for (e = stt_jis(urls, STT_JARR) ? urls->child : NULL; e; e = e->next)
    if (is_oss_url(e)) return 1;
  return 0;
}

/* ========================================================================================== */
/* build */

static stt_json *build_submit(stt_arena *a, const stt_json *args, stt_json **err) {
  const char *base, *auth;
  stt_json *body, *req;
  if (!(base = ds_base_url(a, args, err)) || !(auth = ds_bearer(a, args, err))) return NULL;
  if (!(body = submit_body(a, args, err))) return NULL;
  req = stt_req_new(a, "POST", stt_arena_printf(a, "%s/services/audio/asr/transcription", base));
  if (!req || stt_req_header(a, req, "Authorization", auth) ||
      stt_req_header(a, req, "Content-Type", "application/json") ||
      stt_req_header(a, req, "X-DashScope-Async", "enable")) {
    stt_set_oom(a, err, P);
    return NULL;
  }
  if (ds_workspace_header(a, req, args, err)) return NULL;
  if ((body_has_oss_url(body) && stt_req_header(a, req, "X-DashScope-OssResourceResolve", "enable")) ||
      stt_req_body_json(a, req, body)) {
    stt_set_oom(a, err, P);
    return NULL;
  }
  return req;
}

/* poll: GET {base}/tasks/{id}; cancel: POST {base}/tasks/{id}/cancel. Authorization (and the
 * workspace) only. */
static stt_json *build_task(stt_arena *a, const stt_json *args, int cancel, stt_json **err) {
  const char *base, *auth, *id;
  const stt_json *idn = stt_jget(stt_jget(args, "task"), "id");
  stt_json *req;
  if (!stt_jis(idn, STT_JSTR) || idn->slen == 0) {
    stt_set_error(a, err, P, "invalid", 0, "dashscope: task.id is missing (a task returned by submit)");
    return NULL;
  }
  if (!(base = ds_base_url(a, args, err)) || !(auth = ds_bearer(a, args, err))) return NULL;
  id = stt_url_escape(a, idn->s, idn->slen);
  req = id ? stt_req_new(a, cancel ? "POST" : "GET",
                         stt_arena_printf(a, "%s/tasks/%s%s", base, id, cancel ? "/cancel" : ""))
           : NULL;
  if (!req || stt_req_header(a, req, "Authorization", auth)) {
    stt_set_oom(a, err, P);
    return NULL;
  }
  return ds_workspace_header(a, req, args, err) ? NULL : req;
}

/* ---- list: GET {base}/tasks?page_no&page_size[&start_time&end_time&status&model_name]
 * (docs/providers.md#dashscope-task-list). args.list = {status, from, to, page, page_size, model}:
 * from / to are epoch seconds, sent as YYYYMMDDhhmmss in Beijing time (UTC+8; the SDK docstring's
 * example "20230420000000" names no zone: UNCONFIRMED, chosen because every other time this API
 * shows is Beijing time). */

#define LIST_MAX_EPOCH (253402300799LL - 8 * 3600)    /* 9999-12-31 23:59:59 in Beijing */

/* Epoch seconds -> "YYYYMMDDhhmmss" in UTC+8 (out: 15 bytes). Days to civil date: the
 * proleptic Gregorian algorithm of H. Hinnant, "chrono-Compatible Low-Level Date Algorithms"
 * (https://howardhinnant.github.io/date_algorithms.html, days_from_civil's inverse). */
static void beijing_stamp(long long epoch, char *out, size_t n) {
  long long t = epoch + 8 * 3600, days = t / 86400, sec = t % 86400;
  long long z = days + 719468, era = z / 146097, doe = z - era * 146097;
  long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
  long long d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9, y = yoe + era * 400 + (m <= 2);
  snprintf(out, n, "%04lld%02lld%02lld%02lld%02lld%02lld", y, m, d, sec / 3600, sec / 60 % 60, sec % 60);
}

static stt_json *list_invalid(stt_arena *a, stt_json **err, const char *what) {
  stt_set_error(a, err, P, "invalid", 0, "dashscope: list %s", what ? what : "options are invalid");
  return NULL;
}

/* A time bound of args.list (epoch seconds) -> its stamp in buf; 0 when absent, -1 + *err. */
static int list_time(stt_arena *a, const stt_json *list, const char *key, char *buf, size_t n,
                     long long *epoch, stt_json **err) {
  const stt_json *v = stt_jget(list, key);
  if (!v || stt_jis(v, STT_JNULL)) return 0;
  if (!stt_jis(v, STT_JNUM) || !(v->n >= 0 && v->n <= (double)(LIST_MAX_EPOCH))) {
    list_invalid(a, err, stt_arena_printf(a, "%s must be a time in epoch seconds (a number >= 0)", key));
    return -1;
  }
  *epoch = (long long)v->n;                  /* >= 0: truncation is the floor */
  beijing_stamp(*epoch, buf, n);
  return 1;
}

/* The task_status of a list filter: a lua-stt state or DashScope's own name. */
static const char *list_status(const char *s) {
  static const char *const map[][2] = {
    {"queued", "PENDING"}, {"running", "RUNNING"}, {"succeeded", "SUCCEEDED"}, {"failed", "FAILED"},
    {"canceled", "CANCELED"}, {"PENDING", "PENDING"}, {"RUNNING", "RUNNING"}, {"SUSPENDED", "SUSPENDED"},
    {"SUCCEEDED", "SUCCEEDED"}, {"FAILED", "FAILED"}, {"CANCELED", "CANCELED"},
  };
  size_t k;
  for (k = 0; s && k < COUNT(map); k++)
    if (strcmp(s, map[k][0]) == 0) return map[k][1];
  return NULL;
}

static int list_int(stt_arena *a, const stt_json *list, const char *key, long long lo, long long hi,
                    long long *out, stt_json **err) {
  const stt_json *v = stt_jget(list, key);
  if (!v || stt_jis(v, STT_JNULL)) return 0;
  if (!stt_json_int(v, out) || *out < lo || *out > hi) {
    list_invalid(a, err, stt_arena_printf(a, "%s must be an integer from %lld to %lld", key, lo, hi));
    return -1;
  }
  return 0;
}

static stt_json *build_list(stt_arena *a, const stt_json *args, stt_json **err) {
  static const char *const keys[] = {"status", "from", "to", "page", "page_size", "model"};
  const stt_json *list = stt_jget(args, "list"), *m, *st, *model;
  const char *base, *auth, *status = NULL, *name;
  char from[128], to[128], pages[80];   /* stamps: 14 characters, once the range is checked */
  long long page = 1, size = 10, t0 = 0, t1 = 0;
  int has_from, has_to;
  stt_buf b;
  stt_json *url, *req;
  size_t k;
  if (list && stt_jis(list, STT_JARR) && list->count == 0) list = NULL;   /* {} */
  if (list && !stt_jis(list, STT_JNULL) && !stt_jis(list, STT_JOBJ))
    return list_invalid(a, err, "options must be a table {status, from, to, page, page_size, model}");
  for (m = stt_jis(list, STT_JOBJ) ? list->child : NULL; m; m = m->next) {
    int known = 0;
    for (k = 0; k < COUNT(keys); k++) known |= strlen(m->key) == m->klen && strcmp(m->key, keys[k]) == 0;
    if (!known) {
      const char *bad = stt_sanitize(a, m->key, m->klen, 40);
      return list_invalid(a, err, stt_arena_printf(a, "option \"%s\" is unknown (expected status, from, to, page, "
                                                   "page_size or model)", bad ? bad : ""));
    }
  }
  /* page_size: the API's maximum is UNCONFIRMED; 100 is a conservative cap */
  if (list_int(a, list, "page", 1, 1000000, &page, err) || list_int(a, list, "page_size", 1, 100, &size, err))
    return NULL;
  if ((has_from = list_time(a, list, "from", from, sizeof from, &t0, err)) < 0 ||
      (has_to = list_time(a, list, "to", to, sizeof to, &t1, err)) < 0)
    return NULL;
  if (has_from && has_to && t0 > t1) return list_invalid(a, err, "from is after to");
  st = stt_jget(list, "status");
  if (st && !stt_jis(st, STT_JNULL) && !(status = list_status(stt_jis(st, STT_JSTR) ? st->s : NULL)))
    return list_invalid(a, err, "status must be queued, running, succeeded, failed or canceled "
                                "(or PENDING, RUNNING, SUSPENDED, SUCCEEDED, FAILED, CANCELED)");
  model = stt_jget(list, "model");
  if (model && !stt_jis(model, STT_JNULL) && (!stt_jis(model, STT_JSTR) || model->slen == 0))
    return list_invalid(a, err, "model must be a model name");
  if (!(base = ds_base_url(a, args, err)) || !(auth = ds_bearer(a, args, err))) return NULL;
  if (!(name = stt_jis(model, STT_JSTR) ? stt_url_escape(a, model->s, model->slen) : "")) {
    stt_set_oom(a, err, P);
    return NULL;
  }
  snprintf(pages, sizeof pages, "/tasks?page_no=%lld&page_size=%lld", page, size);
  stt_buf_init(&b);
  stt_buf_puts(&b, base);
  stt_buf_puts(&b, pages);
  if (has_from) { stt_buf_puts(&b, "&start_time="); stt_buf_puts(&b, from); }
  if (has_to) { stt_buf_puts(&b, "&end_time="); stt_buf_puts(&b, to); }
  if (status) { stt_buf_puts(&b, "&status="); stt_buf_puts(&b, status); }
  if (*name) { stt_buf_puts(&b, "&model_name="); stt_buf_puts(&b, name); }
  url = stt_buf_take(a, &b);
  req = url ? stt_req_new(a, "GET", url->s) : NULL;
  if (!req || stt_req_header(a, req, "Authorization", auth)) {
    stt_set_oom(a, err, P);
    return NULL;
  }
  return ds_workspace_header(a, req, args, err) ? NULL : req;
}

/* Result files sit behind signed OSS URLs that reject a foreign Authorization header. */
static stt_json *build_fetch(stt_arena *a, const stt_json *args, stt_json **err) {
  const stt_json *url = stt_jget(args, "url");
  stt_json *req;
  if (!stt_jis(url, STT_JSTR) || url->slen == 0) {
    stt_set_error(a, err, P, "invalid", 0, "dashscope: fetch needs url (a transcription_url)");
    return NULL;
  }
  req = stt_req_new(a, "GET", url->s);
  if (!req) stt_set_oom(a, err, P);
  return req;
}

/* build("hotwords"): what stt.hotwords puts on the wire for a model.
 *   paraformer v2 / fun-asr: field "vocabulary", the entries of a create_vocabulary call
 *     ([{text, weight, lang?}], weight 4 when not given: the doc's recommended value); the job
 *     then passes the vocabulary_id that call returns (engine C's Lua does it);
 *   qwen3: field "parameters.corpus.text", the words joined by ", " (free-text biasing context);
 *   v1 paraformers, sensevoice, qwen-audio filetrans: unsupported (phrase tables are managed
 *   outside; no hot words; UNCONFIRMED for qwen-audio). */
static stt_json *build_hotwords(stt_arena *a, const stt_json *args, stt_json **err) {
  sub_ctx c;
  stt_hotword *hw = NULL;
  const char *why;
  int n, k;
  stt_json *out = stt_jobj(a), *value;
  memset(&c, 0, sizeof c);
  stt_opt_init(&c.o, a, err, P, pick_model(args));
  if ((*err = ds_model_resolve(a, args, c.o.model, &c.m)) != NULL) return NULL;
  if ((n = stt_hotwords_read(a, stt_jget(args, "hotwords"), &hw, &why)) < 0) {
    if (why) stt_opt_invalid(&c.o, "hotwords", why); else stt_set_oom(a, err, P);
    return NULL;
  }
  if (c.m.fam == DS_QWEN3) {
    if (!(value = qwen_hotword_text(a, stt_jget(args, "hotwords"), err, &c))) return NULL;
    if (!out || stt_opt_put(&c.o, out, "field", stt_jstr(a, "parameters.corpus.text")) ||
        stt_opt_put(&c.o, out, "value", value)) {
      stt_set_oom(a, err, P);
      return NULL;
    }
    return out;
  }
  if (!how_vocabulary_id(&c.m)) {
    stt_opt_unsupported(&c.o, "hotwords", c.m.fam == DS_PARAFORMER_V1 ? " (v1 models take a phrase_id made in the console)"
                                                                     : refusal_hint("vocabulary_id", &c.m));
    return NULL;
  }
  if (!out || !(value = stt_jarr(a))) { stt_set_oom(a, err, P); return NULL; }
  for (k = 0; k < n; k++) {
    stt_json *e = stt_jobj(a);
    if (!e || stt_opt_put(&c.o, e, "text", stt_jstrn(a, hw[k].word, hw[k].len)) ||
        stt_opt_put(&c.o, e, "weight", stt_jint(a, hw[k].has_weight ? hw[k].weight : 4)) ||
        (hw[k].lang && stt_opt_put(&c.o, e, "lang", stt_jstr(a, hw[k].lang))) || stt_jpush(value, e)) {
      stt_set_oom(a, err, P);
      return NULL;
    }
  }
  if (stt_opt_put(&c.o, out, "field", stt_jstr(a, "vocabulary")) || stt_opt_put(&c.o, out, "value", value)) return NULL;
  return out;
}


static stt_json *build(stt_arena *a, const char *op, const stt_json *args, stt_json **err) {
  if (!op) op = "";
  if (strcmp(op, "hotwords") == 0) return build_hotwords(a, args, err);
  if (starts_with(op, "vocabulary_")) return stt_dashscope_vocabulary_build(a, op, args, err);
  if (starts_with(op, "upload_")) return stt_dashscope_upload_build(a, op, args, err);
  if (strcmp(op, "submit") == 0 && stt_no_callbacks(a, P, "submit", args, err)) return NULL;   /* no per-task callbacks */
  if (strcmp(op, "submit") == 0) return build_submit(a, args, err);
  if (strcmp(op, "poll") == 0) return build_task(a, args, 0, err);
  if (strcmp(op, "cancel") == 0) return build_task(a, args, 1, err);
  if (strcmp(op, "fetch") == 0) return build_fetch(a, args, err);
  if (strcmp(op, "list") == 0) return build_list(a, args, err);
  stt_set_error(a, err, P, "invalid", 0, "dashscope: unknown build op \"%.40s\"", op);
  return NULL;
}

/* ========================================================================================== */
/* parse: submit, poll, cancel */

static const char *map_state(const char *s) {
  static const char *const map[][2] = {
    {"PENDING", "queued"},     {"RUNNING", "running"}, {"SUSPENDED", "running"},
    {"SUCCEEDED", "succeeded"}, {"FAILED", "failed"},  {"CANCELED", "canceled"},
    {"UNKNOWN", "failed"},
  };
  size_t k;
  for (k = 0; s && k < COUNT(map); k++)
    if (strcmp(s, map[k][0]) == 0) return map[k][1];
  return NULL;
}

static stt_json *parse_submit(stt_arena *a, const stt_json *root, stt_json **err) {
  const char *id = stt_jgetstr(stt_jget(root, "output"), "task_id");
  const char *status = stt_jgetstr(stt_jget(root, "output"), "task_status");
  const char *rid = stt_jgetstr(root, "request_id");
  const char *state = map_state(status);
  stt_json *t = stt_jobj(a);
  if (!id || !*id) {
    /* not retryable: the task may exist, and a second submit would pay twice */
    *err = stt_make_error(a, P, "protocol", 0, NULL, rid, 0,
                          "dashscope: submit answer has no output.task_id");
    return NULL;
  }
  if (!t || ds_set_str(a, t, "id", id) || ds_set_str(a, t, "state", state ? state : "queued") ||
      ds_set_str(a, t, "request_id", rid)) {
    stt_set_oom(a, err, P);
    return NULL;
  }
  return t;
}

static stt_json *task_error(stt_arena *a, const char *kind, const char *code, const char *msg,
                            const char *rid, const char *fallback) {
  return stt_make_error(a, P, kind, 0, code, rid, 0, "%s", msg && *msg ? msg : fallback);
}

/* One entry of output.results (or qwen's output.result) -> {url, result_url} |
 * {url, empty = true} | {url, error} | {url, state} while it is still running. */
static stt_json *file_entry(stt_arena *a, const stt_json *r, const char *url, const char *rid) {
  stt_json *f = stt_jobj(a);
  const char *st = stt_jgetstr(r, "subtask_status"), *turl = stt_jgetstr(r, "transcription_url");
  const char *code = stt_jgetstr(r, "code"), *msg = stt_jgetstr(r, "message");
  if (!f || ds_set_str(a, f, "url", url)) return NULL;
  if (code && strcmp(code, "SUCCESS_WITH_NO_VALID_FRAGMENT") == 0) {
    /* no speech in the file: a success with an empty result, as other clients treat it */
    return stt_jset(a, f, "empty", stt_jbool(a, 1)) ? NULL : f;
  }
  if ((st && strcmp(st, "FAILED") == 0) || (!st && !turl && code)) {
    stt_json *e = task_error(a, "task_failed", code, msg, rid, "dashscope: the file failed");
    return stt_jset(a, f, "error", e) ? NULL : f;
  }
  if (turl) return ds_set_str(a, f, "result_url", turl) ? NULL : f;
  if (st && map_state(st)) return ds_set_str(a, f, "state", map_state(st)) ? NULL : f;
  return f;
}

static int poll_files(stt_arena *a, stt_json *out, const stt_json *root, const stt_json *resp) {
  const stt_json *o = stt_jget(root, "output"), *results = stt_jget(o, "results");
  const stt_json *single = stt_jget(o, "result"), *r;
  const char *rid = stt_jgetstr(root, "request_id");
  stt_json *files = stt_jarr(a);
  if (!files) return -1;
  if (stt_jis(results, STT_JARR)) {
    for (r = results->child; r; r = r->next)
      if (stt_jpush(files, file_entry(a, r, stt_jgetstr(r, "file_url"), rid))) return -1;
  } else if (stt_jis(single, STT_JOBJ)) {
    /* qwen: one object; the file URL comes from it, else from the task the client kept */
    const stt_json *task = stt_jget(resp, "task");
    const char *url = stt_jgetstr(single, "file_url");
    if (!url) url = stt_jgetstr(task, "url");
    if (!url) url = stt_jgetstr(task, "file_url");
    if (stt_jpush(files, file_entry(a, single, url, rid))) return -1;
  } else {
    return 0;
  }
  return stt_jset(a, out, "files", files);
}

/* usage.duration (paraformer family) or usage.seconds (qwen), both in seconds. */
static int poll_usage(stt_arena *a, stt_json *out, const stt_json *root) {
  const stt_json *u = stt_jget(root, "usage");
  const stt_json *sec = stt_jget(u, "duration");
  stt_json *usage;
  if (!stt_jis(sec, STT_JNUM)) sec = stt_jget(u, "seconds");
  if (!stt_jis(sec, STT_JNUM)) return 0;
  usage = stt_jobj(a);
  if (!usage) return -1;
  if (!(sec->n >= 0 && sec->n < 9e12)) return 0;      /* nonsense (or NaN): leave usage out */
  if (stt_jset(a, usage, "billed_ms", stt_jint(a, (long long)(sec->n * 1000 + 0.5)))) return -1;
  return stt_jset(a, out, "usage", usage);
}

static int poll_times(stt_arena *a, stt_json *out, const stt_json *o) {
  static const char *const names[] = {"submit_time", "scheduled_time", "end_time"};
  stt_json *t = stt_jobj(a);
  size_t k;
  if (!t) return -1;
  for (k = 0; k < COUNT(names); k++)
    if (ds_set_str(a, t, names[k], stt_jgetstr(o, names[k]))) return -1;
  return t->count ? stt_jset(a, out, "provider_times", t) : 0;
}

static stt_json *poll_error(stt_arena *a, const char *status, const stt_json *o, const char *rid,
                            const stt_json *resp) {
  const char *id = stt_jgetstr(o, "task_id");
  if (!id) id = stt_jgetstr(stt_jget(resp, "task"), "id");
  if (strcmp(status, "FAILED") == 0)
    return task_error(a, "task_failed", stt_jgetstr(o, "code"), stt_jgetstr(o, "message"), rid,
                      "dashscope: the task failed");
  if (strcmp(status, "CANCELED") == 0)
    return stt_make_error(a, P, "canceled", 0, stt_jgetstr(o, "code"), rid, 0,
                          "dashscope task %.80s was canceled", id ? id : "");
  if (strcmp(status, "UNKNOWN") == 0)
    return stt_make_error(a, P, "not_found", 0, stt_jgetstr(o, "code"), rid, 0,
                          "dashscope task %.80s does not exist or has expired (tasks are kept 24 h)",
                          id ? id : "");
  return NULL;
}

/* A SUCCEEDED answer must point at something: every file a transcription_url, an error or "no
 * speech". One that lists no results (no output.results / output.result, or an empty list; the
 * SDK-style wrapper with usage null, code null, message "") or a result without a
 * transcription_url would read as a success with nothing in it. The SDKs hand such an answer back
 * as it is and the official CLI calls it "no transcript" (docs/providers.md#dashscope-poll).
 * lua-stt's decision: a protocol error, retryable, since polling again may get the results; a
 * wait keeps polling until its deadline. NULL when the answer is fine. */
static stt_json *succeeded_without_results(stt_arena *a, const stt_json *out, const stt_json *o,
                                           const char *rid, const stt_json *resp) {
  const stt_json *files = stt_jget(out, "files"), *f;
  const char *id = stt_jgetstr(o, "task_id"), *what = NULL;
  if (!id) id = stt_jgetstr(stt_jget(resp, "task"), "id");
  if (!stt_jis(files, STT_JARR) || files->count == 0) {
    what = "lists no results";
  } else {
    for (f = files->child; f && !what; f = f->next)
      if (!stt_jget(f, "result_url") && !stt_jget(f, "error") && !stt_jget(f, "empty"))
        what = "lists a result without a transcription_url";
  }
  if (!what) return NULL;
  return stt_make_error(a, P, "protocol", 0, NULL, rid, 1,
                        "dashscope: task %.80s SUCCEEDED but its answer %s (polling again may get them)",
                        id ? id : "", what);
}

static stt_json *parse_poll(stt_arena *a, const stt_json *root, const stt_json *resp, stt_json **err) {
  const stt_json *o = stt_jget(root, "output");
  const char *status = stt_jgetstr(o, "task_status"), *rid = stt_jgetstr(root, "request_id");
  const char *state = map_state(status);
  stt_json *out = stt_jobj(a), *e;
  if (!state) {
    *err = stt_make_error(a, P, "protocol", 0, NULL, rid, 0,
                          "dashscope: poll answer has %s output.task_status \"%.40s\"",
                          status ? "an unknown" : "no", status ? status : "");
    return NULL;
  }
  e = poll_error(a, status, o, rid, resp);
  if (!out || ds_set_str(a, out, "state", state) || ds_set_str(a, out, "provider_state", status) ||
      ds_set_str(a, out, "request_id", rid) || poll_files(a, out, root, resp) ||
      poll_usage(a, out, root) || poll_times(a, out, o) || (e && stt_jset(a, out, "error", e))) {
    stt_set_oom(a, err, P);
    return NULL;
  }
  if (strcmp(status, "SUCCEEDED") == 0 && (*err = succeeded_without_results(a, out, o, rid, resp)) != NULL)
    return NULL;
  return out;
}

/* ---- list: {request_id, data:[{task_id, status, model_name, gmt_create, start_time, end_time
 * (epoch ms), request_id, api_key_id, region, ...}], total, total_page, page_no, page_size}
 * (the Java SDK's AsyncTaskListResult / AsyncTaskInfo; docs/providers.md#dashscope-task-list) ->
 * {tasks = [{id, model, state, provider_state, submitted_at (epoch s), request_id,
 * provider_times = {gmt_create, start_time, end_time} (ms as sent)}], page, pages, total,
 * page_size, request_id}. Items without a task_id are skipped (nothing could address them). */

static int copy_int(stt_arena *a, stt_json *dst, const char *key, const stt_json *v) {
  long long n;
  return stt_json_int(v, &n) ? stt_jset(a, dst, key, stt_jint(a, n)) : 0;
}

static stt_json *list_item(stt_arena *a, const stt_json *it) {
  static const char *const times[] = {"gmt_create", "start_time", "end_time"};
  const char *id = stt_jgetstr(it, "task_id"), *st = stt_jgetstr(it, "status");
  const stt_json *created = stt_jget(it, "gmt_create");
  stt_json *t = stt_jobj(a), *pt = stt_jobj(a);
  size_t k;
  if (!t || !pt || ds_set_str(a, t, "id", id) || ds_set_str(a, t, "model", stt_jgetstr(it, "model_name")) ||
      ds_set_str(a, t, "state", map_state(st)) || ds_set_str(a, t, "provider_state", st) ||
      ds_set_str(a, t, "request_id", stt_jgetstr(it, "request_id")))
    return NULL;
  if (stt_jis(created, STT_JNUM) && created->n >= 0 && created->n < 9e15 &&
      stt_jset(a, t, "submitted_at", stt_jint(a, (long long)(created->n / 1000))))
    return NULL;
  for (k = 0; k < COUNT(times); k++)
    if (copy_int(a, pt, times[k], stt_jget(it, times[k]))) return NULL;
  if (pt->count && stt_jset(a, t, "provider_times", pt)) return NULL;
  return t;
}

static stt_json *parse_list(stt_arena *a, const stt_json *root, stt_json **err) {
  const stt_json *data = stt_jget(root, "data"), *it;
  const char *rid = stt_jgetstr(root, "request_id");
  stt_json *out = stt_jobj(a), *tasks = stt_jarr(a);
  if (data && !stt_jis(data, STT_JNULL) && !stt_jis(data, STT_JARR)) {
    *err = stt_make_error(a, P, "protocol", 0, NULL, rid, 0, "dashscope: task list answer whose data is no array");
    return NULL;
  }
  if (!out || !tasks) { stt_set_oom(a, err, P); return NULL; }
  for (it = stt_jis(data, STT_JARR) ? data->child : NULL; it; it = it->next) {
    const char *id = stt_jgetstr(it, "task_id");
    if (!id || !*id) continue;
    if (stt_jpush(tasks, list_item(a, it))) { stt_set_oom(a, err, P); return NULL; }
  }
  if (stt_jset(a, out, "tasks", tasks) || copy_int(a, out, "page", stt_jget(root, "page_no")) ||
      copy_int(a, out, "pages", stt_jget(root, "total_page")) || copy_int(a, out, "total", stt_jget(root, "total")) ||
      copy_int(a, out, "page_size", stt_jget(root, "page_size")) || ds_set_str(a, out, "request_id", rid)) {
    stt_set_oom(a, err, P);
    return NULL;
  }
  return out;
}

static stt_json *parse_cancel(stt_arena *a, const stt_json *root, stt_json **err) {
  stt_json *out = stt_jobj(a);
  if (!out || stt_jset(a, out, "ok", stt_jbool(a, 1)) ||
      ds_set_str(a, out, "request_id", stt_jgetstr(root, "request_id"))) {
    stt_set_oom(a, err, P);
    return NULL;
  }
  return out;
}

/* ========================================================================================== */
/* parse */

static stt_json *parse(stt_arena *a, const char *kind, const stt_json *resp, stt_json **err) {
  long long status = stt_jgetint(resp, "status", 0);
  stt_json *root;
  if (!kind) kind = "";
  if (strcmp(kind, "notice") == 0) { stt_no_callbacks(a, P, "notice", NULL, err); return NULL; }
  if (starts_with(kind, "vocabulary_")) return stt_dashscope_vocabulary_parse(a, kind, resp, err);
  if (starts_with(kind, "upload_")) return stt_dashscope_upload_parse(a, kind, resp, err);
  if (!is_2xx(status)) {
    *err = ds_http_error(a, P, resp, status);
    /* A result file behind a signed object-store URL answers 4xx (XML) once the URL expired
     * (24 h) or was rejected: the result is gone, which is no auth problem of the caller's key. */
    if (*err && strcmp(kind, "result") == 0 && status >= 400 && status < 500 && status != 429) {
      const char *was = stt_jgetstr(*err, "message");
      char *msg = stt_arena_printf(a, "dashscope result file unavailable (signed URL expired or rejected): %s",
                                   was ? was : "");
      if (!msg || stt_jset(a, *err, "kind", stt_jstr(a, "not_found")) != 0 ||
          stt_jset(a, *err, "message", stt_jstr(a, msg)) != 0)
        *err = NULL;                  /* out of memory: the binding raises */
    }
    return NULL;
  }
  if (!(root = ds_body_json(a, resp, status, err))) return NULL;
  if (strcmp(kind, "result") == 0) return ds_result(a, root, resp, err);
  if ((*err = ds_envelope_error(a, P, root, resp, status)) != NULL) return NULL;
  if (strcmp(kind, "submit") == 0) return parse_submit(a, root, err);
  if (strcmp(kind, "poll") == 0) return parse_poll(a, root, resp, err);
  if (strcmp(kind, "cancel") == 0) return parse_cancel(a, root, err);
  if (strcmp(kind, "list") == 0) return parse_list(a, root, err);
  stt_set_error(a, err, P, "invalid", 0, "dashscope: unknown parse kind \"%.40s\"", kind);
  return NULL;
}

/* ========================================================================================== */
/* capability table */

/* The models the table lists; dated snapshots (<model>-YYYY-MM-DD) behave as these. */
static const char *const known_models[] = {
  "paraformer-v2", "paraformer-8k-v2", "paraformer-v1", "paraformer-8k-v1", "paraformer-mtl-v1",
  "fun-asr", "fun-asr-mtl", "qwen-audio-3.0-asr-flash-filetrans", "qwen-audio-3.1-asr-flash-filetrans",
  "sensevoice-v1", "qwen3-asr-flash-filetrans",
};

static const char *caps_how(stt_arena *a, const char *opt, const void *ctx) {
  how_fn how = how_of(opt);
  (void)a;
  return how ? how(ctx) : NULL;                  /* not in the table: check_keys refuses it */
}

static stt_json *caps(stt_arena *a) {
  stt_json *models, *c = stt_caps_new(a, DS_DEFAULT_MODEL, &models);
  size_t k;
  if (!c) return NULL;
  for (k = 0; k < COUNT(known_models); k++) {
    ds_model m;
    ds_model_classify(known_models[k], &m);
    if (stt_jset(a, models, known_models[k], stt_caps_model(a, batch_max(&m), caps_how, &m)))
      return NULL;
  }
  return c;
}

const stt_provider stt_provider_dashscope = {"dashscope", build, parse, caps};
