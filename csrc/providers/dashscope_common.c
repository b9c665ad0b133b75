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

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
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

int ds_model_classify(const char *name, ds_model *m) {
  memset(m, 0, sizeof *m);
  m->name = name;
  if (starts_with(name, "paraformer")) {
    m->fam = DS_PARAFORMER;
    m->v1 = ends_with(name, "-v1");
    /* The doc lists language_hints for paraformer-v2 only (not 8k-v2, not the v1 models). */
    m->hints = starts_with(name, "paraformer-v2") ? 2 : 0;
  } else if (starts_with(name, "fun-asr")) {
    m->fam = DS_FUNASR;
    m->hints = 2;
  } else if (starts_with(name, "sensevoice")) {
    m->fam = DS_SENSEVOICE;
    m->hints = 1;
  } else if (starts_with(name, "qwen")) {
    m->fam = DS_QWEN;
  } else {
    return 0;
  }
  return 1;
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
