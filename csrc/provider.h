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
 * build(a, "hotwords", {model, hotwords = [ {word, weight?, lang?} | "word", ... ]}, &err)
 *   -> { field = "<where it goes on the wire>", value = <exactly what goes there> }
 *   (engine C's stt.hotwords encodes through this op; models without hot words -> unsupported)
 *
 * caps(a) -> { default_model = "...", models = { [model] = { batch_max = n,
 *              options = { [option] = "<wire field(s)>" | false } } } }
 *   one entry for every name in stt_option_names; drawn from the SAME tables build() uses to map
 *   or refuse options, so the capability table and the behaviour cannot drift apart.
 *
 * error object: { kind, message, provider, status?, code?, request_id?, retryable, retry_after? }
 *   kind is one of: auth invalid unsupported throttled quota server network timeout protocol
 *   task_failed canceled not_found. Never contains the API key. Provider extras may be added
 *   (volcengine-auc: duplicate = true when a request id was reused).
 */
#ifndef STT_PROVIDER_H
#define STT_PROVIDER_H
#include "json.h"

typedef stt_json *(*stt_build_fn)(stt_arena *a, const char *op, const stt_json *args, stt_json **err);
typedef stt_json *(*stt_parse_fn)(stt_arena *a, const char *kind, const stt_json *resp, stt_json **err);
typedef stt_json *(*stt_caps_fn)(stt_arena *a);

typedef struct stt_provider {
  const char *name;
  stt_build_fn build;
  stt_parse_fn parse;
  stt_caps_fn caps;
} stt_provider;

/* Every normalized job option any schema knows, in the order capability tables list them. */
extern const char *const stt_option_names[];
extern const int stt_option_count;

/* How a schema maps `option` for one model (ctx: the schema's model description): the wire
 * field(s) as text, or NULL when the model does not honour it. Strings may live in `a`. */
typedef const char *(*stt_how_fn)(stt_arena *a, const char *option, const void *ctx);
/* { batch_max = n, options = { [name] = how(...) or false } } over stt_option_names. */
stt_json *stt_caps_model(stt_arena *a, long long batch_max, stt_how_fn how, const void *ctx);
/* The {default_model, models = {}} frame of a caps table: add models with stt_jset. */
stt_json *stt_caps_new(stt_arena *a, const char *default_model, stt_json **models);

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
/* Recursive merge of src's members into dst (job.extra): objects merge member by member, an
 * empty table over an object changes nothing, anything else replaces in place or appends. */
int stt_json_merge(stt_arena *a, stt_json *dst, const stt_json *src);
/* Integral number (Lua integer or integral float) -> *out; 0 when not one. */
int stt_json_int(const stt_json *v, long long *out);
/* Serializes j compactly into an arena string (JSON carried as a string field). */
stt_json *stt_json_as_string(stt_arena *a, const stt_json *j);
/* One entry of a hot word list: {word = "..", weight = n?, lang = ".."?} or a plain string. */
typedef struct { const char *word; size_t len; int has_weight; long long weight; const char *lang; } stt_hotword;
/* Reads a hot word list (a non-empty array). Returns the count and *out (arena), or -1 with *why
 * set to a static message (out of memory: *why = NULL). */
int stt_hotwords_read(stt_arena *a, const stt_json *list, stt_hotword **out, const char **why);
/* resp.headers["retry-after"] as delta-seconds (an HTTP date is ignored) -> *out; 0 when none. */
int stt_retry_after(const stt_json *resp, long long *out);
/* Printable ASCII only, whitespace folded, at most max bytes of input ("..." when cut). */
char *stt_sanitize(stt_arena *a, const char *s, size_t n, size_t max);

/* Provider schemas */
extern const stt_provider stt_provider_dashscope;
extern const stt_provider stt_provider_volcengine;
extern const stt_provider stt_provider_volcengine_auc;
extern const stt_provider stt_provider_turing;
#endif
