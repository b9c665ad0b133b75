/* dashscope_result.c - see dashscope_result.h: a DashScope result file (the JSON behind a
 * transcription_url) -> the normalized Result. Pure: no I/O, no clock, no env, no globals.
 *
 * Result file shapes (public docs; summary in docs/providers.md#dashscope-result-file):
 *   paraformer / fun-asr  https://help.aliyun.com/zh/model-studio/paraformer-recorded-speech-recognition-restful-api
 *   sensevoice            https://help.aliyun.com/zh/model-studio/sensevoice-recorded-speech-recognition-restful-api
 *   qwen3-asr-flash-filetrans  https://help.aliyun.com/zh/model-studio/qwen-asr-api-reference
 * transcripts[] (one per channel: channel_id, text, sentences[]) -> text (channel texts joined by
 * "\n") and segments (all sentences in time order, then channel, then file order); sentence ids
 * are 1-based in the paraformer family and 0-based for qwen, `id` is 0-based everywhere.
 * SenseVoice writes tags into its texts (<|en|>, <|Speech|>, <|ANGRY|>, <|Applause|>,
 * |SPECIAL_TOKEN_1|...): they are removed from every text and become the segment's language,
 * emotion and events. */
#include "dashscope_result.h"
#include "dashscope_common.h"

#include <string.h>

#define P DS_PROVIDER
#define COUNT(x) (sizeof(x) / sizeof((x)[0]))

/* SenseVoice markup found in one text: <|Speech|> markers, emotions, events, language tags. */
typedef struct {
  const char *emotion;        /* static lower-case name */
  const char *events[16];     /* unique, order of appearance; pointers into the source text */
  size_t evlen[16];
  int nev;
  char lang[8];
} tags;

static int tag_is(const char *name, size_t n, const char *word) {
  return strlen(word) == n && memcmp(name, word, n) == 0;
}

static int is_lower(char c) { return c >= 'a' && c <= 'z'; }
static int is_upper(char c) { return c >= 'A' && c <= 'Z'; }

static int all_lower(const char *s, size_t n) {
  size_t k;
  for (k = 0; k < n; k++)
    if (!is_lower(s[k])) return 0;
  return n > 0;
}

static void tag_event(tags *t, const char *name, size_t n) {
  int k;
  for (k = 0; k < t->nev; k++)
    if (t->evlen[k] == n && memcmp(t->events[k], name, n) == 0) return;
  if (t->nev < 16) { t->events[t->nev] = name; t->evlen[t->nev++] = n; }
}

/* Emotions are upper-case; language tags lower-case codes (en, zh, yue); events capitalized
 * words (Applause, Laughter, Cry...) plus BGM. Speech markers, their closers and anything else
 * (EMO_UNKNOWN, withitn, SPECIAL_TOKEN_1) are dropped. */
static void tag_classify(tags *t, const char *name, size_t n) {
  static const char *const emotions[][2] = {
    {"HAPPY", "happy"}, {"SAD", "sad"}, {"ANGRY", "angry"}, {"NEUTRAL", "neutral"},
    {"SURPRISED", "surprised"}, {"FEARFUL", "fearful"}, {"DISGUSTED", "disgusted"},
  };
  size_t k;
  if (!t || n == 0 || name[0] == '/' || tag_is(name, n, "Speech")) return;
  for (k = 0; k < COUNT(emotions); k++)
    if (tag_is(name, n, emotions[k][0])) { t->emotion = emotions[k][1]; return; }
  if (n >= 2 && n <= 3 && all_lower(name, n)) {
    memcpy(t->lang, name, n);
    t->lang[n] = '\0';
    return;
  }
  if (tag_is(name, n, "BGM") ||
      (is_upper(name[0]) && all_lower(name + 1, n - 1)))
    tag_event(t, name, n);
}

/* `|SPECIAL_TOKEN_1|` (SenseVoice's "no emotion") and similar bare tokens: length or 0. */
static size_t bare_token(const char *s, size_t n) {
  static const char pre[] = "|SPECIAL_TOKEN_";
  size_t k = sizeof pre - 1;
  if (n < k + 1 || memcmp(s, pre, k) != 0) return 0;
  while (k < n && (is_upper(s[k]) || (s[k] >= '0' && s[k] <= '9') || s[k] == '_')) k++;
  return k < n && s[k] == '|' ? k + 1 : 0;
}

/* Copies s without tags, whitespace folded and trimmed. A "<|" with no closing "|>" is dropped
 * too, so no "<|" ever survives. */
