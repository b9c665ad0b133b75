/* dashscope_vocabulary.c - wire schema of the DashScope custom-vocabulary API (paraformer-v2,
 * fun-asr: recognition takes parameters.vocabulary_id). Pure: no I/O, clock, env, globals, Lua.
 *
 * Facts: shared/reference/subtitles-hotwords.md B2 and dashscope-sdk-python
 * dashscope/audio/asr/vocabulary.py (VocabularyService):
 *   POST {base}/services/audio/asr/customization, Authorization: Bearer <key>, JSON body
 *   {"model":"speech-biasing","input":{"action":<action>, ...}}
 *     create_vocabulary  target_model, prefix, vocabulary[{text, weight, lang?}] -> output.vocabulary_id
 *     list_vocabulary    prefix?, page_index, page_size   -> output.vocabulary_list[{vocabulary_id,
 *                        gmt_create, gmt_modified, status}]
 *     query_vocabulary   vocabulary_id  -> output {vocabulary[...], target_model, status, gmt_*}
 *     update_vocabulary  vocabulary_id, vocabulary (full replacement)
 *     delete_vocabulary  vocabulary_id
 *   Errors: HTTP status + {request_id, code, message}, as everywhere in DashScope.
 * The bodies of update/delete answers and the exact member set of query/list entries are
 * UNCONFIRMED (the SDK reads only status 200 / the members above): parsing accepts any object.
 *
 * build(op): vocabulary_create | vocabulary_list | vocabulary_query | vocabulary_update |
 *            vocabulary_delete; args: api_key, base_url | region, target_model, prefix,
 *            vocabulary (array of {text|word, weight?, lang?}), vocabulary_id, page_index, page_size
 * parse(kind), same names: create -> {vocabulary_id, request_id}; list -> {vocabularies = [...],
 *   request_id}; query -> {vocabulary_id?, status, target_model, vocabulary = [{text, weight, lang}],
 *   gmt_create, gmt_modified, request_id}; update/delete -> {ok = true, request_id} */
#include "dashscope_vocabulary.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define P "dashscope"
#define MODEL "speech-biasing"

static stt_json *fail(stt_arena *a, stt_json **err, const char *kind, const char *msg) {
  if (err) *err = stt_make_error(a, P, kind, 0, NULL, NULL, 0, "dashscope vocabulary: %s", msg);
  return NULL;
}

static stt_json *oom(stt_arena *a, stt_json **err) { return fail(a, err, "protocol", "out of memory"); }

/* Same base URL rules as dashscope.c (explicit base_url, else region cn | intl). */
static const char *base_url(stt_arena *a, const stt_json *args, stt_json **err) {
  const stt_json *b = stt_jget(args, "base_url");
  const char *region = stt_jgetstr(args, "region");
  if (stt_jis(b, STT_JSTR) && b->slen > 0) return stt_explicit_base(a, args);
  if (stt_dashscope_region_base(region)) return stt_dashscope_region_base(region);
  fail(a, err, "invalid", "unknown region (expected \"cn\" or \"intl\")");
  return NULL;
}

/* The key only ever goes into the header; messages name the variable, never the value. */
static const char *bearer(stt_arena *a, const stt_json *args, stt_json **err) {
  const stt_json *k = stt_jget(args, "api_key");
  if (!stt_jis(k, STT_JSTR) || k->slen == 0) {
    if (err) *err = stt_make_error(a, P, "auth", 0, NULL, NULL, 0,
                                   "dashscope: no API key (set DASHSCOPE_API_KEY or pass api_key)");
    return NULL;
  }
  if (memchr(k->s, '\r', k->slen) || memchr(k->s, '\n', k->slen) || strlen(k->s) != k->slen) {
    if (err) *err = stt_make_error(a, P, "auth", 0, NULL, NULL, 0,
                                   "dashscope: the API key contains a line break or NUL");
    return NULL;
  }
  return stt_arena_printf(a, "Bearer %s", k->s);
}

