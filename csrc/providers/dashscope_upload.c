/* dashscope_upload.c - wire schema of DashScope's temporary file storage: a local file is posted
 * to an OSS bucket under an upload policy DashScope hands out, and the task then names it as
 * oss://<key> (the submit carries X-DashScope-OssResourceResolve: enable; dashscope.c). Pure: no
 * I/O, clock, env, globals, Lua.
 *
 * Facts: "Upload a local file to get a temporary URL"
 * (https://help.aliyun.com/zh/model-studio/get-temporary-file-url) and the official SDKs
 * (https://github.com/dashscope/dashscope-sdk-python dashscope/utils/oss_utils.py,
 * https://github.com/dashscope/dashscope-sdk-java .../utils/OSSUtils.java); OSS PostObject
 * (https://help.aliyun.com/zh/oss/developer-reference/postobject). Summary in
 * docs/providers.md#dashscope-temporary-storage:
 *   GET {base}/uploads?action=getPolicy&model=<model>   Authorization: Bearer <key>
 *       -> {request_id, data: {policy, signature, upload_dir, upload_host, expire_in_seconds,
 *           max_file_size_mb, capacity_limit_mb, oss_access_key_id, x_oss_object_acl,
 *           x_oss_forbid_overwrite}}
 *       The doc's table types every member as a string while its example has the three numbers
 *       as JSON numbers: both are accepted. Errors: DashScope's {request_id, code, message}.
 *   POST <upload_host>  multipart/form-data, in the SDKs' order: OSSAccessKeyId, Signature,
 *       policy, key (= upload_dir "/" file name), x-oss-object-acl, x-oss-forbid-overwrite,
 *       success_action_status = 200, x-oss-content-type, then the file (the doc: it must be the
 *       last field). 200 with an empty body; errors are OSS XML
 *       <Error><Code/><Message/><RequestId/>...</Error>.
 *
 * build(op):  upload_policy  args: api_key, base_url | region, workspace, model
 *             upload_form    args: policy (what parse("upload_policy") returned), name (the file
 *                            name, no '/'), path (the local file, streamed by the engine),
 *                            content_type
 *   -> upload_form's request has form = [[name, value], ...], form_file = {field, name, type},
 *      body_file = path, and key (the object key, for the oss:// URL)
 * parse(kind): upload_policy -> {policy, signature, upload_dir, upload_host, oss_access_key_id,
 *                               x_oss_object_acl?, x_oss_forbid_overwrite?, expire_in_seconds?,
 *                               max_file_size_mb?, capacity_limit_mb?, request_id}
 *              upload_form   -> {ok = true, request_id} (request_id: the x-oss-request-id header) */
#include "dashscope_upload.h"
#include "dashscope_common.h"   /* base URL, bearer, workspace header, DashScope's error objects */

#include <stdio.h>
#include <string.h>

#define P DS_PROVIDER

static stt_json *fail(stt_arena *a, stt_json **err, const char *kind, const char *msg) {
  if (err) *err = stt_make_error(a, P, kind, 0, NULL, NULL, 0, "dashscope upload: %s", msg);
  return NULL;
}

static stt_json *oom(stt_arena *a, stt_json **err) {
  stt_set_oom(a, err, P);
  return NULL;
}

/* A string that goes into a header, a URL or a form field: no control characters. */
static int clean(const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return 0;
  return 1;
}

/* ========================================================================================== */
/* build */

static stt_json *build_policy(stt_arena *a, const stt_json *args, stt_json **err) {
  const stt_json *model = stt_jget(args, "model");
  const char *base, *auth, *name;
  stt_json *req;
  if (!stt_jis(model, STT_JSTR) || model->slen == 0) return fail(a, err, "invalid", "upload_policy needs model");
  if (!(base = ds_base_url(a, args, err)) || !(auth = ds_bearer(a, args, err))) return NULL;
  if (!(name = stt_url_escape(a, model->s, model->slen))) return oom(a, err);
  /* query order as in both SDKs: action, then model */
  req = stt_req_new(a, "GET", stt_arena_printf(a, "%s/uploads?action=getPolicy&model=%s", base, name));
  /* Content-Type: the doc lists it (required) for this GET; the SDKs send Accept */
  if (!req || stt_req_header(a, req, "Authorization", auth) ||
      stt_req_header(a, req, "Accept", "application/json; charset=utf-8") ||
      stt_req_header(a, req, "Content-Type", "application/json"))
    return oom(a, err);
  return ds_workspace_header(a, req, args, err) ? NULL : req;
}

