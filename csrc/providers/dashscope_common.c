/* dashscope_common.c - see dashscope_common.h. Pure: no I/O, no clock, no env, no globals.
 *
 * Sources (public):
 *   error codes     https://www.alibabacloud.com/help/en/model-studio/developer-reference/error-code
 *                   https://help.aliyun.com/zh/model-studio/error-code
 *   regions         https://help.aliyun.com/zh/model-studio/paraformer-recorded-speech-recognition-restful-api
 *   task API        https://help.aliyun.com/zh/model-studio/manage-asynchronous-tasks
 * Summary with sources: docs/providers.md#dashscope-errors, #dashscope-endpoints. */
#include "dashscope_common.h"

#include <string.h>

#define P DS_PROVIDER
#define BASE_CN "https://dashscope.aliyuncs.com/api/v1"
#define BASE_INTL "https://dashscope-intl.aliyuncs.com/api/v1"

static int starts_with(const char *s, const char *prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ========================================================================================== */
/* base URL, auth */

const char *ds_region_base(const char *region) {
  if (!region || strcmp(region, "cn") == 0) return BASE_CN;
  if (strcmp(region, "intl") == 0) return BASE_INTL;
  return NULL;
}

const char *ds_base_url(stt_arena *a, const stt_json *args, stt_json **err) {
  const stt_json *b = stt_jget(args, "base_url");
  const char *region = stt_jgetstr(args, "region");
  if (stt_jis(b, STT_JSTR) && b->slen > 0) return stt_explicit_base(a, args);   /* NULL: oom */
  if (ds_region_base(region)) return ds_region_base(region);
  stt_set_error(a, err, P, "invalid", 0, "dashscope: unknown region \"%.40s\" (expected \"cn\" or \"intl\")",
                region);
  return NULL;
}

/* The key only ever goes into this header; stt_api_key's messages name the variable, never the
 * value. */
const char *ds_bearer(stt_arena *a, const stt_json *args, stt_json **err) {
  const stt_json *k = stt_api_key(a, args, P, err);
  return k ? stt_arena_printf(a, "Bearer %s", k->s) : NULL;
}

/* ========================================================================================== */
/* models */

/* Model names are matched EXACTLY, never by prefix: a name like paraformer-realtime-v2 or
 * qwen3-asr-flash (streaming / synchronous APIs) must not reach the async file API, and a new
 * model gets a family only when someone has read its doc (or the caller names one with the
 * client option `family`). Names and families (docs/providers.md#dashscope-models):
 *   paraformer-v2, paraformer-8k-v2                    DS_PARAFORMER
 *     https://help.aliyun.com/zh/model-studio/paraformer-recorded-speech-recognition-restful-api
 *   paraformer-v1, paraformer-8k-v1, paraformer-mtl-v1  DS_PARAFORMER_V1
 *     https://help.aliyun.com/zh/model-studio/paraformer-recorded-speech-recognition-python-sdk
 *   fun-asr, fun-asr-mtl                               DS_FUNASR
 *     https://help.aliyun.com/en/model-studio/fun-asr-recorded-speech-recognition-http-api
 *   qwen-audio-<version>-asr-flash-filetrans           DS_QWEN_AUDIO (the Fun-ASR protocol: the
 *     same HTTP API page is titled "Qwen-Audio-3.0-ASR-Flash-Filetrans/Fun-ASR HTTP API")
 *   sensevoice-v1                                      DS_SENSEVOICE
 *     https://help.aliyun.com/zh/model-studio/sensevoice-recorded-speech-recognition-restful-api
 *   qwen3-asr-flash-filetrans and qwen3-asr-flash-filetrans-<anything>   DS_QWEN3
 *     https://help.aliyun.com/zh/model-studio/qwen-asr-api-reference ; the official Model Studio
 *     CLI routes /^qwen3-asr-flash-filetrans(?:-|$)/ to input.file_url
 *     (https://github.com/modelstudioai/cli, packages/core/src/client/asr-routes.ts)
 * Every name but qwen3's also matches as a dated snapshot "<name>-YYYY-MM-DD" (fun-asr-2025-11-07,
 * fun-asr-mtl-2025-08-25: the overview's naming). */

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* s (of length n) is "-YYYY-MM-DD". */
static int date_suffix(const char *s, size_t n) {
  static const char shape[] = "-dddd-dd-dd";
  size_t k;
  if (n != sizeof shape - 1) return 0;
  for (k = 0; k < n; k++)
    if (shape[k] == 'd' ? !is_digit(s[k]) : s[k] != shape[k]) return 0;
  return 1;
}

/* The length of name without a dated-snapshot suffix. */
static size_t base_len(const char *name) {
  size_t n = strlen(name);
  return n > 11 && date_suffix(name + n - 11, 11) ? n - 11 : n;
}

static int base_is(const char *name, size_t n, const char *base) {
  return strlen(base) == n && strncmp(name, base, n) == 0;
}

/* qwen-audio-<version>-asr-flash-filetrans, <version> not empty. */
static int qwen_audio_filetrans(const char *name, size_t n) {
  static const char pre[] = "qwen-audio-", post[] = "-asr-flash-filetrans";
  size_t lp = sizeof pre - 1, ls = sizeof post - 1;
  return n > lp + ls && strncmp(name, pre, lp) == 0 && strncmp(name + n - ls, post, ls) == 0;
}

static const struct { const char *base; ds_family fam; int hints; } known_bases[] = {
  /* language_hints: paraformer-v2 only among the paraformers (the doc's parameter table) */
  {"paraformer-v2", DS_PARAFORMER, 2},     {"paraformer-8k-v2", DS_PARAFORMER, 0},
  {"paraformer-v1", DS_PARAFORMER_V1, 0},  {"paraformer-8k-v1", DS_PARAFORMER_V1, 0},
  {"paraformer-mtl-v1", DS_PARAFORMER_V1, 0},
  {"fun-asr", DS_FUNASR, 2},               {"fun-asr-mtl", DS_FUNASR, 2},
  {"sensevoice-v1", DS_SENSEVOICE, 1},     /* exactly one hint */
};

/* The hints of a family for a model only the caller's `family` describes: the family's rule
 * (paraformer: as paraformer-v2, the service refuses what the model does not take). */
static int family_hints(ds_family f) {
  switch (f) {
  case DS_PARAFORMER: case DS_FUNASR: case DS_QWEN_AUDIO: return 2;
  case DS_SENSEVOICE: return 1;
  default: return 0;
  }
}

int ds_model_classify(const char *name, ds_model *m) {
  static const char q3[] = "qwen3-asr-flash-filetrans";
  size_t n, k;
  memset(m, 0, sizeof *m);
  m->name = name;
  if (!name) return 0;
  /* the CLI sends realtime / streaming names nowhere near this API, whatever else they match */
  if (strstr(name, "realtime") || strstr(name, "streaming")) return 0;
  if (starts_with(name, q3) && (name[sizeof q3 - 1] == '\0' || name[sizeof q3 - 1] == '-')) {
    m->fam = DS_QWEN3;
    return 1;
  }
  n = base_len(name);
  for (k = 0; k < sizeof known_bases / sizeof known_bases[0]; k++) {
    if (base_is(name, n, known_bases[k].base)) {
      m->fam = known_bases[k].fam;
      m->hints = known_bases[k].hints;
      return 1;
    }
  }
  if (qwen_audio_filetrans(name, n)) {
    m->fam = DS_QWEN_AUDIO;
    m->hints = family_hints(DS_QWEN_AUDIO);   /* language_hints: UNCONFIRMED, see the doc */
    return 1;
  }
  return 0;
}

/* The names of the client option `family`, in ds_family order. */
static const char *const family_names[] = {
  "paraformer", "paraformer-v1", "fun-asr", "qwen-audio-filetrans", "sensevoice", "qwen3-filetrans",
};

#define FAMILIES_TEXT \
  "paraformer (paraformer-v2, paraformer-8k-v2), paraformer-v1 (paraformer-v1, paraformer-8k-v1, " \
  "paraformer-mtl-v1), fun-asr (fun-asr, fun-asr-mtl), qwen-audio-filetrans " \
  "(qwen-audio-<version>-asr-flash-filetrans), sensevoice (sensevoice-v1), qwen3-filetrans " \
  "(qwen3-asr-flash-filetrans[-...]); dated snapshots <model>-YYYY-MM-DD"

stt_json *ds_model_resolve(stt_arena *a, const stt_json *args, const char *name, ds_model *m) {
  const stt_json *f = stt_jget(args, "family");
  int fam = -1;
  size_t k;
  if (f && !stt_jis(f, STT_JNULL) && !(stt_jis(f, STT_JSTR) && f->slen == 0)) {
    for (k = 0; stt_jis(f, STT_JSTR) && k < sizeof family_names / sizeof family_names[0]; k++)
      if (strlen(family_names[k]) == f->slen && strcmp(f->s, family_names[k]) == 0) fam = (int)k;
    if (fam < 0) {
      const char *shown = stt_jis(f, STT_JSTR) ? stt_sanitize(a, f->s, f->slen, 40) : "(not a string)";
      return stt_make_error(a, P, "invalid", 0, NULL, NULL, 0,
                            "dashscope: unknown family \"%s\" (expected paraformer, paraformer-v1, fun-asr, "
                            "qwen-audio-filetrans, sensevoice or qwen3-filetrans)", shown ? shown : "");
    }
  }
  /* A name the library knows keeps its own family; `family` only describes unknown names. */
  if (ds_model_classify(name, m)) return NULL;
  if (fam >= 0) {
    m->fam = (ds_family)fam;
    m->hints = family_hints(m->fam);
    return NULL;
  }
  return stt_make_error(a, P, "unsupported", 0, NULL, NULL, 0,
                        "model \"%.80s\" is not supported by dashscope (known families: " FAMILIES_TEXT
                        "; for another model of one of them, set the client option family)",
                        name ? name : "");
}

/* ========================================================================================== */
/* headers */

/* Official SDKs spell it X-DashScope-WorkSpace (docs/providers.md#dashscope-headers). */
int ds_workspace_header(stt_arena *a, stt_json *req, const stt_json *args, stt_json **err) {
  const stt_json *w = stt_jget(args, "workspace");
  if (!w || stt_jis(w, STT_JNULL) || (stt_jis(w, STT_JSTR) && w->slen == 0)) return 0;
  if (!stt_jis(w, STT_JSTR) || strlen(w->s) != w->slen || strpbrk(w->s, "\r\n")) {
    stt_set_error(a, err, P, "invalid", 0,
                  "dashscope: workspace must be a workspace id (a string without line breaks)");
    return -1;
  }
  if (stt_req_header(a, req, "X-DashScope-WorkSpace", w->s)) {
    stt_set_oom(a, err, P);
    return -1;
  }
  return 0;
}

/* ========================================================================================== */
/* errors */

static int code_is(const char *code, const char *const *names, size_t n) {
  size_t k;
  for (k = 0; k < n; k++)
    if (strcmp(code, names[k]) == 0) return 1;
  return 0;
}

#define CODE_IN(code, list) code_is(code, list, sizeof list / sizeof list[0])

/* The one classification of DashScope errors, for the task API and the vocabulary API alike.
 * The code wins over the HTTP status where it is unambiguous; the rules, in the order applied:
 *
 * 1. A message containing "does not support synchronous calls" -> invalid, not retryable. The
 *    service answers 403 AccessDenied "current user api does not support synchronous calls"
 *    when a task API request lacks the X-DashScope-Async: enable header: our bug, not the key's
 *    (https://help.aliyun.com/zh/model-studio/error-code). Checked before the codes, because
 *    the code is AccessDenied.
 * 2. InvalidApiKey, AccessDenied, AccessDenied.* (e.g. AccessDenied.Unpurchased),
 *    Workspace.AccessDenied, Model.AccessDenied -> auth, not retryable: the key is wrong, or the
 *    key / workspace may not use the model
 *    (https://www.alibabacloud.com/help/en/model-studio/developer-reference/error-code).
 * 3. Throttling, Throttling.RateQuota, Throttling.AllocationQuota and any other Throttling* code
 *    -> throttled, retryable; Retry-After is honoured when sent (the callers add it). RateQuota
 *    is the per-second request rate, AllocationQuota the per-minute allocation (requests or
 *    tokens per minute): both pass with time, so waiting is the cure (same two pages).
 * 4. Arrearage, PrepaidBillOverdue, PostpaidBillOverdue, CommodityNotPurchased -> quota, not
 *    retryable: an overdue or unpaid account, or a service not purchased; waiting won't help
 *    (same two pages).
 * 5. DataInspectionFailed -> invalid, not retryable: content inspection refused the input
 *    (same two pages).
 * 6. Anything else: what the HTTP status says on its own (stt_status_kind: 400 invalid, 401/403
 *    auth, 404 not_found, 429 throttled, 5xx server, the last two retryable). So a 429 without
 *    a code is throttled and retryable too. */
ds_err_class ds_classify(long long status, const char *code, const char *message) {
  static const char *const auth[] = {"InvalidApiKey", "AccessDenied", "Workspace.AccessDenied",
                                     "Model.AccessDenied"};
  static const char *const quota[] = {"Arrearage", "PrepaidBillOverdue", "PostpaidBillOverdue",
                                      "CommodityNotPurchased"};
  ds_err_class e = {"protocol", 0};
  if (!code) code = "";
  if (message && strstr(message, "does not support synchronous calls")) {
    e.kind = "invalid";
    return e;
  }
  if (CODE_IN(code, auth) || starts_with(code, "AccessDenied.")) {
    e.kind = "auth";
    return e;
  }
  if (starts_with(code, "Throttling")) {
    e.kind = "throttled";
    e.retryable = 1;
    return e;
  }
  if (CODE_IN(code, quota)) {
    e.kind = "quota";
    return e;
  }
  if (strcmp(code, "DataInspectionFailed") == 0) {
    e.kind = "invalid";
    return e;
  }
  e.kind = stt_status_kind(status, &e.retryable);
  return e;
}

/* The error object of an error answer: j is its parsed body (NULL when it is not JSON), raw / n
 * the body as received; class_status is the status ds_classify sees. */
static stt_json *answer_error(stt_arena *a, const char *api, const stt_json *resp, long long status,
                              long long class_status, const stt_json *j, const char *raw, size_t n) {
  const char *code = stt_jgetstr(j, "code"), *msg = stt_jgetstr(j, "message");
  const char *rid = stt_jgetstr(j, "request_id");
  ds_err_class k = ds_classify(class_status, code, msg);
  stt_json *e;
  if (!rid) rid = stt_resp_header(resp, "x-request-id");
  if (code || msg) {
    e = stt_make_error(a, P, k.kind, (int)status, code, rid, k.retryable, "%s HTTP %lld %s: %s", api,
                       status, code ? code : "", msg ? msg : "(no message)");
  } else if (n == 0) {
    e = stt_make_error(a, P, k.kind, (int)status, NULL, rid, k.retryable, "%s HTTP %lld with an empty body",
                       api, status);
  } else {
    const char *snip = stt_sanitize(a, raw, n, 200);
    e = stt_make_error(a, P, k.kind, (int)status, NULL, rid, k.retryable, "%s HTTP %lld with a non-JSON body: %s",
                       api, status, snip ? snip : "");
  }
  return stt_with_retry_after(a, e, resp);
}

/* Non-2xx: the DashScope envelope {request_id, code, message} when there is one. */
stt_json *ds_http_error(stt_arena *a, const char *api, const stt_json *resp, long long status) {
  const stt_json *body = stt_jget(resp, "body");
  const char *s = stt_jis(body, STT_JSTR) ? body->s : "";
  size_t n = stt_jis(body, STT_JSTR) ? body->slen : 0;
  return answer_error(a, api, resp, status, status, stt_json_parse(a, s, n, NULL, 0), s, n);
}

/* A 2xx may still carry an error envelope: a non-empty code and no output. The 2xx status says
 * nothing about the error, so the code alone classifies it (an unknown code: protocol). */
stt_json *ds_envelope_error(stt_arena *a, const char *api, const stt_json *root, const stt_json *resp,
                            long long status) {
  const char *code = stt_jgetstr(root, "code");
  if (!code || !*code || stt_jget(root, "output")) return NULL;
  return answer_error(a, api, resp, status, 0, root, NULL, 0);
}

/* A 2xx answer must be a JSON object; anything else is a gateway hiccup worth a retry. */
stt_json *ds_body_json(stt_arena *a, const stt_json *resp, long long status, stt_json **err) {
  return stt_body_json(a, resp, status, P, stt_resp_header(resp, "x-request-id"), err);
}

int ds_set_str(stt_arena *a, stt_json *obj, const char *key, const char *v) {
  return v ? stt_jset(a, obj, key, stt_jstr(a, v)) : 0;
}