static int str_arg(stt_arena *a, stt_json *input, const stt_json *args, const char *name, int required,
                   stt_json **err) {
  const stt_json *v = stt_jget(args, name);
  if (!v || stt_jis(v, STT_JNULL)) {
    if (!required) return 0;
    fail(a, err, "invalid", stt_arena_printf(a, "%s is required", name));
    return -1;
  }
  if (!stt_jis(v, STT_JSTR) || v->slen == 0) {
    fail(a, err, "invalid", stt_arena_printf(a, "%s must be a non-empty string", name));
    return -1;
  }
  if (stt_jset(a, input, name, stt_jstrn(a, v->s, v->slen))) { oom(a, err); return -1; }
  return 0;
}

static int int_arg(stt_arena *a, stt_json *input, const stt_json *args, const char *name, long long dflt,
                   stt_json **err) {
  const stt_json *v = stt_jget(args, name);
  long long n = dflt;
  if (v && !stt_jis(v, STT_JNULL)) {
    /* stt_json_int checks the range before converting (1e110 cast to long long is undefined). */
    if (!stt_json_int(v, &n) || n < 0) {
      fail(a, err, "invalid", stt_arena_printf(a, "%s must be a non-negative integer", name));
      return -1;
    }
  }
  if (stt_jset(a, input, name, stt_jint(a, n))) { oom(a, err); return -1; }
  return 0;
}

/* vocabulary: [{text (or word), weight?, lang?}] -> [{"text","weight","lang"}] in that order. */
static int vocabulary_arg(stt_arena *a, stt_json *input, const stt_json *args, stt_json **err) {
  const stt_json *v = stt_jget(args, "vocabulary"), *e;
  stt_json *out = stt_jarr(a);
  size_t i = 0;
  if (!out) { oom(a, err); return -1; }
  if (!stt_jis(v, STT_JARR) || v->count == 0) {
    fail(a, err, "invalid", "vocabulary must be a non-empty array of {text, weight, lang}");
    return -1;
  }
  for (e = v->child; e; e = e->next, i++) {
    const stt_json *text = stt_jget(e, "text"), *w = stt_jget(e, "weight"), *lang = stt_jget(e, "lang");
    stt_json *o = stt_jobj(a);
    if (!o) { oom(a, err); return -1; }
    if (!text) text = stt_jget(e, "word");
    if (!stt_jis(text, STT_JSTR) || text->slen == 0) {
      fail(a, err, "invalid", stt_arena_printf(a, "vocabulary[%zu].text must be a non-empty string", i + 1));
      return -1;
    }
    if (stt_jset(a, o, "text", stt_jstrn(a, text->s, text->slen))) { oom(a, err); return -1; }
    if (w && !stt_jis(w, STT_JNULL)) {
      long long wi;
      if (!stt_json_int(w, &wi)) {
        fail(a, err, "invalid", stt_arena_printf(a, "vocabulary[%zu].weight must be an integer", i + 1));
        return -1;
      }
      if (stt_jset(a, o, "weight", stt_jint(a, wi))) { oom(a, err); return -1; }
    }
    if (stt_jis(lang, STT_JSTR) && lang->slen > 0 && stt_jset(a, o, "lang", stt_jstrn(a, lang->s, lang->slen))) {
      oom(a, err);
      return -1;
    }
    if (stt_jpush(out, o)) { oom(a, err); return -1; }
  }
  if (stt_jset(a, input, "vocabulary", out)) { oom(a, err); return -1; }
  return 0;
}

