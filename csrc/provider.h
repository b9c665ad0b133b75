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

/* What every layer needs to know of a provider besides its wire format: which client option
 * comes from which environment variable, which credentials make a usable client, the account's
 * rate limits and who chooses a task id. One table for all providers (providers.c); the
 * capability table (core.capabilities(), stt.providers()) carries it, and the client, the rate
 * limiter and the command line read it from there. */
typedef struct { const char *option, *env; } stt_env_var;
typedef struct stt_provider_facts {
  const char *name;
  stt_env_var env[6];              /* client option -> environment variable; ends at {NULL} */
  const char *credentials[3][3];   /* alternatives, each a NULL-ended list of client options */
  double submit_qps, query_qps;    /* request starts per second the account may make */
  int rate_documented;             /* 0: no published figure, a conservative assumption */
  int client_ids;                  /* 1: the client chooses the task id (resubmitting it is safe) */
  const char *callback;            /* where a per-task callback URL and its data go; NULL: none */
} stt_provider_facts;
const stt_provider_facts *stt_provider_facts_of(const char *name);
/* The environment variable of a client option (e.g. "api_key"), or "" when there is none. */
const char *stt_provider_env(const char *provider, const char *option);
/* The facts as a DOM: { env = { [option] = var }, credentials = [ [option, ...], ... ],
 * rate = { submit, query, documented }, client_ids, callback = "<fields>" | false }. NULL on oom
 * or an unknown name. */
stt_json *stt_provider_facts_json(stt_arena *a, const char *name);

/* A provider without per-task callbacks: -1 + *err (unsupported) when a submit's args carry
 * `callback` (build) or a notice is parsed (parse kind "notice"); 0 otherwise. */
int stt_no_callbacks(stt_arena *a, const char *provider, const char *what, const stt_json *args,
                     stt_json **err);

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
/* One entry of a hot word list: {word = "..", weight = n?, lang = ".."?} or a plain string. */
typedef struct { const char *word; size_t len; int has_weight; long long weight; const char *lang; } stt_hotword;
/* Reads a hot word list (a non-empty array). Returns the count and *out (arena), or -1 with *why
 * set to a static message (out of memory: *why = NULL). */
int stt_hotwords_read(stt_arena *a, const stt_json *list, stt_hotword **out, const char **why);
/* A hot word list as [{word = ".."}], plus weight = n when with_weight and the entry has one.
 * NULL with *why set (a bad list, see stt_hotwords_read) or *why = NULL (out of memory). */
stt_json *stt_hotword_objects(stt_arena *a, const stt_json *list, int with_weight, const char **why);
/* resp.headers["retry-after"] as delta-seconds (an HTTP date is ignored) -> *out; 0 when none. */
int stt_retry_after(const stt_json *resp, long long *out);
/* Printable ASCII only, whitespace folded, at most max bytes of input ("..." when cut). */
char *stt_sanitize(stt_arena *a, const char *s, size_t n, size_t max);

/* ---- helpers every schema uses (providers.c) ---- */

/* *err = an error object (when err is given) whose message is formatted here, at most 767 bytes;
 * status, code and request_id unset. Callers never format args.api_key. */
void stt_set_error(stt_arena *a, stt_json **err, const char *provider, const char *kind,
                   int retryable, const char *fmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 6, 7)))
#endif
  ;
/* "<provider>: out of memory" (kind protocol) through stt_set_error. */
void stt_set_oom(stt_arena *a, stt_json **err, const char *provider);
/* A set job option: present and not JSON null (core.null counts as "not given"). */
const stt_json *stt_opt_get(const stt_json *job, const char *name);
/* obj[key] = v when v is a non-empty string; 0 when nothing to set. */
int stt_set_str(stt_arena *a, stt_json *obj, const char *key, const char *v);
/* The text collected in b as an arena string; frees b. NULL on oom. */
stt_json *stt_buf_take(stt_arena *a, stt_buf *b);
/* args.base_url without one trailing slash, or NULL when absent or empty. */
const char *stt_explicit_base(stt_arena *a, const stt_json *args);
/* A secret for a header: 1 when k is a usable string, 0 when it is missing or empty, -1 when it
 * holds CR, LF or NUL. */
int stt_secret_check(const stt_json *k);
/* args[option] (a credential) for a header, or NULL + *err (auth): missing, or holding CR, LF or
 * NUL. The messages name `label`, the option and its environment variable (stt_provider_env),
 * never the secret. stt_api_key is the "api_key" case. */
