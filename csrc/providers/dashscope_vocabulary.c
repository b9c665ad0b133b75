/* dashscope_vocabulary.c - wire schema of the DashScope custom-vocabulary API (paraformer-v2,
 * fun-asr: recognition takes parameters.vocabulary_id). Pure: no I/O, clock, env, globals, Lua.
 *
 * Facts: the custom hotwords doc (https://www.alibabacloud.com/help/en/model-studio/custom-hot-words) and
 * the official Python SDK, https://github.com/dashscope/dashscope-sdk-python
 * dashscope/audio/asr/vocabulary.py (VocabularyService); summary in
 * docs/providers.md#dashscope-vocabulary-api:
 *   POST {base}/services/audio/asr/customization, Authorization: Bearer <key>, JSON body
 *   {"model":"speech-biasing","input":{"action":<action>, ...},"parameters":{}}
 *   ("parameters" is empty: the SDK's request builder always sends it, so we do too)
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
 *            vocabulary_delete; args: api_key, base_url | region, workspace, target_model, prefix,
 *            vocabulary (array of {text|word, weight?, lang?}), vocabulary_id, page_index, page_size
 * parse(kind), same names: create -> {vocabulary_id, request_id}; list -> {vocabularies = [...],
 *   request_id}; query -> {vocabulary_id?, status, target_model, vocabulary = [{text, weight, lang}],
 *   gmt_create, gmt_modified, request_id}; update/delete -> {ok = true, request_id} */
#include "dashscope_vocabulary.h"
#include "dashscope_common.h"   /* base URL, bearer, the error classification and error objects */

#include <string.h>

#define P DS_PROVIDER
#define API "dashscope vocabulary"   /* names this API in error messages */
#define MODEL "speech-biasing"

static stt_json *fail(stt_arena *a, stt_json **err, const char *kind, const char *msg) {
  if (err) *err = stt_make_error(a, P, kind, 0, NULL, NULL, 0, "dashscope vocabulary: %s", msg);
  return NULL;
}

static stt_json *oom(stt_arena *a, stt_json **err) { return fail(a, err, "protocol", "out of memory"); }

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
  if (!(base = ds_base_url(a, args, err)) || !(auth = ds_bearer(a, args, err))) return NULL;
  if (stt_jset(a, body, "model", stt_jstr(a, MODEL)) || stt_jset(a, body, "input", input) ||
      stt_jset(a, body, "parameters", stt_jobj(a)))
    return oom(a, err);
  req = stt_req_new(a, "POST", stt_arena_printf(a, "%s/services/audio/asr/customization", base));
  if (!req || stt_req_header(a, req, "Authorization", auth) ||
      stt_req_header(a, req, "Content-Type", "application/json"))
    return oom(a, err);
  /* X-DashScope-WorkSpace when the client has a workspace (the doc says custom vocabularies live
   * in the primary workspace only: a sub-workspace's answer is the service's to give) */
  if (ds_workspace_header(a, req, args, err)) return NULL;
  if (stt_req_body_json(a, req, body)) return oom(a, err);
  return req;
}

/* ------------------------------------------------------------------------------------------ */
/* parse */

static int copy_member(stt_arena *a, stt_json *dst, const stt_json *src, const char *key) {
  const stt_json *v = stt_jget(src, key);
  if (!v || stt_jis(v, STT_JNULL)) return 0;
  return stt_jset(a, dst, key, stt_jclone(a, v));
}

stt_json *stt_dashscope_vocabulary_parse(stt_arena *a, const char *kind, const stt_json *resp, stt_json **err) {
  long long status = stt_jgetint(resp, "status", 0);
  const stt_json *output;
  stt_json *root, *out;
  if (!kind) kind = "";
  /* errors exactly as the task API reports them (dashscope_common.c) */
  if (status < 200 || status > 299) {
    *err = ds_http_error(a, API, resp, status);
    return NULL;
  }
  if (!(root = ds_body_json(a, resp, status, err))) return NULL;
  if ((*err = ds_envelope_error(a, API, root, resp, status)) != NULL) return NULL;
  output = stt_jget(root, "output");
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