stt_json *stt_dashscope_vocabulary_build(stt_arena *a, const char *op, const stt_json *args, stt_json **err) {
  const char *base, *auth;
  stt_json *body = stt_jobj(a), *input = stt_jobj(a), *req;
  int rc;
  if (!body || !input) return oom(a, err);
  if (!op) op = "";
  if (strcmp(op, "vocabulary_create") == 0) {
    rc = stt_jset(a, input, "action", stt_jstr(a, "create_vocabulary")) ||
         str_arg(a, input, args, "target_model", 1, err) || str_arg(a, input, args, "prefix", 1, err) ||
         vocabulary_arg(a, input, args, err);
  } else if (strcmp(op, "vocabulary_list") == 0) {
    /* The SDK sends prefix only when it is set, then page_index (0) and page_size (10). */
    rc = stt_jset(a, input, "action", stt_jstr(a, "list_vocabulary")) ||
         str_arg(a, input, args, "prefix", 0, err) || int_arg(a, input, args, "page_index", 0, err) ||
         int_arg(a, input, args, "page_size", 10, err);
  } else if (strcmp(op, "vocabulary_query") == 0 || strcmp(op, "vocabulary_delete") == 0) {
    rc = stt_jset(a, input, "action", stt_jstr(a, op[11] == 'q' ? "query_vocabulary" : "delete_vocabulary")) ||
         str_arg(a, input, args, "vocabulary_id", 1, err);
  } else if (strcmp(op, "vocabulary_update") == 0) {
    rc = stt_jset(a, input, "action", stt_jstr(a, "update_vocabulary")) ||
         str_arg(a, input, args, "vocabulary_id", 1, err) || vocabulary_arg(a, input, args, err);
  } else {
    return fail(a, err, "invalid", stt_arena_printf(a, "unknown build op \"%.40s\"", op));
  }
  if (rc) {
    if (err && !*err) oom(a, err);
    return NULL;
  }
  if (!(base = base_url(a, args, err)) || !(auth = bearer(a, args, err))) return NULL;
  if (stt_jset(a, body, "model", stt_jstr(a, MODEL)) || stt_jset(a, body, "input", input)) return oom(a, err);
  req = stt_req_new(a, "POST", stt_arena_printf(a, "%s/services/audio/asr/customization", base));
  if (!req || stt_req_header(a, req, "Authorization", auth) ||
      stt_req_header(a, req, "Content-Type", "application/json") || stt_req_body_json(a, req, body))
    return oom(a, err);
  return req;
}

/* ------------------------------------------------------------------------------------------ */
/* parse */

typedef struct { const char *kind; int retryable; } err_class;

static err_class classify(long long status, const char *code) {
  err_class e = {"protocol", 0};
  if (!code) code = "";
  if (strcmp(code, "InvalidApiKey") == 0) { e.kind = "auth"; return e; }
  if (strcmp(code, "Throttling.AllocationQuota") == 0 || strcmp(code, "Arrearage") == 0) {
    e.kind = "quota";
    return e;
  }
  if (strncmp(code, "Throttling", 10) == 0 || status == 429) { e.kind = "throttled"; e.retryable = 1; return e; }
  e.kind = stt_status_kind(status, &e.retryable);
  return e;
}

/* Printable ASCII of an unexpected body, at most 160 bytes. */
static char *snippet(stt_arena *a, const char *s, size_t n) {
  size_t k, m = n < 160 ? n : 160;
  char *out = stt_arena_alloc(a, m + 4), *o = out;
  if (!out) return NULL;
  for (k = 0; k < m; k++) *o++ = ((unsigned char)s[k] >= 0x20 && (unsigned char)s[k] < 0x7f) ? s[k] : ' ';
  if (n > m) { memcpy(o, "...", 3); o += 3; }
  *o = '\0';
  return out;
}

static stt_json *api_error(stt_arena *a, const stt_json *resp, long long status, const stt_json *root,
                           const char *raw, size_t rawlen) {
  const char *code = stt_jgetstr(root, "code"), *msg = stt_jgetstr(root, "message");
  const char *rid = stt_jgetstr(root, "request_id");
  err_class k = classify(status, code);
  if (!rid) rid = stt_jgetstr(stt_jget(resp, "headers"), "x-request-id");
  if (code || msg)
    return stt_with_retry_after(a, stt_make_error(a, P, k.kind, (int)status, code, rid, k.retryable,
                                                  "dashscope vocabulary HTTP %lld %s: %s", status,
                                                  code ? code : "", msg ? msg : "(no message)"), resp);
  return stt_with_retry_after(a, stt_make_error(a, P, k.kind, (int)status, NULL, rid, k.retryable,
                                                "dashscope vocabulary HTTP %lld: %s", status,
                                                rawlen ? snippet(a, raw, rawlen) : "(empty body)"), resp);
}