const stt_json *stt_credential(stt_arena *a, const stt_json *args, const char *provider,
                               const char *option, const char *label, stt_json **err);
const stt_json *stt_api_key(stt_arena *a, const stt_json *args, const char *provider, stt_json **err);
/* Percent-encodes everything but RFC 3986 unreserved characters. */
char *stt_url_escape(stt_arena *a, const char *s, size_t n);
/* resp.headers[name] (names are lower-case). */
const char *stt_resp_header(const stt_json *resp, const char *name);
/* e plus retry_after from resp's Retry-After header (when given); NULL on oom or when e is NULL. */
stt_json *stt_with_retry_after(stt_arena *a, stt_json *e, const stt_json *resp);
/* The error kind an HTTP status says on its own: 400 invalid, 401/403 auth, 404 not_found, 429
 * throttled, 5xx server (*retryable = 1 for the last two); anything else "protocol". */
const char *stt_status_kind(long long status, int *retryable);
/* A 2xx body must be a JSON object: that object, or NULL with *empty = 1 (no body), or with msg =
 * the parse error or "not a JSON object". */
stt_json *stt_body_object(stt_arena *a, const stt_json *resp, int *empty, char *msg, size_t msg_size);
/* stt_body_object, with the error set on failure (kind protocol, retryable: a gateway hiccup):
 * "<provider> HTTP <status> with an empty body (expected JSON)" or "... with a body that is not
 * JSON: <why>". */
stt_json *stt_body_json(stt_arena *a, const stt_json *resp, long long status, const char *provider,
                        const char *request_id, stt_json **err);
/* seg.words = make_word of each entry when list is an array (nothing when it is not). 0, or -1 on
 * oom (make_word returns NULL on oom). */
int stt_set_words(stt_arena *a, stt_json *seg, const stt_json *list,
                  stt_json *(*make_word)(stt_arena *a, const stt_json *w));
/* The language most segments carry (first seen wins a tie); NULL when none has one. */
const char *stt_common_language(const stt_json *segs);
/* A normalized segment with its sort keys; seq is its place in the provider's answer. */
typedef struct { long long start, channel; size_t seq; stt_json *seg; } stt_seg_ref;
/* The segs of refs as a new array in time order, then channel, then seq (a stable order). NULL
 * on oom. Sorts refs in place. */
stt_json *stt_segments_in_order(stt_arena *a, stt_seg_ref *refs, size_t n);

/* Submit option tables: a job key is known when it names an option (is_option) or is client
 * bookkeeping (model, force, id). Keys with an embedded NUL are never known. The first unknown
 * member of job, or NULL. */
const stt_json *stt_unknown_job_key(const stt_json *job, int (*is_option)(const char *key));

/* What option handlers share: refusals name the provider and the model. */
typedef struct {
  stt_arena *a;
  stt_json **err;
  const char *provider;
  const char *model;
} stt_opt_ctx;
void stt_opt_init(stt_opt_ctx *o, stt_arena *a, stt_json **err, const char *provider,
                  const char *model);
/* Set *err and return -1: "option X is not supported by <provider> model M<hint>" (unsupported),
 * "option X <what> (<provider> model M)" (invalid). */
int stt_opt_unsupported(const stt_opt_ctx *o, const char *opt, const char *hint);
int stt_opt_invalid(const stt_opt_ctx *o, const char *opt, const char *what);
/* obj[key] = v; -1 + *err (out of memory) when that fails. */
int stt_opt_put(const stt_opt_ctx *o, stt_json *obj, const char *key, stt_json *v);
/* obj[field] = v when v is a boolean, else invalid(opt). */
int stt_opt_put_bool(const stt_opt_ctx *o, stt_json *obj, const char *opt, const stt_json *v,
                     const char *field);
/* Merges job.extra (absent, an empty table, or an object of body fields) into target; else
 * invalid. 0 or -1 + *err. */
int stt_opt_merge_extra(const stt_opt_ctx *o, const stt_json *job, stt_json *target);
/* job.url, or the only entry of job.urls (a batch is refused: one file per task), NOT yet checked
 * to be a string; *opt names where it came from. NULL + *err when neither or both are given. */
const stt_json *stt_opt_one_url(const stt_opt_ctx *o, const stt_json *job, const char **opt);

/* Provider schemas */
extern const stt_provider stt_provider_dashscope;
extern const stt_provider stt_provider_volcengine;
extern const stt_provider stt_provider_volcengine_auc;
extern const stt_provider stt_provider_turing;
#endif
