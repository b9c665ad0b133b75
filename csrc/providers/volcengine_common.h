/* volcengine_common.h - what the LAS operator (volcengine.c) and the direct big-model API
 * (volcengine_auc.c) share: the user/audio/request objects built from normalized options, the
 * capability table, the hot word encoding, and the Result normalization (LAS `data.result` is
 * exactly the AUC query body's `result`). Facts: docs/providers.md#volcengine-request-and-result.
 * Pure. */
#ifndef STT_VOLCENGINE_COMMON_H
#define STT_VOLCENGINE_COMMON_H
#include "../provider.h"

#define VC_DEFAULT_MODEL "bigasr"

typedef struct {
  const char *provider;   /* "volcengine" | "volcengine-auc": names the provider in messages */
  const char *prefix;     /* where user/audio/request sit: "data." (LAS) or "" (AUC body root) */
  const char *extra_at;   /* where job.extra merges, for the capability table (and any caveat) */
  const char *title;      /* names the API in "has no cancel operation" */
  const char *results_in; /* where results arrive instead of a fetch */
  const char *extra_note; /* appended to extra's capability entry, or NULL */
} vc_schema;

typedef stt_json *(*vc_build_fn)(stt_arena *a, const stt_json *args, stt_json **err);

/* build(op): submit and poll through the schema's functions, hotwords through vc_hotwords; cancel
 * and fetch are unsupported (neither API has them). */
stt_json *vc_build(stt_arena *a, const vc_schema *s, const char *op, const stt_json *args,
                   stt_json **err, vc_build_fn submit, vc_build_fn poll);

/* resp.model, else the task's model, else "bigasr". */
const char *vc_model_of(const stt_json *resp);

/* job.model wins over args.model, then "bigasr". NULL + *err (unsupported) for unknown models. */
const char *vc_model(stt_arena *a, const vc_schema *s, const stt_json *args, stt_json **err);

/* Appends audio, [resource when given], request to dst from args.job; refuses unknown or
 * unhonoured options (unsupported) and bad values (invalid). Returns 0 or -1 + *err. */
int vc_request_objects(stt_arena *a, const vc_schema *s, const char *model, const stt_json *job,
                       const char *resource, stt_json *dst, stt_json **err);

/* Merges job.extra (an object, or absent) into target. 0 or -1 + *err. */
int vc_apply_extra(stt_arena *a, const vc_schema *s, const char *model, const stt_json *job,
                   stt_json *target, stt_json **err);

/* build("hotwords") -> {field = "<prefix>request.corpus.context", value = JSON string}. */
stt_json *vc_hotwords(stt_arena *a, const vc_schema *s, const stt_json *args, stt_json **err);

/* The capability table (models bigasr, seedasr) from the option table vc_request_objects uses. */
stt_json *vc_caps(stt_arena *a, const vc_schema *s);

/* `result` (+ audio_info) -> normalized Result; raw is stored as is. NULL on oom. */
stt_json *vc_result(stt_arena *a, const char *provider, const char *model, const char *task_id,
                    const stt_json *result, const stt_json *audio_info, stt_json *raw);
/* The Result of silent audio (AUC 20000003): silent = true, text "", no segments; duration_ms
 * when raw (the answer's JSON body, or NULL) carries one; raw stored as is. NULL on oom. */
stt_json *vc_silent_result(stt_arena *a, const char *provider, const char *model,
                           const char *task_id, stt_json *raw);
/* { audio_ms } from a normalized Result's duration_ms; 0 (nothing added) when unknown. */
int vc_set_usage(stt_arena *a, stt_json *out, const stt_json *result);

/* args.callback = { url, data } -> `callback`, `callback_data` strings in dst (LAS data.request,
 * AUC the body root: docs/providers.md#volcengine-callbacks); nothing without it. 0 or -1 + *err. */
int vc_callback(stt_arena *a, const vc_schema *s, const stt_json *args, stt_json *dst, stt_json **err);
/* parse("notice"): what a callback POST names -> { callback_data, task_id, state } (each may be
 * absent); every plausible payload shape is read (UNCONFIRMED). NULL + *err on oom only. */
stt_json *vc_notice(stt_arena *a, const vc_schema *s, const stt_json *resp, stt_json **err);
#endif
