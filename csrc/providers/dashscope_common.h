/* dashscope_common.h - what the DashScope schemas share: the task API (dashscope.c), the
 * custom-vocabulary API (dashscope_vocabulary.c) and the result normalization
 * (dashscope_result.c). The region bases, the base URL and the bearer header, the model families,
 * and the ONE classification of DashScope error codes with the error objects built from it (a
 * non-2xx answer, or an error envelope inside a 2xx). Pure: no I/O, no clock, no env, no globals.
 * See docs/providers.md. */
#ifndef STT_DASHSCOPE_COMMON_H
#define STT_DASHSCOPE_COMMON_H
#include "../provider.h"

#define DS_PROVIDER "dashscope"
#define DS_DEFAULT_MODEL "paraformer-v2"

/* ---- base URL, auth ---- */

/* The documented base URL of a region: NULL or "cn" -> Beijing
 * (https://dashscope.aliyuncs.com/api/v1), "intl" -> Singapore
 * (https://dashscope-intl.aliyuncs.com/api/v1); NULL for any other name. */
const char *ds_region_base(const char *region);
/* args.base_url when given (one trailing slash dropped: it wins over region), else the region's
 * base; NULL + *err (invalid) for an unknown region. */
const char *ds_base_url(stt_arena *a, const stt_json *args, stt_json **err);
/* "Bearer <args.api_key>", or NULL + *err (auth) naming only DASHSCOPE_API_KEY. */
const char *ds_bearer(stt_arena *a, const stt_json *args, stt_json **err);

/* ---- models ---- */

/* The API families of the file-transcription models, by their wire protocol
 * (docs/providers.md#dashscope-models). The client option `family` names them, for a model the
 * library does not know: "paraformer", "paraformer-v1", "fun-asr", "qwen-audio-filetrans",
 * "sensevoice", "qwen3-filetrans" (this order). */
typedef enum {
  DS_PARAFORMER,      /* paraformer v2: file_urls, language_hints (paraformer-v2), vocabulary_id */
  DS_PARAFORMER_V1,   /* paraformer v1: file_urls, hot words as resources[asr_phrase] */
  DS_FUNASR,          /* fun-asr: file_urls, language_hints, vocabulary_id */
  DS_QWEN_AUDIO,      /* qwen-audio-*-asr-flash-filetrans: the Fun-ASR protocol */
  DS_SENSEVOICE,      /* sensevoice-v1: file_urls, one language hint, no words */
  DS_QWEN3            /* qwen3-asr-flash-filetrans: file_url, language, enable_itn/words */
} ds_family;

typedef struct {
  const char *name;
  ds_family fam;
  int hints;       /* language_hints: 0 = not accepted, 1 = exactly one, 2 = several */
} ds_model;

/* Fills *m for a model name matched exactly (dated snapshots "<name>-YYYY-MM-DD" too; see
 * dashscope_common.c); 0 when the name is no DashScope file-transcription model it knows. */
int ds_model_classify(const char *name, ds_model *m);
/* ds_model_classify, else (an unknown name) the family args.family names. NULL when the model
 * is usable, else an error object: args.family that names no family (invalid, checked even for
 * a known model), or an unknown model without a family (unsupported, naming the model and the
 * known families). */
stt_json *ds_model_resolve(stt_arena *a, const stt_json *args, const char *name, ds_model *m);

/* ---- headers every task / vocabulary request carries ---- */

/* Adds "X-DashScope-WorkSpace: <args.workspace>" when args.workspace is a non-empty string (absent,
 * null or "": nothing). 0, or -1 + *err: invalid (not a string, or CR / LF / NUL inside) or oom. */
int ds_workspace_header(stt_arena *a, stt_json *req, const stt_json *args, stt_json **err);

/* ---- errors ---- */

typedef struct { const char *kind; int retryable; } ds_err_class;

/* The error kind of a DashScope answer from its code, its message and the HTTP status (0 when
 * the status says nothing, as for an envelope inside a 2xx). The rules and their sources are in
 * dashscope_common.c. */
ds_err_class ds_classify(long long status, const char *code, const char *message);

/* A non-2xx answer -> error object: kind from ds_classify, status, code and request_id from the
 * {request_id, code, message} envelope (request_id else the x-request-id header), retry_after
 * from Retry-After. `api` names the API in the message ("dashscope", "dashscope vocabulary").
 * NULL on oom. */
stt_json *ds_http_error(stt_arena *a, const char *api, const stt_json *resp, long long status);
/* A 2xx body that is an error envelope (a non-empty code and no output) -> error object as
 * ds_http_error makes it; NULL when root is no such envelope (or on oom). */
stt_json *ds_envelope_error(stt_arena *a, const char *api, const stt_json *root, const stt_json *resp,
                            long long status);
/* A 2xx body as a JSON object, or NULL + *err (protocol, retryable: a gateway hiccup). */
stt_json *ds_body_json(stt_arena *a, const stt_json *resp, long long status, stt_json **err);

/* obj[key] = v when v is not NULL (an empty string too, unlike stt_set_str). */
int ds_set_str(stt_arena *a, stt_json *obj, const char *key, const char *v);
#endif
