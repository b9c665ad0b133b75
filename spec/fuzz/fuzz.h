/* fuzz.h - invariants the libFuzzer targets in spec/fuzz/ share (`make fuzz`).
 *
 * A violated invariant calls fuzz_fail(), which prints what broke and aborts: libFuzzer then
 * saves the input under build/fuzz/artifacts/ and `make fuzz` fails. Header-only, because every
 * target is its own program linked against the pure C sources (json.c, providers.c, providers/). */
#ifndef STT_FUZZ_H
#define STT_FUZZ_H
#define _GNU_SOURCE 1   /* memmem */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "provider.h"

/* What build() receives as api_key / app_key / access_key; no output may ever contain it. */
#define FUZZ_FAKE_KEY "sk-FUZZ-7f3a9c1e5b-SECRET-KEY-do-not-leak"

static inline void fuzz_fail(const char *what, const stt_json *j) {
  stt_buf b;
  stt_buf_init(&b);
  if (j) stt_json_write(&b, j);
  fprintf(stderr, "fuzz invariant violated: %s\n  object: %.2000s\n", what, b.data ? b.data : "(none)");
  stt_buf_free(&b);
  abort();
}

/* The kinds provider.h documents for error objects. */
static inline int fuzz_known_kind(const char *k) {
  static const char *const kinds[] = {"auth", "invalid", "unsupported", "throttled", "quota", "server",
                                      "network", "timeout", "protocol", "task_failed", "canceled",
                                      "not_found"};
  size_t i;
  for (i = 0; k && i < sizeof kinds / sizeof kinds[0]; i++)
    if (strcmp(k, kinds[i]) == 0) return 1;
  return 0;
}

/* An error object: an object whose kind is a documented kind and whose message is a string. */
static inline void fuzz_check_error(const stt_json *e, const char *where) {
  char what[160];
  snprintf(what, sizeof what, "%s: error object without a documented kind and a message", where);
  if (!stt_jis(e, STT_JOBJ) || !fuzz_known_kind(stt_jgetstr(e, "kind")) || !stt_jgetstr(e, "message"))
    fuzz_fail(what, e);
}

/* 1 when needle occurs in any string (value or member name) of j's tree. */
static inline int fuzz_dom_contains(const stt_json *j, const char *needle) {
  const stt_json *c;
  size_t n = strlen(needle);
  if (!j) return 0;
  if (j->key && memmem(j->key, j->klen, needle, n)) return 1;
  if (j->type == STT_JSTR && memmem(j->s, j->slen, needle, n)) return 1;
  for (c = (j->type == STT_JARR || j->type == STT_JOBJ) ? j->child : NULL; c; c = c->next)
    if (fuzz_dom_contains(c, needle)) return 1;
  return 0;
}

/* Serializes j (walks the whole tree; a malformed DOM trips ASan here) and checks it parses back. */
static inline void fuzz_check_serializes(const stt_json *j, const char *where) {
  stt_buf b;
  stt_arena *a;
  char msg[200];
  stt_buf_init(&b);
  if (stt_json_write(&b, j) != 0) fuzz_fail(where, j);
  a = stt_arena_new();
  if (!a || !stt_json_parse(a, b.data ? b.data : "", b.len, msg, sizeof msg)) {
    fprintf(stderr, "%s: its serialization does not parse: %s\n", where, msg);
    fuzz_fail(where, j);
  }
  stt_arena_free(a);
  stt_buf_free(&b);
}

/* FUZZ_DEBUG=1 build/fuzz/bin/<target> FILE... prints what each input produced (seed writing). */
static inline void fuzz_debug(const char *where, const stt_json *out, const stt_json *err) {
  stt_buf b;
  if (!getenv("FUZZ_DEBUG")) return;
  stt_buf_init(&b);
  stt_json_write(&b, out ? out : err);
  fprintf(stderr, "%s -> %s %.600s\n", where, out ? "ok" : "error", b.data ? b.data : "(null)");
  stt_buf_free(&b);
}

/* The providers in the registry (new ones are covered without touching the targets). */
static inline int fuzz_provider_count(void) {
  int n = 0;
  while (stt_provider_at(n)) n++;
  return n;
}
#endif