static char *clean_text(stt_arena *a, const char *s, size_t n, tags *t) {
  char *out = stt_arena_alloc(a, n + 1), *o = out;
  size_t k = 0;
  if (!out) return NULL;
  while (k < n) {
    unsigned char c = (unsigned char)s[k];
    size_t skip;
    if (c == '<' && k + 1 < n && s[k + 1] == '|') {
      size_t j = k + 2;
      while (j + 1 < n && !(s[j] == '|' && s[j + 1] == '>') && j - k < 64) j++;
      if (j + 1 < n && s[j] == '|' && s[j + 1] == '>') {
        tag_classify(t, s + k + 2, j - k - 2);
        k = j + 2;
      } else {
        k += 2;
      }
      continue;
    }
    if (c == '|' && (skip = bare_token(s + k, n - k)) > 0) { k += skip; continue; }
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      if (o > out && o[-1] != ' ') *o++ = ' ';
    } else {
      *o++ = (char)c;
    }
    k++;
  }
  while (o > out && o[-1] == ' ') o--;
  *o = '\0';
  return out;
}

static stt_json *clean_str(stt_arena *a, const stt_json *v, tags *t) {
  char *s;
  if (!stt_jis(v, STT_JSTR)) return NULL;
  s = clean_text(a, v->s, v->slen, t);
  return s ? stt_jstr(a, s) : NULL;
}

static int set_time(stt_arena *a, stt_json *dst, const char *key, const stt_json *src,
                    const char *field) {
  const stt_json *v = stt_jget(src, field);
  if (!stt_jis(v, STT_JNUM)) return 0;          /* absent: leave the field out */
  return stt_jset(a, dst, key, stt_jint(a, stt_jgetint(src, field, 0)));
}

static stt_json *make_word(stt_arena *a, const stt_json *w) {
  stt_json *o = stt_jobj(a), *text = clean_str(a, stt_jget(w, "text"), NULL);
  /* "punctuation" carries the space that follows it (", "): trimmed like the word text. */
  stt_json *p = clean_str(a, stt_jget(w, "punctuation"), NULL);
  const stt_json *conf = stt_jget(w, "confidence");
  if (!o || set_time(a, o, "start_ms", w, "begin_time") || set_time(a, o, "end_ms", w, "end_time"))
    return NULL;
  if (text && stt_jset(a, o, "text", text)) return NULL;
  if (p && p->slen > 0 && stt_jset(a, o, "punct", p)) return NULL;
  if (stt_jis(conf, STT_JNUM) && stt_jset(a, o, "confidence", stt_jnum(a, conf->n))) return NULL;
  return o;
}

static int set_events(stt_arena *a, stt_json *seg, const tags *t) {
  stt_json *ev;
  int k;
  if (t->nev == 0) return 0;
  if (!(ev = stt_jarr(a))) return -1;
  for (k = 0; k < t->nev; k++)
    if (stt_jpush(ev, stt_jstrn(a, t->events[k], t->evlen[k]))) return -1;
  return stt_jset(a, seg, "events", ev);
}

/* Speakers are strings in the normalized Result: speaker_id 0 -> "0". */
static int set_speaker(stt_arena *a, stt_json *seg, const stt_json *sp) {
  long long n;
  if (stt_jis(sp, STT_JSTR)) return stt_jset(a, seg, "speaker", stt_jstrn(a, sp->s, sp->slen));
  if (stt_json_int(sp, &n)) return stt_jset(a, seg, "speaker", stt_jstr(a, stt_arena_printf(a, "%lld", n)));
  return 0;
}

/* Sentence ids: paraformer family numbers from 1, qwen from 0; `id` is 0-based everywhere. */
static stt_json *make_segment(stt_arena *a, const stt_json *s, const stt_json *channel, int id_base) {
  stt_json *seg = stt_jobj(a), *text;
  const stt_json *sid = stt_jget(s, "sentence_id"), *wl = stt_jget(s, "words");
  const char *emo = stt_jgetstr(s, "emotion"), *lang = stt_jgetstr(s, "language");
  tags t;
  long long n;
  memset(&t, 0, sizeof t);
  text = clean_str(a, stt_jget(s, "text"), &t);
  if (!seg) return NULL;
  if (stt_json_int(sid, &n) && stt_jset(a, seg, "id", stt_jint(a, n - id_base))) return NULL;
  if (set_time(a, seg, "start_ms", s, "begin_time") || set_time(a, seg, "end_ms", s, "end_time") ||
      stt_jset(a, seg, "text", text ? text : stt_jstr(a, "")) ||
      set_speaker(a, seg, stt_jget(s, "speaker_id")) ||
      (channel && stt_jset(a, seg, "channel", stt_jclone(a, channel))))
    return NULL;
  if (!emo || !*emo) emo = t.emotion;
  if (!lang || !*lang) lang = t.lang[0] ? t.lang : NULL;
  if (ds_set_str(a, seg, "emotion", emo) || set_events(a, seg, &t) || ds_set_str(a, seg, "language", lang))
    return NULL;
  return stt_set_words(a, seg, wl, make_word) ? NULL : seg;
}

static size_t count_sentences(const stt_json *transcripts) {
  const stt_json *tr;
  size_t n = 0;
  for (tr = transcripts ? transcripts->child : NULL; tr; tr = tr->next) {
    const stt_json *ss = stt_jget(tr, "sentences");
    if (stt_jis(ss, STT_JARR)) n += ss->count;
  }
  return n;
}