static int copy_member(stt_arena *a, stt_json *dst, const stt_json *src, const char *key) {
  const stt_json *v = stt_jget(src, key);
  if (!v || stt_jis(v, STT_JNULL)) return 0;
  return stt_jset(a, dst, key, stt_jclone(a, v));
}

stt_json *stt_dashscope_vocabulary_parse(stt_arena *a, const char *kind, const stt_json *resp, stt_json **err) {
  long long status = stt_jgetint(resp, "status", 0);
  const stt_json *body = stt_jget(resp, "body"), *output;
  const char *raw = stt_jis(body, STT_JSTR) ? body->s : "";
  size_t rawlen = stt_jis(body, STT_JSTR) ? body->slen : 0;
  stt_json *root = rawlen ? stt_json_parse(a, raw, rawlen, NULL, 0) : NULL, *out;
  if (!kind) kind = "";
  if (status < 200 || status > 299) {
    *err = api_error(a, resp, status, root, raw, rawlen);
    return NULL;
  }
  if (!stt_jis(root, STT_JOBJ)) {
    *err = stt_make_error(a, P, "protocol", (int)status, NULL, NULL, 1,
                          "dashscope vocabulary HTTP %lld with a body that is not a JSON object: %s", status,
                          rawlen ? snippet(a, raw, rawlen) : "(empty body)");
    return NULL;
  }
  output = stt_jget(root, "output");
  /* A 2xx may still carry an error envelope: a code and no output. */
  if (!output && stt_jgetstr(root, "code") && *stt_jgetstr(root, "code")) {
    *err = api_error(a, resp, status == 200 ? 400 : status, root, raw, rawlen);
    return NULL;
  }
  if (!(out = stt_jobj(a))) return oom(a, err);
  if (copy_member(a, out, root, "request_id")) return oom(a, err);
  if (strcmp(kind, "vocabulary_create") == 0) {
    const char *id = stt_jgetstr(output, "vocabulary_id");
    if (!id || !*id) {
      *err = stt_make_error(a, P, "protocol", (int)status, NULL, stt_jgetstr(root, "request_id"), 0,
                            "dashscope vocabulary: create answered without output.vocabulary_id");
      return NULL;
    }
    if (stt_jset(a, out, "vocabulary_id", stt_jstr(a, id))) return oom(a, err);
  } else if (strcmp(kind, "vocabulary_list") == 0) {
    /* output.vocabulary_list (SDK); an output that is itself the array is accepted too. */
    const stt_json *list = stt_jis(output, STT_JARR) ? output : stt_jget(output, "vocabulary_list");
    stt_json *arr = stt_jis(list, STT_JARR) ? stt_jclone(a, list) : stt_jarr(a);
    if (!arr || stt_jset(a, out, "vocabularies", arr)) return oom(a, err);
  } else if (strcmp(kind, "vocabulary_query") == 0) {
    static const char *const keys[] = {"vocabulary_id", "status", "target_model", "vocabulary", "gmt_create",
                                       "gmt_modified"};
    size_t k;
    if (!stt_jis(output, STT_JOBJ)) {
      *err = stt_make_error(a, P, "protocol", (int)status, NULL, stt_jgetstr(root, "request_id"), 0,
                            "dashscope vocabulary: query answered without an output object");
      return NULL;
    }
    for (k = 0; k < sizeof keys / sizeof keys[0]; k++)
      if (copy_member(a, out, output, keys[k])) return oom(a, err);
  } else if (strcmp(kind, "vocabulary_update") == 0 || strcmp(kind, "vocabulary_delete") == 0) {
    if (stt_jset(a, out, "ok", stt_jbool(a, 1))) return oom(a, err);
  } else {
    return fail(a, err, "invalid", stt_arena_printf(a, "unknown parse kind \"%.40s\"", kind));
  }
  return out;
}
