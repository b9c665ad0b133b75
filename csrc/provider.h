/* provider.h - the interface every wire schema (csrc/providers/<name>.c) implements.
 *
 * Schemas are PURE: no sockets, no clock, no environment, no globals, no Lua. Everything they need
 * (key, base URL, the job, the task, a request id, the time) arrives in `args`; everything they
 * produce is a JSON DOM allocated in the arena `a`, which the binding (stt_core.c) turns into Lua
 * tables. On failure they return NULL and set *err to an error object (see stt_make_error).
 *
 * build(a, op, args, &err) -> request
 *   op: "submit" | "poll" | "cancel" | "fetch"
 *   args (DOM from Lua; absent fields are simply missing):
 *     api_key   string    the secret; only ever copied into request headers
 *     base_url  string    explicit base (up to and including the API version segment), or absent
 *     region    string    provider region name when base_url is absent
 *     model     string
 *     job       object    submit only: the normalized job (url | urls, language, speakers, ...,
 *                         extra = provider-native fields merged verbatim into the body)
 *     task      object    poll/cancel: the task table returned by parse("submit") (at least id)
 *     url       string    fetch only: a result-file URL
 *   request: { method = "GET"|"POST"|..., url = "...",
 *              headers = [ ["Name", "value"], ... ]   (ordered pairs),
 *              body = "..." (absent when there is none) }
 *
 * parse(a, kind, resp, &err) -> table
 *   kind: "submit" | "poll" | "cancel" | "result"
 *   resp: { status = <int HTTP status>, headers = { <lower-case name> = "value", ... },
 *           body = "<raw body>", model = "<model>" (when known), task = {...} (poll/result) }
 *   Any non-2xx status or provider error envelope -> NULL + *err.
 *   "submit" -> task fields: { id, state, request_id }
 *   "poll"   -> { state = "queued"|"running"|"succeeded"|"failed"|"canceled",
 *                 provider_state = "<as sent>", request_id,
 *                 files = [ { url, result_url } | { url, error = <error object> } ] (when known),
 *                 result = <normalized Result> (providers that answer inline),
 *                 usage = { audio_ms, billed_ms } (when known),
 *                 error = <error object> (state failed/canceled) }
 *   "result" -> normalized Result (DESIGN.md), raw = the provider JSON
 *
 * error object: { kind, message, provider, status?, code?, request_id?, retryable, retry_after? }
 *   kind is one of: auth invalid unsupported throttled quota server network timeout protocol
 *   task_failed canceled not_found. Never contains the API key.
 */
#ifndef STT_PROVIDER_H
#define STT_PROVIDER_H
#include "json.h"

typedef stt_json *(*stt_build_fn)(stt_arena *a, const char *op, const stt_json *args, stt_json **err);
typedef stt_json *(*stt_parse_fn)(stt_arena *a, const char *kind, const stt_json *resp, stt_json **err);

typedef struct stt_provider {
  const char *name;
  stt_build_fn build;
  stt_parse_fn parse;
} stt_provider;

/* The registry (providers.c): a constant table, no mutable state. NULL when unknown. */
const stt_provider *stt_provider_find(const char *name);
const stt_provider *stt_provider_at(int i);   /* iterate: NULL past the end */

/* Helpers shared by all schemas (providers.c). */
stt_json *stt_make_error(stt_arena *a, const char *provider, const char *kind, int status,
                         const char *code, const char *request_id, int retryable,
                         const char *fmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 8, 9)))
#endif
  ;
/* {"method":..,"url":..,"headers":[]} ready for stt_req_header / body */
stt_json *stt_req_new(stt_arena *a, const char *method, const char *url);
int stt_req_header(stt_arena *a, stt_json *req, const char *name, const char *value);
int stt_req_body_json(stt_arena *a, stt_json *req, const stt_json *body); /* serializes */

/* Provider schemas */
extern const stt_provider stt_provider_dashscope;
#endif