/* form[] += [name, value] */
static int field(stt_arena *a, stt_json *form, const char *name, const char *value) {
  stt_json *pair = stt_jarr(a);
  return !pair || stt_jpush(pair, stt_jstr(a, name)) || stt_jpush(pair, stt_jstr(a, value)) || stt_jpush(form, pair);
}

/* policy[member] as a clean string: required -> missing is an error; optional -> NULL. */
static const char *pol_str(stt_arena *a, const stt_json *pol, const char *member, int required, stt_json **err) {
  const stt_json *v = stt_jget(pol, member);
  if (!stt_jis(v, STT_JSTR) || v->slen == 0 || !clean(v->s, v->slen)) {
    if (required || (v && !stt_jis(v, STT_JNULL)))
      fail(a, err, "invalid", stt_arena_printf(a, "upload_form: policy.%s must be a non-empty string "
                                                  "(what parse(\"upload_policy\") returns)", member));
    return NULL;
  }
  return v->s;
}

static stt_json *build_form(stt_arena *a, const stt_json *args, stt_json **err) {
  const stt_json *pol = stt_jget(args, "policy"), *name = stt_jget(args, "name"), *path = stt_jget(args, "path");
  const stt_json *type = stt_jget(args, "content_type");
  const char *host, *dir, *akid, *sig, *policy, *acl, *forbid, *mime, *key;
  stt_json *req, *form, *file;
  *err = NULL;
  if (!stt_jis(pol, STT_JOBJ)) return fail(a, err, "invalid", "upload_form needs policy (from upload_policy)");
  if (!stt_jis(path, STT_JSTR) || path->slen == 0) return fail(a, err, "invalid", "upload_form needs path");
  /* the object key's last part: one file name, as the SDKs use it (no folders, no control bytes) */
  if (!stt_jis(name, STT_JSTR) || name->slen == 0 || name->slen > 255 || !clean(name->s, name->slen) ||
      memchr(name->s, '/', name->slen) || memchr(name->s, '\\', name->slen) || strcmp(name->s, ".") == 0 ||
      strcmp(name->s, "..") == 0)
    return fail(a, err, "invalid", "upload_form: name must be a file name (1 to 255 bytes, no '/', '\\' or "
                                   "control characters)");
  if (!(host = pol_str(a, pol, "upload_host", 1, err)) || !(dir = pol_str(a, pol, "upload_dir", 1, err)) ||
      !(akid = pol_str(a, pol, "oss_access_key_id", 1, err)) || !(sig = pol_str(a, pol, "signature", 1, err)) ||
      !(policy = pol_str(a, pol, "policy", 1, err)))
    return NULL;
  acl = pol_str(a, pol, "x_oss_object_acl", 0, err);
  forbid = pol_str(a, pol, "x_oss_forbid_overwrite", 0, err);
  if (*err) return NULL;
  if (strncmp(host, "https://", 8) != 0 && strncmp(host, "http://", 7) != 0)
    return fail(a, err, "protocol", "the upload policy's upload_host is no http(s) URL");
  mime = stt_jis(type, STT_JSTR) && type->slen > 0 && clean(type->s, type->slen) ? type->s
                                                                               : "application/octet-stream";
  /* upload_dir comes without a trailing slash (the doc's example); tolerate one */
  key = stt_arena_printf(a, "%.*s/%s", (int)(strlen(dir) - (dir[strlen(dir) - 1] == '/')), dir, name->s);
  req = stt_req_new(a, "POST", host);
  form = stt_jarr(a);
  file = stt_jobj(a);
  if (!key || !req || !form || !file) return oom(a, err);
  if (field(a, form, "OSSAccessKeyId", akid) || field(a, form, "Signature", sig) ||
      field(a, form, "policy", policy) || field(a, form, "key", key) ||
      (acl && field(a, form, "x-oss-object-acl", acl)) ||
      (forbid && field(a, form, "x-oss-forbid-overwrite", forbid)) ||
      field(a, form, "success_action_status", "200") || field(a, form, "x-oss-content-type", mime) ||
      stt_jset(a, file, "field", stt_jstr(a, "file")) || stt_jset(a, file, "name", stt_jstr(a, name->s)) ||
      stt_jset(a, file, "type", stt_jstr(a, mime)) || stt_jset(a, req, "form", form) ||
      stt_jset(a, req, "form_file", file) || stt_jset(a, req, "body_file", stt_jstrn(a, path->s, path->slen)) ||
      stt_jset(a, req, "key", stt_jstr(a, key)))
    return oom(a, err);
  return req;
}