/* All sentences of all channels in time order (then channel, then file order). */
static stt_json *make_segments(stt_arena *a, const stt_json *transcripts, int id_base) {
  size_t n = count_sentences(transcripts), k = 0;
  stt_seg_ref *refs = stt_arena_alloc(a, (n ? n : 1) * sizeof *refs);
  const stt_json *tr, *s;
  if (!refs) return NULL;
  for (tr = transcripts ? transcripts->child : NULL; tr; tr = tr->next) {
    const stt_json *ch = stt_jget(tr, "channel_id"), *ss = stt_jget(tr, "sentences");
    if (!stt_jis(ch, STT_JNUM)) ch = NULL;
    for (s = stt_jis(ss, STT_JARR) ? ss->child : NULL; s; s = s->next, k++) {
      refs[k].start = stt_jgetint(s, "begin_time", 0);
      refs[k].channel = ch ? ch->i : 0;
      refs[k].seq = k;
      if (!(refs[k].seg = make_segment(a, s, ch, id_base))) return NULL;
    }
  }
  return stt_segments_in_order(a, refs, n);
}

/* One channel's text, cleaned; a channel without a text field joins its sentences. */
static char *channel_text(stt_arena *a, const stt_json *tr) {
  const stt_json *tx = stt_jget(tr, "text"), *ss = stt_jget(tr, "sentences"), *s;
  stt_buf b;
  char *out;
  if (stt_jis(tx, STT_JSTR)) return clean_text(a, tx->s, tx->slen, NULL);
  stt_buf_init(&b);
  for (s = stt_jis(ss, STT_JARR) ? ss->child : NULL; s; s = s->next) {
    const stt_json *st = stt_jget(s, "text");
    if (stt_jis(st, STT_JSTR)) { stt_buf_put(&b, st->s, st->slen); stt_buf_putc(&b, ' '); }
  }
  out = b.oom ? NULL : clean_text(a, b.data ? b.data : "", b.len, NULL);
  stt_buf_free(&b);
  return out;
}

/* Channel texts joined by "\n"; channels with no text are skipped. */
static stt_json *make_text(stt_arena *a, const stt_json *transcripts) {
  stt_buf b;
  const stt_json *tr;
  stt_buf_init(&b);
  for (tr = transcripts ? transcripts->child : NULL; tr; tr = tr->next) {
    const char *t = channel_text(a, tr);
    if (!t) { stt_buf_free(&b); return NULL; }
    if (!*t) continue;
    if (b.len) stt_buf_putc(&b, '\n');
    stt_buf_puts(&b, t);
  }
  return stt_buf_take(a, &b);
}

/* resp.model when the client knows it; else a guess from the file's shape. */
static const char *result_model(const stt_json *resp, const stt_json *root) {
  const char *m = stt_jgetstr(resp, "model");
  const stt_json *tr = stt_jget(root, "transcripts"), *c;
  if (m && *m) return m;
  if (stt_jget(root, "audio_info")) return "qwen3-asr-flash-filetrans";
  for (c = tr ? tr->child : NULL; c; c = c->next) {
    const char *text = stt_jgetstr(c, "text");
    if (text && (strstr(text, "<|") || strstr(text, "|SPECIAL_TOKEN_"))) return "sensevoice-v1";
  }
  return DS_DEFAULT_MODEL;
}

stt_json *ds_result(stt_arena *a, stt_json *root, const stt_json *resp, stt_json **err) {
  const char *model = result_model(resp, root);
  const stt_json *tr = stt_jget(root, "transcripts");
  const stt_json *dur = stt_jpath(root, "properties.original_duration_in_milliseconds");
  stt_json *out = stt_jobj(a), *segs, *text;
  ds_model mi;
  /* qwen3 numbers sentences from 0; a model only the client option `family` describes is
   * recognized by the file's shape (qwen3 files carry audio_info) */
  int qwen3 = ds_model_classify(model, &mi) ? mi.fam == DS_QWEN3 : stt_jget(root, "audio_info") != NULL;
  int id_base = qwen3 ? 0 : 1;
  if (!stt_jis(tr, STT_JARR)) {
    *err = stt_make_error(a, P, "protocol", 0, NULL, NULL, 0,
                          "dashscope: result file has no transcripts array");
    return NULL;
  }
  segs = make_segments(a, tr, id_base);
  text = make_text(a, tr);
  if (!out || !segs || !text || ds_set_str(a, out, "provider", P) || ds_set_str(a, out, "model", model) ||
      ds_set_str(a, out, "task_id", stt_jgetstr(stt_jget(resp, "task"), "id")) ||
      stt_jset(a, out, "text", text) || ds_set_str(a, out, "language", stt_common_language(segs)) ||
      (stt_jis(dur, STT_JNUM) && stt_jset(a, out, "duration_ms", stt_jint(a, (long long)dur->i))) ||
      stt_jset(a, out, "segments", segs) || stt_jset(a, out, "raw", root)) {
    stt_set_oom(a, err, P);
    return NULL;
  }
  return out;
}
