/* decode.c — see decode.h. */
#include "decode.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static int hexval(char ch) {
  if(ch >= '0' && ch <= '9') return ch - '0';
  if(ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if(ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

size_t decode_unescape(char *s) {
  char *w = s;
  for(const char *r = s; *r;) {
    int hi, lo;
    if(r[0] == '%' && (hi = hexval(r[1])) >= 0 && (lo = hexval(r[2])) >= 0 && (hi | lo)) {
      *w++ = (char)(hi << 4 | lo);
      r += 3;
    } else {
      *w++ = *r++;
    }
  }
  *w = '\0';
  return (size_t)(w - s);
}

int decode_form_field(const char *body, size_t len, const char *name, char *out, size_t size) {
  size_t nl = strlen(name);
  for(size_t i = 0; i < len;) {
    size_t end = i;
    while(end < len && body[end] != '&')
      end++;
    if(end - i > nl && memcmp(body + i, name, nl) == 0 && body[i + nl] == '=') {
      size_t o = 0;
      for(size_t k = i + nl + 1; k < end; k++) {
        int ch = (unsigned char)body[k];
        if(ch == '+') {
          ch = ' ';
        } else if(ch == '%') {
          /* exactly two hex digits: strtol took "%+1", "% 1" and "%2"
           * followed by a NUL byte for escapes */
          int hi = k + 2 < end ? hexval(body[k + 1]) : -1, lo = hi >= 0 ? hexval(body[k + 2]) : -1;
          if(lo < 0 || (hi | lo) == 0) return 0; /* %00 and junk refused */
          ch = hi << 4 | lo;
          k += 2;
        }
        if(o + 1 >= size) return 0;
        out[o++] = (char)ch;
      }
      out[o] = '\0';
      return 1;
    }
    i = end + 1;
  }
  return 0;
}

int64_t decode_arg_int(const char *v, int64_t def, int64_t lo, int64_t hi) {
  if(!v || !*v || strlen(v) > 9) return def;
  char *e;
  long long n = strtoll(v, &e, 10);
  return *e || n < lo || n > hi ? def : n;
}

sqr_rc decode_gunzip(const char *in, size_t inlen, size_t max, char **out, size_t *outlen) {
  z_stream z;
  memset(&z, 0, sizeof z);
  if(inflateInit2(&z, 15 + 16) != Z_OK) return SQR_ENOMEM;
  size_t cap = inlen * 4 + 1024;
  if(cap > max + 1) cap = max + 1;
  char *buf = malloc(cap + 1);
  sqr_rc rc = SQR_OK;
  if(!buf) {
    inflateEnd(&z);
    return SQR_ENOMEM;
  }
  z.next_in = (Bytef *)in;
  z.avail_in = (uInt)inlen;
  for(;;) {
    if(z.total_out == cap) {
      if(cap > max) {
        rc = SQR_ENOSPC;
        break;
      }
      size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
      char *nb = realloc(buf, ncap + 1);
      if(!nb) {
        rc = SQR_ENOMEM;
        break;
      }
      buf = nb;
      cap = ncap;
    }
    z.next_out = (Bytef *)buf + z.total_out;
    z.avail_out = (uInt)(cap - z.total_out);
    int zr = inflate(&z, Z_NO_FLUSH);
    if(zr == Z_STREAM_END) break;
    if(zr == Z_BUF_ERROR && z.avail_in == 0) {
      rc = SQR_EINVAL; /* truncated */
      break;
    }
    if(zr != Z_OK && zr != Z_BUF_ERROR) {
      rc = SQR_EINVAL;
      break;
    }
  }
  if(!rc && z.total_out > max) rc = SQR_ENOSPC;
  *outlen = z.total_out;
  inflateEnd(&z);
  if(rc) {
    free(buf);
    return rc;
  }
  buf[*outlen] = '\0';
  *out = buf;
  return SQR_OK;
}
