/* provider_parse.c - libFuzzer target for every provider's parse(), for every kind.
 *
 * Input layout (so a seed file is easy to write by hand):
 *   byte 0   picks the provider (byte % providers) and the kind ((byte / providers) % kinds)
 *   byte 1   picks the HTTP status from `statuses`
 *   then     header lines "name: value\n" up to an empty line ("\n\n"); without an empty line
 *            there are no headers and everything after byte 1 is the body. Names are lower-cased,
 *            as the binding does. Pseudo headers fill the rest of resp: ":model" -> resp.model,
 *            ":request-id" -> resp.request_id, ":task-id" / ":task-model" -> resp.task.id / .model.
 *   the rest the body (any bytes, NULs included).
 * Byte 1 = 0xFF instead: the rest is JSON and IS the resp DOM, member types and all (a task table
 * read back from a journal, a status that is a string ...): parse must cope with any shape.
 * Invariants: NULL comes with an error object of a documented kind; "result" answers carry
 * segments as an array; "poll" answers carry a documented state; nested errors (poll.error,
 * files[].error) are error objects too; every answer serializes to JSON that parses. */
#include "fuzz.h"

#include <ctype.h>

static const char *const kinds[] = {"submit", "poll", "cancel", "result", "vocabulary_create",
                                    "vocabulary_list", "vocabulary_query", "vocabulary_update",
                                    "vocabulary_delete", "bogus", "list", "upload_policy", "upload_form"};
#define NKINDS (sizeof kinds / sizeof kinds[0])
static const int statuses[] = {200, 200, 200, 200, 201, 202, 204, 299, 400, 401, 403, 404, 408, 409,
                               413, 429, 500, 502, 503, 504, 0, 100, 301, 302, 304, 600, 999, -1};
#define NSTATUSES (sizeof statuses / sizeof statuses[0])

/* Adds one "name: value" line to resp (headers, or a pseudo header). */
static void add_header(stt_arena *a, stt_json *resp, stt_json *headers, stt_json *task, const char *line,
                       size_t n) {
  const char *from = (n && line[0] == ':') ? line + 1 : line;   /* a pseudo name starts with ':' */
  const char *colon = memchr(from, ':', (size_t)(line + n - from));
  const char *v;
  char *name;
  size_t i, nl;
  if (!colon) return;
  nl = (size_t)(colon - line);
  for (v = colon + 1; v < line + n && *v == ' '; v++) {}
  name = stt_arena_strndup(a, line, nl);
  if (!name) return;
  for (i = 0; i < nl; i++) name[i] = (char)tolower((unsigned char)name[i]);
  if (strcmp(name, ":model") == 0) stt_jset(a, resp, "model", stt_jstrn(a, v, (size_t)(line + n - v)));
  else if (strcmp(name, ":request-id") == 0) stt_jset(a, resp, "request_id", stt_jstrn(a, v, (size_t)(line + n - v)));
  else if (strcmp(name, ":task-id") == 0) stt_jset(a, task, "id", stt_jstrn(a, v, (size_t)(line + n - v)));
  else if (strcmp(name, ":task-model") == 0) stt_jset(a, task, "model", stt_jstrn(a, v, (size_t)(line + n - v)));
  else stt_jset(a, headers, name, stt_jstrn(a, v, (size_t)(line + n - v)));
}

static const char *const states[] = {"queued", "running", "succeeded", "failed", "canceled"};

static void check_answer(const char *provider, const char *kind, const stt_json *out) {
  char where[120];
  const stt_json *f;
  snprintf(where, sizeof where, "%s parse(%s)", provider, kind);
  if (!stt_jis(out, STT_JOBJ)) fuzz_fail("parse answered something that is not an object", out);
  if (strcmp(kind, "result") == 0 && !stt_jis(stt_jget(out, "segments"), STT_JARR))
    fuzz_fail("a result without a segments array", out);
  if (strcmp(kind, "poll") == 0) {
    const char *st = stt_jgetstr(out, "state");
    size_t i, ok = 0;
    for (i = 0; st && i < sizeof states / sizeof states[0]; i++) ok |= strcmp(st, states[i]) == 0;
    if (!ok) fuzz_fail("a poll answer without a documented state", out);
    if (stt_jget(out, "result") && !stt_jis(stt_jget(stt_jget(out, "result"), "segments"), STT_JARR))
      fuzz_fail("a poll answer whose inline result has no segments array", out);
    if (stt_jget(out, "error")) fuzz_check_error(stt_jget(out, "error"), where);
    for (f = stt_jis(stt_jget(out, "files"), STT_JARR) ? stt_jget(out, "files")->child : NULL; f; f = f->next)
      if (stt_jget(f, "error")) fuzz_check_error(stt_jget(f, "error"), where);
  }
  fuzz_check_serializes(out, where);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *s = (const char *)data, *end = s + size, *blank;
  int np = fuzz_provider_count();
  const stt_provider *p;
  const char *kind;
  stt_arena *a;
  stt_json *resp, *headers, *task, *out, *err = NULL;
  if (size < 2 || np == 0) return 0;
  p = stt_provider_at(data[0] % np);
  kind = kinds[(size_t)(data[0] / np) % NKINDS];
  if (!(a = stt_arena_new())) return 0;
  resp = stt_jobj(a);
  headers = stt_jobj(a);
  task = stt_jobj(a);
  if (!resp || !headers || !task) abort();
  s += 2;
  if (data[1] == 0xFF) {
    resp = stt_json_parse(a, s, size - 2, NULL, 0);
    if (stt_jis(resp, STT_JOBJ) || stt_jis(resp, STT_JARR)) goto parse;   /* the binding passes a table */
    stt_arena_free(a);
    return 0;
  }
  stt_jset(a, resp, "status", stt_jint(a, statuses[data[1] % NSTATUSES]));
  /* The header block ends at the first empty line; "\n\n" right away means headers: none. */
  blank = size > 2 ? memmem(s, (size_t)(end - s), "\n\n", 2) : NULL;
  if (blank) {
    while (s < blank) {
      const char *eol = memchr(s, '\n', (size_t)(blank - s));
      if (!eol) eol = blank;
      add_header(a, resp, headers, task, s, (size_t)(eol - s));
      s = eol + 1;
    }
    s = blank + 2;
  }
  stt_jset(a, resp, "headers", headers);
  stt_jset(a, resp, "body", stt_jstrn(a, s, (size_t)(end - s)));
  if (task->count) stt_jset(a, resp, "task", task);
parse:
  out = p->parse(a, kind, resp, &err);
  fuzz_debug(p->name, out, err);
  if (!out) {
    char where[120];
    snprintf(where, sizeof where, "%s parse(%s) failed", p->name, kind);
    fuzz_check_error(err, where);
    fuzz_check_serializes(err, where);
  } else {
    check_answer(p->name, kind, out);
  }
  stt_arena_free(a);
  return 0;
}