stt_json *stt_dashscope_upload_build(stt_arena *a, const char *op, const stt_json *args, stt_json **err) {
  if (strcmp(op, "upload_policy") == 0) return build_policy(a, args, err);
  if (strcmp(op, "upload_form") == 0) return build_form(a, args, err);
  return fail(a, err, "invalid", stt_arena_printf(a, "unknown build op \"%.40s\"", op));
}

/* ========================================================================================== */
/* parse */

/* A size or count the doc types as a string and shows as a number: a non-negative number either
 * way ("100", 100, 0.5); anything else is left out. */
static int copy_count(stt_arena *a, stt_json *out, const stt_json *data, const char *member) {
  const stt_json *v = stt_jget(data, member);
  double n = -1;
  if (stt_jis(v, STT_JNUM)) {
    n = v->n;
  } else if (stt_jis(v, STT_JSTR) && v->slen > 0 && v->slen < 24) {
    const stt_json *num = stt_json_parse(a, v->s, v->slen, NULL, 0);   /* the same number grammar */
    if (stt_jis(num, STT_JNUM)) n = num->n;
  }
  if (!(n >= 0 && n <= 1e15)) return 0;                               /* NaN fails too */
  return stt_jset(a, out, member, n == (double)(long long)n ? stt_jint(a, (long long)n) : stt_jnum(a, n));
}

static stt_json *parse_policy(stt_arena *a, const stt_json *resp, long long status, stt_json **err) {
  static const char *const required[] = {"policy", "signature", "upload_dir", "upload_host", "oss_access_key_id"};
  static const char *const optional[] = {"x_oss_object_acl", "x_oss_forbid_overwrite"};
  const stt_json *root, *data;
  const char *rid;
  stt_json *out;
  size_t k;
  if (!(root = ds_body_json(a, resp, status, err))) return NULL;
  data = stt_jget(root, "data");
  if (!stt_jis(data, STT_JOBJ)) {
    if ((*err = ds_envelope_error(a, "dashscope upload", root, resp, status)) != NULL) return NULL;
    return fail(a, err, "protocol", "the policy answer has no data object");
  }
  rid = stt_jgetstr(root, "request_id");
  if (!rid) rid = stt_resp_header(resp, "x-request-id");
  if (!(out = stt_jobj(a))) return oom(a, err);
  for (k = 0; k < sizeof required / sizeof *required; k++) {
    const stt_json *v = stt_jget(data, required[k]);
    if (!stt_jis(v, STT_JSTR) || v->slen == 0 || !clean(v->s, v->slen)) {
      if (err) *err = stt_make_error(a, P, "protocol", (int)status, NULL, rid, 0,
                                     "dashscope upload: the policy answer lacks data.%s", required[k]);
      return NULL;
    }
    if (stt_jset(a, out, required[k], stt_jstrn(a, v->s, v->slen))) return oom(a, err);
  }
  for (k = 0; k < sizeof optional / sizeof *optional; k++) {
    const stt_json *v = stt_jget(data, optional[k]);
    /* the doc shows "true" for x_oss_forbid_overwrite; a JSON boolean is taken as its text */
    if (stt_jis(v, STT_JBOOL) && stt_jset(a, out, optional[k], stt_jstr(a, v->b ? "true" : "false")))
      return oom(a, err);
    if (stt_jis(v, STT_JSTR) && v->slen > 0 && clean(v->s, v->slen) &&
        stt_jset(a, out, optional[k], stt_jstrn(a, v->s, v->slen)))
      return oom(a, err);
  }
  if (copy_count(a, out, data, "expire_in_seconds") || copy_count(a, out, data, "max_file_size_mb") ||
      copy_count(a, out, data, "capacity_limit_mb") || ds_set_str(a, out, "request_id", rid))
    return oom(a, err);
  return out;
}

