/* provider_build.c - libFuzzer target for every provider's build(), for every op.
 *
 * Input layout:
 *   byte 0   picks the provider (byte % providers) and the op ((byte / providers) % ops)
 *   byte 1   flags: bit 0 set = leave api_key / app_key / access_key as the input has them
 *            (exercises the key checks); clear = they are FUZZ_FAKE_KEY
 *   the rest JSON: an object is the args DOM; anything else (or nothing that parses) becomes
 *            args = {job = <it>} (the binding always hands build a table).
 * Invariants: build never crashes and answers either a request or an error object of a documented
 * kind; a request is {method, url, headers = [[name, value], ...], body?} of strings (a form:
 * form = [[name, value], ...] of strings without control bytes, form_file {field, name, type} and
 * body_file; no form without a file part; hotwords:
 * {field, value}); the fake key never appears in an error, nor in a request's URL or body. */
#include "fuzz.h"

static const char *const ops[] = {"submit", "poll", "cancel", "fetch", "hotwords", "vocabulary_create",
                                  "vocabulary_list", "vocabulary_query", "vocabulary_update",
                                  "vocabulary_delete", "bogus", "list", "upload_policy", "upload_form"};
#define NOPS (sizeof ops / sizeof ops[0])

static void check_request(const stt_json *req, int check_key) {
  const stt_json *h, *body = stt_jget(req, "body");
  if (!stt_jgetstr(req, "method") || !stt_jgetstr(req, "url") || !stt_jis(stt_jget(req, "headers"), STT_JARR))
    fuzz_fail("a request without method, url and headers", req);
  for (h = stt_jget(req, "headers")->child; h; h = h->next)
    if (!stt_jis(h, STT_JARR) || h->count != 2 || !stt_jis(h->child, STT_JSTR) || !stt_jis(h->last, STT_JSTR))
      fuzz_fail("a request header that is not a [name, value] pair of strings", req);
  if (body && !stt_jis(body, STT_JSTR)) fuzz_fail("a request body that is not a string", req);
  if ((h = stt_jget(req, "form")) != NULL) {
    const stt_json *f, *file = stt_jget(req, "form_file");
    if (!stt_jis(h, STT_JARR) || !stt_jis(file, STT_JOBJ) || !stt_jgetstr(file, "field") ||
        !stt_jgetstr(file, "name") || !stt_jgetstr(req, "body_file"))
      fuzz_fail("a form without its file part and body_file", req);
    for (f = h->child; f; f = f->next) {
      size_t i;
      if (!stt_jis(f, STT_JARR) || f->count != 2 || !stt_jis(f->child, STT_JSTR) || !stt_jis(f->last, STT_JSTR))
        fuzz_fail("a form field that is not a [name, value] pair of strings", req);
      for (i = 0; i < f->last->slen; i++)
        if ((unsigned char)f->last->s[i] < 0x20) fuzz_fail("a control byte in a form field", req);
    }
    if (stt_jgetstr(file, "name") && strpbrk(stt_jgetstr(file, "name"), "/\\\r\n"))
      fuzz_fail("a form file name that is no file name", req);
    if (check_key && fuzz_dom_contains(h, FUZZ_FAKE_KEY)) fuzz_fail("the API key leaked into a form", req);
  }
  if (check_key && (fuzz_dom_contains(stt_jget(req, "url"), FUZZ_FAKE_KEY) || fuzz_dom_contains(body, FUZZ_FAKE_KEY)))
    fuzz_fail("the API key leaked into a request URL or body", req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int np = fuzz_provider_count(), check_key;
  const stt_provider *p;
  const char *op;
  stt_arena *a;
  stt_json *in, *args, *req, *err = NULL;
  if (size < 2 || np == 0) return 0;
  p = stt_provider_at(data[0] % np);
  op = ops[(size_t)(data[0] / np) % NOPS];
  if (!(a = stt_arena_new())) return 0;
  in = stt_json_parse(a, (const char *)data + 2, size - 2, NULL, 0);
  if (stt_jis(in, STT_JOBJ)) {
    args = in;
  } else {
    if (!(args = stt_jobj(a))) abort();
    if (in) stt_jset(a, args, "job", in);
  }
  /* An input that spells the fake key itself (the fuzzer learns it from the checks below) may
   * legitimately see it echoed, e.g. as a URL: the leak checks only hold when it does not. */
  check_key = !fuzz_dom_contains(args, FUZZ_FAKE_KEY);
  if (!(data[1] & 1)) {
    stt_jset(a, args, "api_key", stt_jstr(a, FUZZ_FAKE_KEY));
    stt_jset(a, args, "app_key", stt_jstr(a, FUZZ_FAKE_KEY));
    stt_jset(a, args, "access_key", stt_jstr(a, FUZZ_FAKE_KEY));
  }
  req = p->build(a, op, args, &err);
  fuzz_debug(p->name, req, err);
  if (!req) {
    char where[120];
    snprintf(where, sizeof where, "%s build(%s) failed", p->name, op);
    fuzz_check_error(err, where);
    fuzz_check_serializes(err, where);
    if (check_key && fuzz_dom_contains(err, FUZZ_FAKE_KEY)) fuzz_fail("the API key leaked into an error", err);
  } else {
    if (strcmp(op, "hotwords") == 0) {
      if (!stt_jgetstr(req, "field") || !stt_jget(req, "value"))
        fuzz_fail("a hotwords answer without field and value", req);
      if (check_key && fuzz_dom_contains(req, FUZZ_FAKE_KEY)) fuzz_fail("the API key leaked into hot words", req);
    } else {
      check_request(req, check_key);
    }
    fuzz_check_serializes(req, "build");
  }
  stt_arena_free(a);
  return 0;
}
