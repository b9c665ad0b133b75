/* bodysrc.c - see bodysrc.h. The base64 encoder is the few lines of RFC 4648 (standard alphabet,
 * '=' padding) run over 3-byte groups as they are read; OpenSSL's EVP_Encode inserts line breaks,
 * which a JSON string cannot carry. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "bodysrc.h"

#define CHUNK (64 * 1024)

struct stt_bodysrc {
  char *prefix, *suffix;
  size_t plen, slen;
  FILE *f;
  long long file_size;
  int base64;
  int phase;                     /* 0 prefix, 1 file, 2 suffix, 3 done */
  size_t pos;                    /* within prefix or suffix */
  long long file_read;           /* bytes of the file consumed */
  unsigned char in[CHUNK];       /* raw file bytes waiting to be encoded */
  size_t in_len, in_pos;
  char out[4];                   /* encoded bytes of a group not yet handed out */
  size_t out_len, out_pos;
  long long sent;
};

long long stt_base64_len(long long n) { return (n + 2) / 3 * 4; }

stt_bodysrc *stt_bodysrc_open(const char *prefix, size_t plen, const char *path, int base64,
                              const char *suffix, size_t slen, long long *total, char *err, size_t errlen) {
  struct stat st;
  stt_bodysrc *s = calloc(1, sizeof *s);
  if (!s) { snprintf(err, errlen, "out of memory"); return NULL; }
  s->prefix = malloc(plen + 1);
  s->suffix = malloc(slen + 1);
  if (!s->prefix || !s->suffix) { snprintf(err, errlen, "out of memory"); stt_bodysrc_free(s); return NULL; }
  if (plen) memcpy(s->prefix, prefix, plen);
  if (slen) memcpy(s->suffix, suffix, slen);
  s->plen = plen;
  s->slen = slen;
  s->base64 = base64;
  s->f = fopen(path, "rb");
  if (!s->f || fstat(fileno(s->f), &st) != 0) {
    snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
    stt_bodysrc_free(s);
    return NULL;
  }
  if (!S_ISREG(st.st_mode)) {
    snprintf(err, errlen, "%s is not a regular file", path);
    stt_bodysrc_free(s);
    return NULL;
  }
  s->file_size = (long long)st.st_size;
  *total = (long long)plen + (base64 ? stt_base64_len(s->file_size) : s->file_size) + (long long)slen;
  return s;
}

static void encode_group(const unsigned char *g, size_t n, char out[4]) {
  static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  unsigned v = (unsigned)g[0] << 16 | (n > 1 ? (unsigned)g[1] << 8 : 0) | (n > 2 ? g[2] : 0);
  out[0] = abc[v >> 18 & 63];
  out[1] = abc[v >> 12 & 63];
  out[2] = n > 1 ? abc[v >> 6 & 63] : '=';
  out[3] = n > 2 ? abc[v & 63] : '=';
}

/* Refill s->in from the file; -1 on a read error or a file shorter than announced. */
static int refill(stt_bodysrc *s) {
  size_t left = s->in_len - s->in_pos, got;
  long long want = s->file_size - s->file_read;
  if (left) memmove(s->in, s->in + s->in_pos, left);
  s->in_len = left;
  s->in_pos = 0;
  if (want <= 0) return 0;
  got = fread(s->in + left, 1, (size_t)(want < (long long)(CHUNK - left) ? want : (long long)(CHUNK - left)), s->f);
  if (got == 0) return -1;                   /* an error, or the file shrank since it was opened */
  s->in_len += got;
  s->file_read += (long long)got;
  return 0;
}

static size_t read_file_part(stt_bodysrc *s, char *buf, size_t n) {
  size_t k = 0;
  if (!s->base64) {
    long long want = s->file_size - s->file_read;
    size_t got;
    if (want <= 0) return 0;
    got = fread(buf, 1, (size_t)(want < (long long)n ? want : (long long)n), s->f);
    if (got == 0) return (size_t)-1;
    s->file_read += (long long)got;
    return got;
  }
  while (k < n) {
    size_t avail;
    if (s->out_pos < s->out_len) { buf[k++] = s->out[s->out_pos++]; continue; }
    avail = s->in_len - s->in_pos;
    if (avail < 3 && s->file_read < s->file_size) {
      if (refill(s)) return (size_t)-1;
      continue;
    }
    if (avail == 0) break;                                     /* the file is done */
    if (avail >= 3 && n - k >= 4) {                            /* whole groups straight into buf */
      while (avail >= 3 && n - k >= 4) {
        encode_group(s->in + s->in_pos, 3, buf + k);
        s->in_pos += 3;
        avail -= 3;
        k += 4;
      }
      continue;
    }
    encode_group(s->in + s->in_pos, avail < 3 ? avail : 3, s->out);
    s->in_pos += avail < 3 ? avail : 3;
    s->out_len = 4;
    s->out_pos = 0;
  }
  return k;
}

static int file_done(const stt_bodysrc *s) {
  return s->file_read >= s->file_size && s->in_pos >= s->in_len && s->out_pos >= s->out_len;
}

size_t stt_bodysrc_read(stt_bodysrc *s, char *buf, size_t n) {
  size_t k = 0;
  while (k < n && s->phase < 3) {
    if (s->phase == 0 || s->phase == 2) {
      const char *part = s->phase == 0 ? s->prefix : s->suffix;
      size_t len = s->phase == 0 ? s->plen : s->slen, m = len - s->pos;
      if (m > n - k) m = n - k;
      if (m) memcpy(buf + k, part + s->pos, m);
      s->pos += m;
      k += m;
      if (s->pos == len) { s->phase++; s->pos = 0; }
    } else if (file_done(s)) {
      s->phase = 2;
    } else {
      size_t got = read_file_part(s, buf + k, n - k);
      if (got == (size_t)-1 || (got == 0 && !file_done(s))) return (size_t)-1;
      k += got;
    }
  }
  s->sent += (long long)k;
  return k;
}

int stt_bodysrc_rewind(stt_bodysrc *s) {
  if (fseek(s->f, 0, SEEK_SET) != 0) return -1;
  s->phase = 0;
  s->pos = 0;
  s->file_read = 0;
  s->in_len = s->in_pos = 0;
  s->out_len = s->out_pos = 0;
  s->sent = 0;
  return 0;
}

long long stt_bodysrc_sent(const stt_bodysrc *s) { return s->sent; }

void stt_bodysrc_free(stt_bodysrc *s) {
  if (!s) return;
  if (s->f) fclose(s->f);
  free(s->prefix);
  free(s->suffix);
  free(s);
}
