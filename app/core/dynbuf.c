/* dynbuf.c — see dynbuf.h. */
#include "dynbuf.h"
#include "crypto.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPLACEMENT "\xEF\xBF\xBD"
#define FIRST_CAP   256

void dynbuf_init(dynbuf *b, size_t toobig) {
  memset(b, 0, sizeof *b);
  b->toobig = toobig;
}

void dynbuf_secret(dynbuf *b) {
  b->secret = 1;
}

void dynbuf_free(dynbuf *b) {
  if(!b) return;
  if(b->secret && b->p) crypto_wipe(b->p, b->cap);
  free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
  b->err = SQR_OK;
}

void dynbuf_reset(dynbuf *b) {
  if(b->secret && b->p) crypto_wipe(b->p, b->len);
  b->len = 0;
  b->err = SQR_OK;
  if(b->p) b->p[0] = '\0';
}

/* Room for n more bytes and the NUL, or the sticky error. */
static sqr_rc grow(dynbuf *b, size_t n) {
  if(b->err) return b->err;
  if(n >= b->toobig || b->len + n + 1 > b->toobig) return b->err = SQR_ETOOBIG;
  if(b->len + n + 1 <= b->cap) return SQR_OK;
  size_t cap = b->cap ? b->cap : FIRST_CAP;
  while(cap < b->len + n + 1)
    cap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
  if(cap > b->toobig) cap = b->toobig;
  char *p;
  if(b->secret) {
    if((p = malloc(cap)) && b->p) {
      memcpy(p, b->p, b->len + 1);
      crypto_wipe(b->p, b->cap);
      free(b->p);
    }
  } else {
    p = realloc(b->p, cap);
  }
  if(!p) return b->err = SQR_ENOMEM;
  b->p = p;
  b->cap = cap;
  return SQR_OK;
}

sqr_rc dynbuf_add(dynbuf *b, const void *mem, size_t n) {
  sqr_rc rc = grow(b, n);
  if(rc) return rc;
  if(n) memcpy(b->p + b->len, mem, n);
  b->len += n;
  b->p[b->len] = '\0';
  return SQR_OK;
}

sqr_rc dynbuf_adds(dynbuf *b, const char *s) {
  return dynbuf_add(b, s, strlen(s));
}

sqr_rc dynbuf_addf(dynbuf *b, const char *fmt, ...) {
  if(b->err) return b->err;
  char small[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if(n < 0) return b->err = SQR_EINVAL;
  if((size_t)n < sizeof small) return dynbuf_add(b, small, (size_t)n);
  sqr_rc rc = grow(b, (size_t)n);
  if(rc) return rc;
  va_start(ap, fmt);
  vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
  return SQR_OK;
}

/* Length of the valid UTF-8 sequence at s (1..4), 0 if invalid. */
static size_t utf8_len(const unsigned char *s) {
  unsigned c = s[0];
  if(c < 0x80) return 1;
  if(c >= 0xC2 && c <= 0xDF) return (s[1] & 0xC0) == 0x80 ? 2 : 0;
  if(c >= 0xE0 && c <= 0xEF) {
    if((s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) return 0;
    if(c == 0xE0 && s[1] < 0xA0) return 0; /* overlong */
    if(c == 0xED && s[1] > 0x9F) return 0; /* surrogates */
    return 3;
  }
  if(c >= 0xF0 && c <= 0xF4) {
    if((s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80) return 0;
    if(c == 0xF0 && s[1] < 0x90) return 0;
    if(c == 0xF4 && s[1] > 0x8F) return 0;
    return 4;
  }
  return 0;
}

sqr_rc dynbuf_add_json(dynbuf *b, const char *s) {
  for(const unsigned char *p = (const unsigned char *)s; *p && !b->err;) {
    size_t n = utf8_len(p);
    if(n == 0) {
      dynbuf_adds(b, REPLACEMENT);
      p++;
    } else if(n > 1) {
      dynbuf_add(b, p, n);
      p += n;
    } else {
      if(*p == '"' || *p == '\\') {
        char e[2] = {'\\', (char)*p};
        dynbuf_add(b, e, 2);
      } else if(*p < 0x20 || *p == 0x7F) {
        dynbuf_addf(b, "\\u%04x", *p);
      } else {
        dynbuf_add(b, p, 1);
      }
      p++;
    }
  }
  return b->err;
}

sqr_rc dynbuf_add_html(dynbuf *b, const char *s) {
  for(const unsigned char *p = (const unsigned char *)s; *p && !b->err;) {
    size_t n = utf8_len(p);
    if(n == 0) {
      dynbuf_adds(b, REPLACEMENT);
      p++;
      continue;
    }
    switch(n == 1 ? *p : 0) {
    case '&':
      dynbuf_adds(b, "&amp;");
      break;
    case '<':
      dynbuf_adds(b, "&lt;");
      break;
    case '>':
      dynbuf_adds(b, "&gt;");
      break;
    case '"':
      dynbuf_adds(b, "&quot;");
      break;
    case '\'':
      dynbuf_adds(b, "&#39;");
      break;
    default:
      if(n == 1 && (*p < 0x20 || *p == 0x7F) && *p != '\t' && *p != '\n')
        dynbuf_adds(b, REPLACEMENT);
      else
        dynbuf_add(b, p, n);
    }
    p += n;
  }
  return b->err;
}

sqr_rc dynbuf_add_csv(dynbuf *b, const char *s) {
  /* RFC 4180: quote a field holding a comma, quote, CR or LF; double the
   * quotes. A leading = + - @ (or tab / CR, which some spreadsheets skip
   * before reading a formula) gets a ' so the cell is text, not a formula
   * (OWASP's CSV injection advice). */
  int quote = strpbrk(s, ",\"\r\n") != NULL;
  int formula = s[0] && strchr("=+-@\t\r", s[0]) != NULL;
  if(quote) dynbuf_add(b, "\"", 1);
  if(formula) dynbuf_add(b, "'", 1);
  for(const unsigned char *p = (const unsigned char *)s; *p && !b->err;) {
    size_t n = utf8_len(p);
    if(n == 0) {
      dynbuf_adds(b, REPLACEMENT);
      p++;
    } else {
      if(*p == '"') dynbuf_add(b, "\"", 1);
      dynbuf_add(b, p, n);
      p += n;
    }
  }
  if(quote) dynbuf_add(b, "\"", 1);
  return b->err;
}

const char *dynbuf_ptr(const dynbuf *b) {
  return b->p && !b->err ? b->p : "";
}

size_t dynbuf_len(const dynbuf *b) {
  return b->err ? 0 : b->len;
}

sqr_rc dynbuf_error(const dynbuf *b) {
  return b->err;
}

char *dynbuf_take(dynbuf *b, size_t *len) {
  char *p = NULL;
  size_t n = 0;
  if(!b->err) {
    p = b->p ? b->p : strdup("");
    n = b->p ? b->len : 0;
    b->p = NULL;
    b->len = b->cap = 0;
  }
  dynbuf_free(b);
  if(len) *len = n;
  return p;
}
