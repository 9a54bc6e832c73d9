/* fuzz_dash_query.c — what a browser sends the dashboard: query
 * arguments (/dash?sort=&dir=&page=, /v1/stats?from=&to=&store=), each
 * key and value percent-decoded by the server's unescape callback
 * (decode_unescape), and the login form body (decode_form_field).
 *
 * Input: "QUERY\nBODY" (no '\n': all query). The query is split as
 * libmicrohttpd splits it ('&' between arguments, the first '=' between
 * key and value, '+' a space), then each part is decoded by our callback.
 * Checks, beyond no crash: both decoders agree with the strict reference
 * decoders below (%XX with two hex digits, never %00; anything else
 * stays as it is in a query and refuses the form field), their output
 * fits and holds no NUL; integer arguments come back in range or as the
 * default; a date the stats accept formats back to the same text. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "decode.h"
#include "hqdb_stats.h"
#include "livecode.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int hex(char c) {
  const char *digits = "0123456789abcdef0123456789ABCDEF", *p = c ? strchr(digits, c) : NULL;
  return p ? (int)((p - digits) % 16) : -1;
}

/* One %XX at s: its byte (1..255), or -1 when s holds no valid escape. */
static int escape_at(const char *s, const char *end) {
  if(end - s < 3 || s[0] != '%' || hex(s[1]) < 0 || hex(s[2]) < 0) return -1;
  int v = hex(s[1]) * 16 + hex(s[2]);
  return v ? v : -1;
}

/* The reference for decode_unescape: a fresh decoded copy of s. */
static char *ref_unescape(const char *s) {
  size_t n = strlen(s);
  char *out = malloc(n + 1), *w = out;
  if(!out) return NULL;
  for(const char *r = s; *r;) {
    int v = escape_at(r, s + n);
    if(v > 0) {
      *w++ = (char)v;
      r += 3;
    } else {
      *w++ = *r++;
    }
  }
  *w = '\0';
  return out;
}

/* The reference for decode_form_field: 1 and out, or 0. */
static int ref_form_field(const char *body, size_t len, const char *name, char *out, size_t size) {
  const char *end = body + len;
  for(const char *pair = body; pair < end;) {
    const char *stop = memchr(pair, '&', (size_t)(end - pair));
    if(!stop) stop = end;
    const char *eq = memchr(pair, '=', (size_t)(stop - pair));
    if(eq && (size_t)(eq - pair) == strlen(name) && memcmp(pair, name, strlen(name)) == 0) {
      size_t o = 0;
      for(const char *r = eq + 1; r < stop;) {
        int v;
        if(*r == '%') {
          if((v = escape_at(r, stop)) < 0) return 0;
          r += 3;
        } else {
          v = *r == '+' ? ' ' : (unsigned char)*r;
          r++;
        }
        if(o + 1 >= size) return 0;
        out[o++] = (char)v;
      }
      out[o] = '\0';
      return 1;
    }
    pair = stop + 1;
  }
  return 0;
}

static void check_arg(const char *key, const char *value) {
  if(strcmp(key, "page") == 0) {
    int64_t v = decode_arg_int(value, 1, 1, 1000000);
    if(v < 1 || v > 1000000) abort();
  } else if(strcmp(key, "from") == 0 || strcmp(key, "to") == 0) {
    int64_t day;
    char back[11];
    if(stats_day_parse(value, &day) == SQR_OK) {
      stats_day_format(day, back);
      if(strcmp(back, value) != 0) abort();
    }
  } else if(strcmp(key, "store") == 0 && livecode_store_id_valid(value)) {
    size_t n = strlen(value);
    if(n < 1 || n > 16 || strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != n) abort();
  }
}

/* Our callback on one key or value, checked against the reference. */
static void unescape_checked(char *s) {
  char *want = ref_unescape(s);
  size_t n = decode_unescape(s);
  if(want && (n != strlen(s) || strcmp(s, want) != 0)) abort();
  free(want);
}

static void check_form(const char *body, size_t len, const char *name, size_t size) {
  char got[AUTH_PASSWORD_MAX + 2], want[AUTH_PASSWORD_MAX + 2];
  memset(got, 'x', sizeof got);
  int ok = decode_form_field(body, len, name, got, size);
  int ref = ref_form_field(body, len, name, want, size);
  if(ok != ref) abort();
  if(ok && (strlen(got) >= size || strcmp(got, want) != 0)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  log_set_level(LOG_FATAL);
  const uint8_t *nl = memchr(data, '\n', size);
  size_t qlen = nl ? (size_t)(nl - data) : size;
  char *query = malloc(qlen + 1);
  if(!query) return 0;
  memcpy(query, data, qlen);
  query[qlen] = '\0';
  for(char *arg = query, *next; arg; arg = next) {
    next = strchr(arg, '&');
    if(next) *next++ = '\0';
    char *value = strchr(arg, '=');
    if(value) *value++ = '\0';
    for(char *p = arg; *p; p++)
      if(*p == '+') *p = ' ';
    for(char *p = value; p && *p; p++)
      if(*p == '+') *p = ' ';
    unescape_checked(arg);
    if(value) unescape_checked(value);
    check_arg(arg, value);
  }
  free(query);
  if(nl) {
    /* an exact copy, so a read past the body's end is seen */
    size_t blen = size - qlen - 1;
    char *body = malloc(blen ? blen : 1);
    if(!body) return 0;
    memcpy(body, nl + 1, blen);
    check_form(body, blen, "user", 64);
    check_form(body, blen, "password", AUTH_PASSWORD_MAX + 2);
    check_form(body, blen, "user", 2); /* a bound the fuzzer can reach */
    free(body);
  }
  return 0;
}