/* The text of <tag>...</tag> in an OSS XML error body (no nesting inside these elements). */
static const char *xml_text(stt_arena *a, const char *body, size_t n, const char *tag) {
  char open[32], close[32];
  const char *s, *e, *end = body + n;
  size_t ol, cl;
  snprintf(open, sizeof open, "<%s>", tag);
  snprintf(close, sizeof close, "</%s>", tag);
  ol = strlen(open);
  cl = strlen(close);
  for (s = body; s + ol <= end; s++) {
    if (memcmp(s, open, ol) != 0) continue;
    for (e = s + ol; e + cl <= end; e++)
      if (memcmp(e, close, cl) == 0) return stt_sanitize(a, s + ol, (size_t)(e - s - ol), 300);
    return NULL;
  }
  return NULL;
}

/* OSS PostObject errors (docs/providers.md#oss-errors): a policy that expired while the file was
 * on its way is worth a retry with a new policy; a refused policy, signature or form is not; 409
 * FileAlreadyExists (x-oss-forbid-overwrite) neither; 429 / 5xx are. */
static stt_json *form_error(stt_arena *a, const stt_json *resp, long long status) {
  const stt_json *body = stt_jget(resp, "body");
  const char *s = stt_jis(body, STT_JSTR) ? body->s : "";
  size_t n = stt_jis(body, STT_JSTR) ? body->slen : 0;
  const char *code = xml_text(a, s, n, "Code"), *msg = xml_text(a, s, n, "Message");
  const char *rid = xml_text(a, s, n, "RequestId");
  int retryable = 0;
  const char *kind = stt_status_kind(status, &retryable);
  if (!rid) rid = stt_resp_header(resp, "x-oss-request-id");
  if (status == 409 || status == 413 || (code && strcmp(code, "EntityTooLarge") == 0)) kind = "invalid";
  if (code && strcmp(code, "AccessDenied") == 0 && msg && strstr(msg, "expired")) {
    kind = "auth";
    retryable = 1;            /* the next attempt asks for a new policy */
  }
  if (code && strcmp(code, "RequestTimeTooSkewed") == 0) retryable = 0;
  return stt_with_retry_after(a, stt_make_error(a, P, kind, (int)status, code, rid, retryable,
                                                "dashscope upload: OSS HTTP %lld %s: %s", status, code ? code : "",
                                                msg ? msg : (n ? "(no message)" : "(empty body)")),
                              resp);
}

stt_json *stt_dashscope_upload_parse(stt_arena *a, const char *kind, const stt_json *resp, stt_json **err) {
  long long status = stt_jgetint(resp, "status", 0);
  stt_json *out;
  if (strcmp(kind, "upload_policy") == 0) {
    if (status < 200 || status > 299) {
      *err = ds_http_error(a, "dashscope upload", resp, status);
      return NULL;
    }
    return parse_policy(a, resp, status, err);
  }
  if (strcmp(kind, "upload_form") == 0) {
    if (status < 200 || status > 299) {
      *err = form_error(a, resp, status);
      return NULL;
    }
    out = stt_jobj(a);
    if (!out || stt_jset(a, out, "ok", stt_jbool(a, 1)) ||
        ds_set_str(a, out, "request_id", stt_resp_header(resp, "x-oss-request-id")))
      return oom(a, err);
    return out;
  }
  return fail(a, err, "invalid", stt_arena_printf(a, "unknown parse kind \"%.40s\"", kind));
}
