/* json_roundtrip.c - libFuzzer target for the JSON parser and writer (csrc/json.c).
 *
 * Any input: stt_json_parse must not crash. When it parses: write -> parse must succeed and
 * write again to the very same bytes (the writer's output is a fixed point), and a deep copy
 * (stt_jclone) must serialize identically too. */
#include "fuzz.h"

static void write_or_die(stt_buf *b, const stt_json *j, const char *what) {
  stt_buf_init(b);
  if (stt_json_write(b, j) != 0) fuzz_fail(what, j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  stt_arena *a = stt_arena_new();
  char msg[200];
  stt_json *j1, *j2;
  stt_buf s1, s2, s3;
  if (!a) return 0;
  msg[0] = '\0';
  j1 = stt_json_parse(a, (const char *)data, size, msg, sizeof msg);
  if (!j1) {
    if (!msg[0]) fuzz_fail("parse failed without a message", NULL);
    stt_arena_free(a);
    return 0;
  }
  write_or_die(&s1, j1, "write of a parsed document failed");
  j2 = stt_json_parse(a, s1.data ? s1.data : "", s1.len, msg, sizeof msg);
  if (!j2) {
    fprintf(stderr, "re-parse error: %s\nwritten: %.2000s\n", msg, s1.data ? s1.data : "");
    fuzz_fail("the writer's output does not parse", j1);
  }
  write_or_die(&s2, j2, "write of the re-parsed document failed");
  if (s1.len != s2.len || memcmp(s1.data, s2.data, s1.len) != 0) {
    fprintf(stderr, "first:  %.2000s\nsecond: %.2000s\n", s1.data ? s1.data : "", s2.data ? s2.data : "");
    fuzz_fail("parse -> write -> parse -> write is not a fixed point", NULL);
  }
  write_or_die(&s3, stt_jclone(a, j1), "write of a clone failed");
  if (s1.len != s3.len || memcmp(s1.data, s3.data, s1.len) != 0)
    fuzz_fail("a clone serializes differently", j1);
  stt_buf_free(&s1);
  stt_buf_free(&s2);
  stt_buf_free(&s3);
  stt_arena_free(a);
  return 0;
}
